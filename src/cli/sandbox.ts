// npm run sandbox -- up | deploy | rollback [<release-id>] | status | down, with the example app, or with your own
// stack file (--stack <name> | --config <file>) and app (--app <dir> | --artifact <file.tgz>); then shell, logs,
// backup, backups, restore, migrate, maintenance (src/sandbox/teamVerbs.ts); --help for the command and each verb
// (the verbs and options: src/sandbox/commandLine.ts).
// A local disposable VPS (Debian + OpenSSH in its own namespaces), provisioned with a stack's own steps and
// deployed to with the generated workflow scripts. Linux, as root.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { hostDatabase } from "../config/databaseSchema";
import type { PipelineConfig } from "../config/types";
import {
  type DeployKeyPair,
  type ReleaseSource,
  type RunnerFiles,
  type SandboxOptions,
  callAgent,
  deploySourceOf,
  generateDeployKey,
  ignoredHostKeysNote,
  neverHealthyReport,
  newReleaseId,
  parseSandboxCommand,
  printProgressLine,
  provisionHost,
  releaseArtifact,
  releaseSourceOf,
  rollbackRelease,
  runTeamVerb,
  sandboxDatabasePassword,
  shipRelease,
  stackFileOf,
  stackHostCount,
  stackOnHosts,
  userStackBeforeHosts,
  userStackOnHosts,
  writeRunnerFiles,
} from "../sandbox";
import { CADDY_LOCAL_ROOT_CA } from "../render/shell/steps/reverseProxy";
import { type HostHandle, connect, createHost, destroyHost, loadHandle } from "../testhost";

const STATE_DIR = resolve(process.env["PIPELINE_SANDBOX_DIR"] ?? ".sandbox");
const STATE_FILE = join(STATE_DIR, "state.json");
const OWNER = `${process.env["PIPELINE_HOST_OWNER_PREFIX"] ?? ""}sandbox`;
const EXAMPLE_APP_ENV = "GREETING=hello from the sandbox\n";

interface SandboxState {
  hosts: string[];
  deployKey: DeployKeyPair;
  /** The user's stack file; none: the example app's stack. */
  stackFile?: string;
  /** What `deploy` builds when given neither --app nor --artifact. */
  appDir?: string;
}

function readState(): SandboxState {
  if (!existsSync(STATE_FILE)) throw new Error("no sandbox is up (run: npm run sandbox -- up)");
  return JSON.parse(readFileSync(STATE_FILE, "utf8")) as SandboxState;
}

/** A later verb's --stack/--config must name the stack the sandbox was brought up with. */
function requireSameStack(state: SandboxState, options: SandboxOptions): void {
  if (options.stack === undefined && options.config === undefined) return;
  const given = stackFileOf(options);
  if (given !== state.stackFile)
    throw new Error(
      `the sandbox is up with ${state.stackFile ?? "the example app's stack"}, not ${given} (npm run sandbox -- down first)`,
    );
}

function configOf(state: SandboxState, hosts: readonly HostHandle[]): PipelineConfig {
  return state.stackFile ? userStackOnHosts(state.stackFile, hosts) : stackOnHosts(hosts);
}

function sandbox(state: SandboxState): { hosts: HostHandle[]; config: PipelineConfig; files: RunnerFiles } {
  const hosts = state.hosts.map(loadHandle);
  const config = configOf(state, hosts);
  return { hosts, config, files: writeRunnerFiles(config, state.deployKey.privateKey, STATE_DIR) };
}

async function up(options: SandboxOptions): Promise<void> {
  if (existsSync(STATE_FILE)) throw new Error("a sandbox is already up (npm run sandbox -- down first)");
  const stackFile =
    options.stack !== undefined || options.config !== undefined ? stackFileOf(options) : undefined;
  const source = releaseSourceOf(options);
  const appEnv = options["env-file"] !== undefined ? readFileSync(options["env-file"], "utf8") : undefined;
  let artifact: string | undefined;
  const releaseId = newReleaseId();
  if (stackFile !== undefined) {
    if (source.kind === "example")
      throw new Error(`--stack/--config deploy your own app: add --app <dir> or --artifact <file.tgz>`);
    // Config errors and a failing build stop here, before any host exists.
    const stackConfig = userStackBeforeHosts(stackFile);
    const note = ignoredHostKeysNote(stackFile);
    if (note !== undefined) console.log(note);
    console.log(`building ${source.kind === "app" ? source.dir : source.file} ...`);
    artifact = releaseArtifact(stackConfig, source, releaseId);
  }
  const hostCount = Number(options.hosts ?? (stackFile ? stackHostCount(stackFile) : 1));
  if (!Number.isInteger(hostCount) || hostCount < 1 || hostCount > 20)
    throw new Error("--hosts takes a number from 1 to 20");
  mkdirSync(STATE_DIR, { recursive: true });
  const hosts: HostHandle[] = [];
  for (let i = 0; i < hostCount; i++) hosts.push(await createHost({ owner: OWNER }));
  const state: SandboxState = {
    hosts: hosts.map((h) => h.name),
    deployKey: generateDeployKey("pipeline-ci-0"),
    ...(stackFile !== undefined ? { stackFile } : {}),
    ...(source.kind === "app" ? { appDir: source.dir } : {}),
  };
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2), { mode: 0o600 });
  const config = configOf(state, hosts);
  // A stack with the database group gets its database here, before the first deploy, as `pulumi up` gives it.
  const databasePassword = hostDatabase(config) ? sandboxDatabasePassword(STATE_DIR) : undefined;
  for (const host of hosts) {
    console.log(`provisioning ${host.address} ...`);
    const runs = await provisionHost(host, config, {
      npmRegistry: host.npmRegistry,
      appEnv: appEnv ?? (stackFile ? undefined : EXAMPLE_APP_ENV),
      deployPublicKey: state.deployKey.publicKey,
      ...(databasePassword !== undefined ? { databasePassword } : {}),
    });
    for (const run of runs) console.log(`  ${run.name.padEnd(28)} ${(run.milliseconds / 1000).toFixed(1)} s`);
  }
  await ship(state, source, artifact === undefined ? undefined : { releaseId, artifact });
}

