// npm run sandbox -- up [--hosts N] | deploy [--unhealthy] | rollback [<release-id>] | status | down
// A local disposable VPS (Debian + OpenSSH in its own namespaces), provisioned with a stack's own steps and
// deployed to with the generated workflow scripts. Linux, as root.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { PipelineConfig } from "../config/types";
import {
  type DeployKeyPair,
  type RunnerFiles,
  buildArtifact,
  callAgent,
  generateDeployKey,
  newReleaseId,
  printProgressLine,
  provisionHost,
  rollbackRelease,
  shipRelease,
  stackOnHosts,
  writeRunnerFiles,
} from "../sandbox";
import { type HostHandle, createHost, destroyHost, loadHandle } from "../testhost";

const STATE_DIR = resolve(".sandbox");
const STATE_FILE = join(STATE_DIR, "state.json");
const OWNER = "sandbox";

interface SandboxState {
  hosts: string[];
  deployKey: DeployKeyPair;
}

function readState(): SandboxState {
  if (!existsSync(STATE_FILE)) throw new Error("no sandbox is up (run: npm run sandbox -- up)");
  return JSON.parse(readFileSync(STATE_FILE, "utf8")) as SandboxState;
}

function sandbox(state: SandboxState): { hosts: HostHandle[]; config: PipelineConfig; files: RunnerFiles } {
  const hosts = state.hosts.map(loadHandle);
  const config = stackOnHosts(hosts);
  return { hosts, config, files: writeRunnerFiles(config, state.deployKey.privateKey, STATE_DIR) };
}

async function up(hostCount: number): Promise<void> {
  if (existsSync(STATE_FILE)) throw new Error("a sandbox is already up (npm run sandbox -- down first)");
  mkdirSync(STATE_DIR, { recursive: true });
  const hosts: HostHandle[] = [];
  for (let i = 0; i < hostCount; i++) hosts.push(await createHost({ owner: OWNER }));
  const state: SandboxState = {
    hosts: hosts.map((h) => h.name),
    deployKey: generateDeployKey("pipeline-ci-0"),
  };
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2), { mode: 0o600 });
  const config = stackOnHosts(hosts);
  for (const host of hosts) {
    console.log(`provisioning ${host.address} ...`);
    const runs = await provisionHost(host, config, {
      npmRegistry: host.npmRegistry,
      appEnv: "GREETING=hello from the sandbox\n",
      deployPublicKey: state.deployKey.publicKey,
    });
    for (const run of runs) console.log(`  ${run.name.padEnd(28)} ${(run.milliseconds / 1000).toFixed(1)} s`);
  }
  await deploy(false);
}

/** The runner script's output as it arrives, in order, without pm2's process tables. */
function live(): (line: string) => void {
  return printProgressLine((text) => process.stdout.write(text));
}

async function deploy(unhealthy: boolean): Promise<void> {
  const { config, files } = sandbox(readState());
  const releaseId = newReleaseId();
  const artifact = buildArtifact(config, { label: releaseId, healthy: !unhealthy });
  const result = await shipRelease(config, files, artifact, releaseId, "octocat", live());
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
    console.log(
      `\n${host.address}  app: http://${host.address}:${config.app.port}/  health: http://${host.address}:${config.app.port}${config.app.healthPath}`,
    );
    console.log(`releases (* = current):\n${releases.stdout.trimEnd() || releases.stderr.trimEnd()}`);
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
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { hosts: { type: "string", default: "1" }, unhealthy: { type: "boolean", default: false } },
  });
  if (process.platform !== "linux" || process.getuid?.() !== 0)
    throw new Error("the sandbox needs Linux and root (it creates namespaces)");
  const [verb, argument] = positionals;
  switch (verb) {
    case "up":
      return up(Number(values.hosts));
    case "deploy":
      return deploy(values.unhealthy);
    case "rollback":
      return rollback(argument);
    case "status":
      return status();
    case "down":
      return down();
    default:
      throw new Error(
        "usage: npm run sandbox -- up [--hosts N] | deploy [--unhealthy] | rollback [<release-id>] | status | down",
      );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
