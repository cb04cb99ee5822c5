// The environment variables every runner-side script reads: which hosts, in which order, as whom, with which key
// and pinned known_hosts. The workflows fill them from the environment's variables and the SSH step's files; the
// sandbox and the host tests fill them with local values. Both through hostLoopEnvironment().
import type { HostConfig } from "../../config/types";

export interface HostLoopValues {
  /** `host:port` entries separated by spaces, in deploy order (hostList()). */
  hosts: string;
  deployUser: string;
  /** The CI deploy key's private half. */
  keyFile: string;
  /** known_hosts with every host's pinned key. */
  knownHostsFile: string;
}

export const HOST_LOOP_VARIABLES = [
  "DEPLOY_HOSTS",
  "DEPLOY_USER",
  "SSH_KEY_FILE",
  "KNOWN_HOSTS_FILE",
] as const;
export type HostLoopVariable = (typeof HOST_LOOP_VARIABLES)[number];

export function hostLoopEnvironment(values: HostLoopValues): Record<HostLoopVariable, string> {
  return {
    DEPLOY_HOSTS: values.hosts,
    DEPLOY_USER: values.deployUser,
    SSH_KEY_FILE: values.keyFile,
    KNOWN_HOSTS_FILE: values.knownHostsFile,
  };
}

/** The value of DEPLOY_HOSTS: `host:port` of each host, in deploy order. */
export function hostList(hosts: readonly Pick<HostConfig, "host" | "port">[]): string {
  return hosts.map((h) => `${h.host}:${h.port}`).join(" ");
}
