// The handle of a disposable host, and its copy in the host's state dir.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { HANDLE_FILE, hostStateDir } from "./paths";

/** Everything needed to reach and to destroy a host; plain JSON, so another process can take over. */
export interface HostHandle {
  name: string;
  index: number;
  /** Guest address, reachable from the machine's root network namespace. */
  address: string;
  port: number;
  /** `ssh-ed25519 AAAA...` */
  hostKey: string;
  /** `<address> ssh-ed25519 AAAA...`, for an OpenSSH known_hosts file. */
  knownHostsLine: string;
  rootPrivateKey: string;
  rootPublicKey: string;
  rootPassword: string;
  /** The proxy as the guest sees it (machine side of the veth). */
  proxyUrl: string;
  npmRegistry: string;
  owner: string;
  netns: string;
  hostVeth: string;
  stateDir: string;
  /** The `unshare` process on the machine; its child is the guest's PID 1 (sshd). */
  initPid: number;
  proxyPid: number;
}

export function saveHandle(handle: HostHandle): void {
  writeFileSync(path.join(handle.stateDir, HANDLE_FILE), `${JSON.stringify(handle, null, 2)}\n`, {
    mode: 0o600,
  });
}

/** Reads the handle that createHost() saved, e.g. in a later `sandbox deploy` process. */
export function loadHandle(name: string): HostHandle {
  return JSON.parse(readFileSync(path.join(hostStateDir(name), HANDLE_FILE), "utf8")) as HostHandle;
}
