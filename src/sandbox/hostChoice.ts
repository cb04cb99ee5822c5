// Which local host a verb such as `shell [<host>]` means: its number (1, 2, ...), its name in the stack (the stack
// file's hosts[].name, or host-<position>) or its address; the first when none is given.
import type { HostConfig } from "../config/types";

/** The index of the host `word` names in the sandbox's config; throws with the hosts there are. */
export function chooseHost(hosts: readonly Pick<HostConfig, "name" | "host">[], word?: string): number {
  if (word === undefined) return 0;
  const index = /^[0-9]+$/.test(word)
    ? Number(word) - 1
    : hosts.findIndex((h) => h.name === word || h.host === word);
  if (index >= 0 && index < hosts.length) return index;
  const listed = hosts.map((h, i) => `${i + 1} ${h.name} ${h.host}`);
  throw new Error(`no host ${word} in the sandbox; its hosts: ${listed.join(", ")}`);
}
