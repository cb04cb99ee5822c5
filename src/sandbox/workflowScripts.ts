// Runs the deploy/rollback/migrate scripts of the generated workflows, verbatim, against real hosts:
// OpenSSH with the deploy key and the pinned known_hosts, exactly as the workflow's run: step does.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineConfig } from "../config/types";
import { knownHostsFile, knownHostsLine } from "../render/knownHosts";
import { renderMigrateScript } from "../render/workflows/migrate";
import { renderRollbackScript } from "../render/workflows/rollback";
import { renderShipScript } from "../render/workflows/shipScript";
import { runCollecting, type ScriptResult } from "./childProcess";

export type { ScriptResult };

export interface RunnerFiles {
  keyFile: string;
  knownHostsFile: string;
}

/** The files the workflow's "Write deploy key and pinned known_hosts" step writes. */
export function writeRunnerFiles(
  config: PipelineConfig,
  deployPrivateKey: string,
  dir = mkdtempSync(join(tmpdir(), "runner-")),
): RunnerFiles {
  const keyFile = join(dir, "deploy_key");
  const known = join(dir, "known_hosts");
  writeFileSync(keyFile, deployPrivateKey.endsWith("\n") ? deployPrivateKey : `${deployPrivateKey}\n`, {
    mode: 0o600,
  });
  writeFileSync(
    known,
    knownHostsFile(config.hosts.map((h) => knownHostsLine(h.host, h.port, h.hostKey ?? ""))),
  );
  return { keyFile, knownHostsFile: known };
}

function workflowEnv(config: PipelineConfig, files: RunnerFiles, actor: string): Record<string, string> {
  return {
    DEPLOY_HOSTS: config.hosts.map((h) => `${h.host}:${h.port}`).join(" "),
    DEPLOY_USER: config.deployUser,
    SSH_KEY_FILE: files.keyFile,
    KNOWN_HOSTS_FILE: files.knownHostsFile,
    ACTOR: actor,
  };
}

export function runScript(script: string, env: Record<string, string>): Promise<ScriptResult> {
  const base = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root" };
  return runCollecting("bash", ["-c", script], { env: { ...base, ...env } });
}

export function shipRelease(
  config: PipelineConfig,
  files: RunnerFiles,
  artifact: string,
  releaseId: string,
  actor = "octocat",
): Promise<ScriptResult> {
  return runScript(renderShipScript(config), {
    ...workflowEnv(config, files, actor),
    ARTIFACT: artifact,
    RELEASE_ID: releaseId,
  });
}

export function rollbackRelease(
  config: PipelineConfig,
  files: RunnerFiles,
  target?: string,
  actor = "octocat",
): Promise<ScriptResult> {
  return runScript(renderRollbackScript(config), {
    ...workflowEnv(config, files, actor),
    ...(target ? { TARGET_RELEASE: target } : {}),
  });
}

export function migrateAction(
  config: PipelineConfig,
  files: RunnerFiles,
  action: "migrate" | "rollback" | "status",
  actor = "octocat",
): Promise<ScriptResult> {
  return runScript(renderMigrateScript(config), {
    ...workflowEnv(config, files, actor),
    MIGRATE_ACTION: action,
  });
}
