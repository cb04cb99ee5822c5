// The GitHub objects one stack manages, by identity. The render CLI prints them; the stack tests compare them
// with the resources the program registers and prove that two stacks never manage the same object.
import type { PipelineConfig } from "../config/types";
import { programBranchPrefix } from "./fileDelivery";
import { AWS_BACKUP_VARS, ENV_SECRETS, ENV_VARS, REPO_SECRETS } from "./githubNames";
import { renderRepositoryFiles } from "./workflows";

export type ManagedKind =
  | "environment"
  | "deployment-branch-policy"
  | "environment-secret"
  | "environment-variable"
  | "repository-secret"
  | "branch-protection"
  | "file"
  | "program-branch"
  | "pull-request";

/** Stands for the generation part of a program branch's name, which depends on the repository's content. */
export const GENERATION = "<generation>";

export interface ManagedObject {
  kind: ManagedKind;
  /** Identity within the repository: two stacks must never share one. */
  id: string;
  detail: string;
}

export function managedGitHubObjects(config: PipelineConfig): ManagedObject[] {
  const env = config.environment;
  const objects: ManagedObject[] = [
    { kind: "environment", id: env, detail: environmentDetail(config) },
    {
      kind: "deployment-branch-policy",
      id: `${env}:${config.branch}`,
      detail: `only '${config.branch}' deploys`,
    },
    ...Object.values(ENV_SECRETS).map((name) => ({
      kind: "environment-secret" as const,
      id: `${env}:${name}`,
      detail: "",
    })),
    ...environmentVariableNames(config).map((name) => ({
      kind: "environment-variable" as const,
      id: `${env}:${name}`,
      detail: "",
    })),
  ];
  if (config.ownsRepositorySettings && config.notifications.webhook) {
    objects.push({ kind: "repository-secret", id: REPO_SECRETS.notificationWebhook, detail: "" });
  }
  if (config.protection.enabled) {
    objects.push({ kind: "branch-protection", id: config.branch, detail: protectionDetail(config) });
  }
  const files = renderRepositoryFiles(config);
  const base = config.files.baseBranch ?? "the default branch";
  const direct = config.files.mode === "direct";
  for (const file of files) {
    const via = direct ? `committed to ${base}` : "via pull request";
    objects.push({ kind: "file", id: file.path, detail: `${file.scope} scope; ${via}` });
  }
  if (!direct && files.length > 0) {
    // Only while the base branch differs from the rendered files; a new generation replaces both.
    const head = `${programBranchPrefix(config)}/${GENERATION}`;
    objects.push({ kind: "program-branch", id: head, detail: `from ${base}; while ${base} differs` });
    objects.push({ kind: "pull-request", id: head, detail: `into ${base}` });
  }
  return objects;
}

/** The variables of the stack's environment: the deploy ones, and with aws.backupBucket the backup ones. */
export function environmentVariableNames(config: Pick<PipelineConfig, "aws">): string[] {
  return [
    ...Object.values(ENV_VARS),
    ...(config.aws?.backupBucket !== undefined ? Object.values(AWS_BACKUP_VARS) : []),
  ];
}

function environmentDetail(config: PipelineConfig): string {
  const reviewers = config.reviewers.length > 0 ? `reviewers ${config.reviewers.join(", ")}` : "no reviewers";
  return `${reviewers}; wait ${config.waitTimer} min; ${config.preventSelfReview ? "no self-review" : "self-review allowed"}; ${config.url}`;
}

function protectionDetail(config: PipelineConfig): string {
  const p = config.protection;
  return `${p.requiredApprovals} approval(s); checks required${p.strictStatusChecks ? ", up to date" : ""}${p.requireLinearHistory ? "; linear" : ""}${p.enforceAdmins ? "; admins included" : ""}`;
}

export function formatObjectTable(objects: readonly ManagedObject[]): string {
  const rows = objects.map((o) => [o.kind, o.id, o.detail]);
  const header = ["kind", "object", "detail"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
