// Tearing hosts down, by name alone, so any process (or the next run after a crash) can do it.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { HostHandle } from "./handle";
import {
  deleteNetwork,
  hostNetwork,
  indexOfHostName,
  listNetnsNames,
  listVethIndexes,
  pidsInNetns,
} from "./network";
import { hostStateDir, HOST_NAME_PREFIX, OWNER_FILE, STATE_DIR } from "./paths";
import { commandLineOf, isAlive, killQuietly, pidsWithArguments, sleepSync } from "./processes";
import { attempt } from "./attempt";

function killUntilGone(pidsNow: () => number[], what: string): void {
  for (let round = 0; round < 200; round++) {
    const pids = pidsNow();
    if (pids.length === 0) return;
    for (const pid of pids) killQuietly(pid, "SIGKILL");
    sleepSync(25);
  }
  throw new Error(`could not end ${what}: pids ${pidsNow().join(" ")} survive SIGKILL`);
}

function isProxyProcess(pid: number): boolean {
  return commandLineOf(pid).some((argument) => argument.endsWith("testhost/proxy.ts"));
}

function proxyPidsOf(name: string): number[] {
  return pidsWithArguments(["--name", name]).filter((pid) => isAlive(pid) && isProxyProcess(pid));
}

/**
 * Tears a host down by name alone, so leftovers of a crashed run can be removed without their handle.
 * SIGKILL throughout: `unshare --fork` ignores SIGTERM, and killing the guest's PID 1 ends everything inside,
 * which also drops the guest's mounts (they exist only in its own mount namespace).
 */
export function destroyHostByName(name: string): void {
  const index = indexOfHostName(name);
  if (index === undefined)
    throw new Error(`"${name}" is not a disposable host name (${HOST_NAME_PREFIX}<N>)`);
  const network = hostNetwork(index);
  killUntilGone(() => pidsInNetns(network.netns), `the processes of ${name}`);
  killUntilGone(() => proxyPidsOf(network.netns), `the proxy of ${name}`);
  deleteNetwork(network);
  rmSync(hostStateDir(name), { recursive: true, force: true });
}

/** Synchronous, so it also works in a process `exit` handler. Idempotent. */
export function destroyHostSync(handle: Pick<HostHandle, "name">): void {
  destroyHostByName(handle.name);
}

export async function destroyHost(handle: Pick<HostHandle, "name">): Promise<void> {
  await Promise.resolve();
  destroyHostSync(handle);
}

function ownerOf(name: string): string | undefined {
  try {
    return readFileSync(path.join(hostStateDir(name), OWNER_FILE), "utf8");
  } catch {
    return undefined;
  }
}

/** Names of every host on the machine: live ones and the debris of crashed runs (netns, veth, proxy, state dir). */
function listHostNames(): string[] {
  const names = new Set<string>();
  for (const name of listNetnsNames()) if (indexOfHostName(name) !== undefined) names.add(name);
  for (const index of listVethIndexes()) names.add(hostNetwork(index).netns);
  const stateEntries = attempt(() => readdirSync(STATE_DIR), []);
  for (const name of stateEntries) if (indexOfHostName(name) !== undefined) names.add(name);
  for (const pid of pidsWithArguments(["--name"])) {
    const argv = commandLineOf(pid);
    const name = argv[argv.indexOf("--name") + 1];
    if (name && indexOfHostName(name) !== undefined && isProxyProcess(pid)) names.add(name);
  }
  return [...names].sort();
}

/**
 * Destroys every host, or with `owner` only that owner's hosts plus debris that has no owner at all
 * (a state dir is created first and removed last, so debris without one belongs to nobody alive).
 */
export function destroyAllHosts(options: { owner?: string } = {}): string[] {
  const destroyed: string[] = [];
  for (const name of listHostNames()) {
    const owner = ownerOf(name);
    if (options.owner !== undefined && owner !== undefined && owner !== options.owner) continue;
    destroyHostByName(name);
    destroyed.push(name);
  }
  return destroyed;
}
