// Per-host network: a named netns and a veth pair on 10.200.N.0/30 (machine side .1, guest side .2).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { run, runSync, succeedsSync } from "./command";
import { HOST_NAME_PREFIX, VETH_PREFIX } from "./paths";

export const MAX_HOST_INDEX = 254;
const NETNS_DIR = "/run/netns";

export interface HostNetwork {
  index: number;
  netns: string;
  hostVeth: string;
  guestVeth: string;
  hostSideAddress: string;
  guestAddress: string;
}

export function hostNetwork(index: number): HostNetwork {
  if (!Number.isInteger(index) || index < 1 || index > MAX_HOST_INDEX)
    throw new Error(`host index ${index} out of 1..${MAX_HOST_INDEX}`);
  return {
    index,
    netns: `${HOST_NAME_PREFIX}${index}`,
    hostVeth: `${VETH_PREFIX}${index}-h`,
    guestVeth: `${VETH_PREFIX}${index}-g`,
    hostSideAddress: `10.200.${index}.1`,
    guestAddress: `10.200.${index}.2`,
  };
}

export function indexOfHostName(name: string): number | undefined {
  const match = new RegExp(`^${HOST_NAME_PREFIX}(\\d+)$`).exec(name);
  return match?.[1] ? Number(match[1]) : undefined;
}

export function listNetnsNames(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

export function listVethIndexes(): number[] {
  const output = runSync("ip", ["-o", "link", "show"]);
  const pattern = new RegExp(`^\\d+: ${VETH_PREFIX}(\\d+)-h[@:]`, "gm");
  return [...output.matchAll(pattern)].map((match) => Number(match[1]));
}

/** True when nothing on the machine already uses this index's netns, veth or subnet. */
export function isNetworkFree(network: HostNetwork): boolean {
  if (existsSync(`${NETNS_DIR}/${network.netns}`)) return false;
  if (succeedsSync("ip", ["link", "show", network.hostVeth])) return false;
  return !runSync("ip", ["-o", "addr", "show"]).includes(` 10.200.${network.index}.`);
}

export async function createNetwork(network: HostNetwork): Promise<void> {
  const { netns, hostVeth, guestVeth } = network;
  await run("ip", ["netns", "add", netns]);
  await run("ip", ["link", "add", hostVeth, "type", "veth", "peer", "name", guestVeth, "netns", netns]);
  await run("ip", ["addr", "add", `${network.hostSideAddress}/30`, "dev", hostVeth]);
  await run("ip", ["link", "set", hostVeth, "up"]);
  await run("ip", ["-n", netns, "addr", "add", `${network.guestAddress}/30`, "dev", guestVeth]);
  await run("ip", ["-n", netns, "link", "set", guestVeth, "up"]);
  await run("ip", ["-n", netns, "link", "set", "lo", "up"]);
}

export function pidsInNetns(netns: string): number[] {
  if (!existsSync(`${NETNS_DIR}/${netns}`)) return [];
  try {
    return runSync("ip", ["netns", "pids", netns]).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function isMountPoint(directory: string): boolean {
  const mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  return mountinfo.split("\n").some((line) => line.split(" ")[4] === directory);
}

/** `ip netns add` bind-mounts /run/netns on itself the first time; undo that once no namespace is left. */
function releaseNetnsDirMount(): void {
  if (listNetnsNames().length > 0 || !isMountPoint(NETNS_DIR)) return;
  // Fails harmlessly (busy) if another process added a namespace meanwhile.
  succeedsSync("umount", [NETNS_DIR]);
}

export function deleteNetwork(network: HostNetwork): void {
  if (succeedsSync("ip", ["link", "show", network.hostVeth]))
    succeedsSync("ip", ["link", "del", network.hostVeth]);
  if (existsSync(`${NETNS_DIR}/${network.netns}`)) runSync("ip", ["netns", "del", network.netns]);
  releaseNetnsDirMount();
}