/** The runner script's output as it arrives, in order, without pm2's process tables. */
function live(): (line: string) => void {
  return printProgressLine((text) => process.stdout.write(text));
}

async function ship(
  state: SandboxState,
  source: ReleaseSource,
  built?: { releaseId: string; artifact: string },
): Promise<void> {
  const { hosts, config, files } = sandbox(state);
  const releaseId = built?.releaseId ?? newReleaseId();
  const artifact = built?.artifact ?? releaseArtifact(config, source, releaseId);
  const result = await shipRelease(config, files, artifact, releaseId, "octocat", live());
  const report = await neverHealthyReport(config, hosts, result.code, result.stdout);
  if (report !== undefined) console.error(`\n${report}`);
  await status();
  if (result.code !== 0) process.exitCode = 1;
}

async function rollback(target: string | undefined): Promise<void> {
  const { config, files } = sandbox(readState());
  const result = await rollbackRelease(config, files, target, "octocat", live());
  await status();
  if (result.code !== 0) process.exitCode = 1;
}

async function status(): Promise<void> {
  const { hosts, config, files } = sandbox(readState());
  for (const host of hosts) {
    const releases = await callAgent(host, config.deployUser, files, "releases");
    const caFile = await saveLocalCa(host);
    const site = new URL(config.url);
    // Every host's proxy serves the url's name; for the hosts after the first, curl is told where it is.
    const resolveFlag =
      site.hostname === host.address ? "" : ` --resolve ${site.hostname}:443:${host.address}`;
    console.log(`\n${host.address}  ${config.url}/ through the proxy (HTTPS, the host's own local CA)`);
    console.log(`  trust that CA for curl:  export CURL_CA_BUNDLE=${caFile}`);
    console.log(`  then:                    curl${resolveFlag} ${config.url}${config.app.healthPath}`);
    const agentStatus = await callAgent(host, config.deployUser, files, "status");
    // Side by side, the release the proxy serves runs on app.port or the next one: the agent's status says which.
    const serving = /^port (\d+): .*\(the proxy sends requests here\)$/m.exec(agentStatus.stdout)?.[1];
    console.log(`  the app past the proxy:  http://${host.address}:${serving ?? config.app.port}/`);
    console.log(`releases (* = current):\n${releases.stdout.trimEnd() || releases.stderr.trimEnd()}`);
  }
}

/** The root certificate of the host's Caddy CA (ingress.tls internal), copied next to the sandbox's state. */
async function saveLocalCa(host: HostHandle): Promise<string> {
  const session = await connect(host);
  try {
    const read = await session.exec(`cat ${CADDY_LOCAL_ROOT_CA}`);
    if (read.code !== 0)
      throw new Error(`cannot read ${CADDY_LOCAL_ROOT_CA} on ${host.address}: ${read.stderr}`);
    const file = join(STATE_DIR, `${host.address}-ca.crt`);
    writeFileSync(file, read.stdout);
    return file;
  } finally {
    session.end();
  }
}

async function down(): Promise<void> {
  if (!existsSync(STATE_FILE)) {
    console.log("no sandbox is up");
    return;
  }
  for (const name of readState().hosts) await destroyHost({ name });
  rmSync(STATE_DIR, { recursive: true, force: true });
  console.log("sandbox destroyed");
}

async function main(): Promise<void> {
  const command = parseSandboxCommand(process.argv.slice(2));
  if (command.kind === "help") {
    console.log(command.text);
    return;
  }
  if (process.platform !== "linux" || process.getuid?.() !== 0)
    throw new Error("the sandbox needs Linux and root (it creates namespaces)");
  const { verb, argument, options } = command;
  if (verb !== "up" && verb !== "down" && existsSync(STATE_FILE)) requireSameStack(readState(), options);
  switch (verb) {
    case "up":
      return up(options);
    case "deploy": {
      const state = readState();
      return ship(state, deploySourceOf(state, options));
    }
    case "rollback":
      return rollback(argument);
    case "status":
      return status();
    case "down":
      return down();
    case "shell":
    case "logs":
    case "backup":
    case "backups":
    case "restore":
    case "migrate":
    case "maintenance":
      process.exitCode = await runTeamVerb(
        { ...sandbox(readState()), stateDir: STATE_DIR },
        verb,
        argument,
        options,
        live(),
      );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
