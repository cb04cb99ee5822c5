// `shell [<host>]`: which local host a word means, and the ssh command line of the root shell on it.
import { describe, expect, it } from "vitest";
import { adminShellArgs } from "../../src/sandbox/adminShell";
import { chooseHost } from "../../src/sandbox/hostChoice";

const HOSTS = [
  { name: "web-1", host: "10.200.1.2" },
  { name: "host-2", host: "10.200.2.2" },
];

describe("chooseHost", () => {
  it("takes the first host by default, else a host's number, its name in the stack or its address", () => {
    expect(chooseHost(HOSTS)).toBe(0);
    expect(chooseHost(HOSTS, "2")).toBe(1);
    expect(chooseHost(HOSTS, "web-1")).toBe(0);
    expect(chooseHost(HOSTS, "host-2")).toBe(1);
    expect(chooseHost(HOSTS, "10.200.2.2")).toBe(1);
  });

  it.each(["0", "3", "web-3", "10.200.3.2"])("refuses %s, listing the hosts there are", (word) => {
    expect(() => chooseHost(HOSTS, word)).toThrow(
      `no host ${word} in the sandbox; its hosts: 1 web-1 10.200.1.2, 2 host-2 10.200.2.2`,
    );
  });
});

describe("adminShellArgs", () => {
  const files = { keyFile: "/state/h.key", knownHostsFile: "/state/h.known_hosts" };
  const host = { address: "10.200.1.2", port: 22 };

  it("logs in as root with the host's root key and pinned host key, no config file, no password prompt", () => {
    const args = adminShellArgs(host, files, true);
    expect(args.slice(0, 3)).toEqual(["-F", "none", "-t"]);
    expect(args).toContain("StrictHostKeyChecking=yes");
    expect(args).toContain("UserKnownHostsFile=/state/h.known_hosts");
    expect(args).toContain("BatchMode=yes");
    expect(args.slice(-3)).toEqual(["-p", "22", "root@10.200.1.2"]);
    expect(args[args.indexOf("-i") + 1]).toBe("/state/h.key");
  });

  it("asks for no terminal when stdin is not one, and runs a login bash that reads it (echo id | ... shell)", () => {
    const args = adminShellArgs(host, files, false);
    expect(args.slice(0, 3)).toEqual(["-F", "none", "-T"]);
    expect(args.slice(-3)).toEqual(["root@10.200.1.2", "bash", "-l"]);
  });
});
