// Runs the runner-side scripts (src/render/runner: ship, rollback, migrate, backup, restore), verbatim, against real hosts:
// OpenSSH with the deploy key and the pinned known_hosts, exactly as the workflow's run: step does.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineConfig } from "../config/types";
import { knownHostsFile, knownHostsLine } from "../render/knownHosts";
import { type HostLoopVariable, hostList, hostLoopEnvironment } from "../render/runner/hostLoopEnvironment";
import { type BackupInputs, renderBackupScript } from "../render/runner/backupScript";
import { type MigrateInputs, renderMigrateScript } from "../render/runner/migrateScript";
import { type RestoreInputs, renderRestoreScript } from "../render/runner/restoreScript";
import { type RollbackInputs, renderRollbackScript } from "../render/runner/rollbackScript";
import { type ShipInputs, renderShipScript } from "../render/runner/shipScript";
import { runCollecting, runStreaming, type ScriptResult } from "./childProcess";

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
  writeFileSync(known, knownHostsFile(config.hosts.map((h) => knownHostsLine(h.host, h.port, h.hostKey))));
  return { keyFile, knownHostsFile: known };
}

/** What the workflow's step environment holds, with the stack's hosts and the local runner files. */
function hostLoopEnv(config: PipelineConfig, files: RunnerFiles): Record<HostLoopVariable, string> {
  return hostLoopEnvironment({
    hosts: hostList(config.hosts),
    deployUser: config.deployUser,
    keyFile: files.keyFile,
    knownHostsFile: files.knownHostsFile,
  });
}

/** The whole environment of a runner-side script: a minimal PATH and HOME, as on a runner, plus its variables. */
function scriptEnv(variables: Record<string, string | undefined>): Record<string, string> {
  const base = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root" };
  const set = Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return { ...base, ...Object.fromEntries(set) };
}

/** A runner script's environment: the host-loop variables of `config` and `files`, and the script's own inputs. */
function runnerEnv<Inputs extends Partial<Record<keyof Inputs, string>>>(
  config: PipelineConfig,
  files: RunnerFiles,
  inputs: Inputs,
): Record<string, string> {
  const own: Record<string, string | undefined> = { ...inputs };
  return scriptEnv({ ...hostLoopEnv(config, files), ...own });
}

/** The ship script and its environment, for callers that run it themselves (e.g. to read its output live). */
export function shipInvocation(
  config: PipelineConfig,
  files: RunnerFiles,
  inputs: ShipInputs,
): { script: string; env: Record<string, string> } {
  return { script: renderShipScript(config), env: runnerEnv(config, files, inputs) };
}

/** Hands each output line to `onLine` as it arrives when given; the result holds the whole output either way. */
export type OnLine = ((line: string) => void) | undefined;

function runScript(script: string, env: Record<string, string>, onLine?: OnLine): Promise<ScriptResult> {
  return onLine
    ? runStreaming("bash", ["-c", script], { env, onLine })
    : runCollecting("bash", ["-c", script], { env });
}

export function shipRelease(
  config: PipelineConfig,
  files: RunnerFiles,
  artifact: string,
  releaseId: string,
  actor = "octocat",
  onLine?: OnLine,
): Promise<ScriptResult> {
  const { script, env } = shipInvocation(config, files, {
    ARTIFACT: artifact,
    RELEASE_ID: releaseId,
    ACTOR: actor,
  });
  return runScript(script, env, onLine);
}

export function rollbackRelease(
  config: PipelineConfig,
  files: RunnerFiles,
  target?: string,
  actor = "octocat",
  onLine?: OnLine,
): Promise<ScriptResult> {
  const inputs: RollbackInputs = { ACTOR: actor, ...(target ? { TARGET_RELEASE: target } : {}) };
  return runScript(renderRollbackScript(config), runnerEnv(config, files, inputs), onLine);
}

export function migrateAction(
  config: PipelineConfig,
  files: RunnerFiles,
  action: "migrate" | "rollback" | "status",
  actor = "octocat",
  maintenance = false,
  onLine?: OnLine,
): Promise<ScriptResult> {
  const inputs: MigrateInputs = {
    ACTOR: actor,
    MIGRATE_ACTION: action,
    MIGRATE_MAINTENANCE: String(maintenance),
  };
  return runScript(renderMigrateScript(config), runnerEnv(config, files, inputs), onLine);
}

/** A backup now, kept on the first host (no bucket here: the sandbox has no S3). */
export function backupNow(
  config: PipelineConfig,
  files: RunnerFiles,
  actor = "octocat",
  onLine?: OnLine,
): Promise<ScriptResult> {
  const inputs: BackupInputs = { ACTOR: actor };
  return runScript(renderBackupScript(config), runnerEnv(config, files, inputs), onLine);
}

/** Restores the first host's local copy of `backupId`; `confirm`: even though maintenance mode is off. */
export function restoreBackup(
  config: PipelineConfig,
  files: RunnerFiles,
  backupId: string,
  confirm: boolean,
  actor = "octocat",
  onLine?: OnLine,
): Promise<ScriptResult> {
  const inputs: RestoreInputs = { ACTOR: actor, BACKUP_ID: backupId, RESTORE_CONFIRM: String(confirm) };
  return runScript(renderRestoreScript(config), runnerEnv(config, files, inputs), onLine);
}
