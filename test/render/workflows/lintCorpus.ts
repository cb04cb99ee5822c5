// What the lint tests check: every rendered workflow of the fixture stacks and this repository's own workflows,
// plus helpers that run shellcheck on `run:` blocks and apply this project's own workflow rules.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { WORKFLOW_DIR } from "../../../src/render/githubNames";
import { renderShipScript } from "../../../src/render/runner/shipScript";
import { renderMigrateScript } from "../../../src/render/runner/migrateScript";
import { renderRollbackScript } from "../../../src/render/runner/rollbackScript";
import { renderBackupScript } from "../../../src/render/runner/backupScript";
import { renderRestoreScript } from "../../../src/render/runner/restoreScript";
import { ALL_CONFIGS, allRenderedFiles, type ParsedWorkflow } from "./fixtures";

export interface LintedFile {
  /** Unique label, e.g. `qa:.github/workflows/deploy-qa.yml`. */
  label: string;
  content: string;
}

const ROOT = join(__dirname, "../../..");

export function ownWorkflowFiles(): LintedFile[] {
  const dir = join(ROOT, WORKFLOW_DIR);
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
    .map((name) => ({
      label: `repo:${WORKFLOW_DIR}/${name}`,
      content: readFileSync(join(dir, name), "utf8"),
    }));
}

export function renderedWorkflowFiles(): LintedFile[] {
  return allRenderedFiles()
    .filter((file) => file.path.startsWith(`${WORKFLOW_DIR}/`))
    .map((file) => ({ label: `${file.stack}:${file.path}`, content: file.content }));
}

export function allWorkflowFiles(): LintedFile[] {
  return [...renderedWorkflowFiles(), ...ownWorkflowFiles()];
}

export function generatedScripts(): LintedFile[] {
  return ALL_CONFIGS().flatMap((config) => [
    { label: `${config.stack}:ship`, content: renderShipScript(config) },
    { label: `${config.stack}:rollback`, content: renderRollbackScript(config) },
    { label: `${config.stack}:migrate`, content: renderMigrateScript(config) },
    { label: `${config.stack}:backup`, content: renderBackupScript(config) },
    { label: `${config.stack}:restore`, content: renderRestoreScript(config) },
  ]);
}

export interface RunBlock {
  label: string;
  script: string;
}

export function runBlocks(file: LintedFile): RunBlock[] {
  const workflow = parse(file.content) as ParsedWorkflow;
  return Object.entries(workflow.jobs ?? {}).flatMap(([jobId, job]) =>
    (job.steps ?? []).flatMap((step, index) =>
      step.run === undefined
        ? []
        : [{ label: `${file.label} jobs.${jobId}.steps[${index}]`, script: step.run }],
    ),
  );
}

/**
 * How Actions runs a `shell: bash` step (`bash --noprofile --norc -eo pipefail {0}`), with each `${{ }}`
 * replaced by a variable so that shellcheck sees valid shell.
 */
export function asBashFile(script: string): string {
  const withoutExpressions = script.replace(/\$\{\{[\s\S]*?\}\}/g, "${GITHUB_EXPRESSION}");
  return `#!/bin/bash\nset -eo pipefail\n${withoutExpressions}\n`;
}

export interface ShellcheckFinding {
  line: number;
  code: number;
  level: string;
  message: string;
}

export function shellcheckAvailable(): boolean {
  return spawnSync("shellcheck", ["--version"], { encoding: "utf8" }).status === 0;
}

/** Every finding, style level included. */
export function shellcheck(bash: string): ShellcheckFinding[] {
  const result = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "--format=json1", "-"], {
    input: bash,
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  const report = JSON.parse(result.stdout || '{"comments":[]}') as { comments: ShellcheckFinding[] };
  return report.comments.map(({ line, code, level, message }) => ({ line, code, level, message }));
}
