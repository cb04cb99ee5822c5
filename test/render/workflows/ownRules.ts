// This project's own workflow rules (docs/invariants.md #7 and #8), applied to YAML text.
import { parse } from "yaml";
import type { ParsedWorkflow } from "./fixtures";

const PINNED_USES = /^\s*(- )?uses: [A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}$/;
const LOCAL_USES = /^\s*(- )?uses: \.\/\S+$/;
const USER_CONTROLLED_IN_EXPRESSION = /\$\{\{[^}]*\b(inputs\.|github\.event\.|github\.head_ref)/;

function usesFindings(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => /^\s*(- )?uses:/.test(line))
    .filter((line) => !PINNED_USES.test(line) && !LOCAL_USES.test(line))
    .map((line) => `not pinned to a commit SHA with a # vX.Y.Z comment: ${line.trim()}`);
}

function permissionFindings(workflow: ParsedWorkflow): string[] {
  const findings: string[] = [];
  const top = workflow.permissions;
  if (top === undefined || typeof top !== "object") findings.push("top-level permissions are missing");
  else if (Object.values(top).some((level) => level !== "read" && level !== "none")) {
    findings.push(`top-level permissions grant more than read: ${JSON.stringify(top)}`);
  }
  for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
    if (job.permissions === undefined) findings.push(`job ${id} has no permissions`);
    if (job.uses === undefined && job["timeout-minutes"] === undefined)
      findings.push(`job ${id} has no timeout-minutes`);
  }
  return findings;
}

function stepFindings(workflow: ParsedWorkflow): string[] {
  return Object.entries(workflow.jobs ?? {}).flatMap(([id, job]) =>
    (job.steps ?? []).flatMap((step) => {
      const where = `job ${id}, step "${step.name}"`;
      const findings: string[] = [];
      const run = step.run ?? "";
      if (USER_CONTROLLED_IN_EXPRESSION.test(run))
        findings.push(`${where}: user-controlled expression in run:`);
      if (/\bssh-keyscan\b/.test(run)) findings.push(`${where}: ssh-keyscan (trust on first use)`);
      if (/StrictHostKeyChecking=(no|accept-new)/.test(run))
        findings.push(`${where}: host key checking turned off`);
      if (step.uses?.startsWith("actions/checkout@") && step.with?.["persist-credentials"] !== false) {
        findings.push(`${where}: checkout without persist-credentials: false`);
      }
      return findings;
    }),
  );
}

export function ownRuleFindings(text: string): string[] {
  const findings = usesFindings(text);
  if (/^\s*[^#\n]*:\s+[&*][A-Za-z0-9_-]+\s*$/m.test(text)) findings.push("YAML anchors or aliases");
  const workflow = parse(text) as ParsedWorkflow;
  return [...findings, ...permissionFindings(workflow), ...stepFindings(workflow)];
}
