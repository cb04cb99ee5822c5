// What a team does with a sandbox that is up, each through what the workflows use: the backup, restore and migrate
// workflows' own runner scripts, the release agent's verbs over the deploy key, and a root shell on a host.
import type { PipelineConfig } from "../config/types";
import { agentCall } from "../render/agentProtocol";
import type { HostHandle } from "../testhost";
import { adminShell } from "./adminShell";
import { callAgent } from "./agent";
import { appLogTail } from "./appLogs";
import { DEFAULT_LOG_LINES, type SandboxOptions, type SandboxVerb } from "./commandLine";
import { chooseHost } from "./hostChoice";
import {
  type OnLine,
  type RunnerFiles,
  type ScriptResult,
  backupNow,
  migrateAction,
  restoreBackup,
} from "./runnerScripts";

/** A sandbox that is up: its hosts, its config on them and the runner's files (deploy key, pinned known_hosts). */
export interface UpSandbox {
  hosts: HostHandle[];
  config: PipelineConfig;
  files: RunnerFiles;
  stateDir: string;
}

export type TeamVerb = Exclude<SandboxVerb, "up" | "deploy" | "rollback" | "status" | "down">;

/** Who the sandbox's calls name in the audit log, as its deploys do. */
const ACTOR = "octocat";

/** `migrate [up|down|status]` -> the migrate workflow's action input. */
const MIGRATE_WORDS = { up: "migrate", down: "rollback", status: "status" } as const;

function migrateActionOf(word = "up"): (typeof MIGRATE_WORDS)[keyof typeof MIGRATE_WORDS] {
  if (!Object.hasOwn(MIGRATE_WORDS, word)) throw new Error(`migrate takes up, down or status, not ${word}`);
  return MIGRATE_WORDS[word as keyof typeof MIGRATE_WORDS];
}

/** A script or call ended by a signal has no exit code: it failed. */
const exitCode = (result: ScriptResult): number => result.code ?? 1;

function firstHost(sandbox: UpSandbox): HostHandle {
  const first = sandbox.hosts[0];
  if (first === undefined) throw new Error("the sandbox has no host (npm run sandbox -- down, then up)");
  return first;
}

async function shell(sandbox: UpSandbox, word: string | undefined): Promise<number> {
  const index = chooseHost(sandbox.config.hosts, word);
  const host = sandbox.hosts[index];
  if (host === undefined) throw new Error(`the sandbox has no host ${index + 1}`);
  const name = sandbox.config.hosts[index]?.name ?? "";
  console.error(`root shell on ${name} (${host.address}); exit to leave`);
  return adminShell(host, sandbox.stateDir);
}

async function logs(sandbox: UpSandbox, lines: number): Promise<number> {
  for (const [index, host] of sandbox.hosts.entries()) {
    console.log(`${sandbox.config.hosts[index]?.name ?? ""} (${host.address})`);
    console.log(await appLogTail(host, sandbox.config, lines));
  }
  return 0;
}

async function backups(sandbox: UpSandbox): Promise<number> {
  const host = firstHost(sandbox);
  const listed = await callAgent(host, sandbox.config.deployUser, sandbox.files, agentCall("backups"));
  if (listed.code !== 0) {
    console.error(listed.stderr.trimEnd());
    return exitCode(listed);
  }
  const where = `${host.address} (the first host: the database is shared)`;
  if (listed.stdout.trim() === "")
    console.log(`no backups on ${where} (npm run sandbox -- backup takes one)`);
  else console.log(`backups on ${where}, newest first, size in bytes:\n${listed.stdout.trimEnd()}`);
  return 0;
}

/** Every host's proxy serves the app: maintenance mode is switched (or read) on each. */
async function maintenance(sandbox: UpSandbox, mode: string): Promise<number> {
  let code = 0;
  for (const host of sandbox.hosts) {
    const call = agentCall("maintenance", { argument: mode, actor: ACTOR });
    const result = await callAgent(host, sandbox.config.deployUser, sandbox.files, call);
    console.log(`${host.address}: ${(result.stdout + result.stderr).trim()}`);
    if (code === 0) code = exitCode(result);
  }
  return code;
}

/** Runs the verb; resolves to the exit code for the command (the failure was printed). */
export async function runTeamVerb(
  sandbox: UpSandbox,
  verb: TeamVerb,
  argument: string | undefined,
  options: SandboxOptions,
  onLine: OnLine,
): Promise<number> {
  const { config, files } = sandbox;
  switch (verb) {
    case "shell":
      return shell(sandbox, argument);
    case "logs":
      return logs(sandbox, Number(options.lines ?? DEFAULT_LOG_LINES));
    case "backup":
      return exitCode(await backupNow(config, files, ACTOR, onLine));
    case "backups":
      return backups(sandbox);
    case "restore":
      if (argument === undefined) throw new Error("restore needs a backup id (see backups)");
      return exitCode(await restoreBackup(config, files, argument, options.confirm, ACTOR, onLine));
    case "migrate":
      return exitCode(await migrateAction(config, files, migrateActionOf(argument), ACTOR, false, onLine));
    case "maintenance":
      if (argument === undefined) throw new Error("maintenance needs on, off or status");
      return maintenance(sandbox, argument);
  }
}
