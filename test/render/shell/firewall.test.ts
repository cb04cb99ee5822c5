import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { awsSchema } from "../../../src/config/awsSchema";
import { provisioningSteps } from "../../../src/render/shell/provisioning";
import {
  ADMITS_CONNECTION_FUNCTION,
  FIREWALL_RULES_FILE,
  SSHD_PORTS_FUNCTION,
  blocksMetadataService,
  firewallScript,
  firewallTcpPorts,
  renderFirewallRules,
} from "../../../src/render/shell/steps/firewall";
import { TEST_REGISTRY, production, staging } from "./fixtures";

const withPorts = { firewall: { enabled: true, extraTcpPorts: [8443, 443] } };

describe("firewall step", () => {
  it("runs right after sshd-hardening", () => {
    const names = provisioningSteps(staging, { npmRegistry: TEST_REGISTRY }).map((step) => step.name);
    expect(names.indexOf("firewall")).toBe(names.indexOf("sshd-hardening") + 1);
  });

  it("is on by default with no extra ports", () => {
    expect(staging.firewall).toEqual({ enabled: true, extraTcpPorts: [] });
  });

  it("opens 80, 443 and the extra ports, each once; SSH is what sshd listens on, read on the host", () => {
    expect(firewallTcpPorts(staging)).toEqual([80, 443]);
    expect(firewallTcpPorts(withPorts)).toEqual([80, 443, 8443]);
    // The same script on every host: a host that moves or leaves the stack changes no other host's step.
    const moved = { ...production, hosts: production.hosts.map((h) => ({ ...h, port: 2222 })) };
    expect(firewallScript(moved)).toBe(firewallScript(production));
    expect(firewallScript(staging)).toContain("ssh_ports=$(/usr/sbin/sshd -T | sshd_ports)");
  });

  describe("sshd_ports, on `sshd -T` output", () => {
    const sshdPorts = (output: string): string =>
      execFileSync("bash", ["--norc", "-euo", "pipefail", "-c", `${SSHD_PORTS_FUNCTION}\nsshd_ports`], {
        input: output,
        encoding: "utf8",
      });

    it("takes the port of each listenaddress too: ListenAddress 0.0.0.0:2222 alone still prints port 22", () => {
      expect(sshdPorts("port 22\naddressfamily any\nlistenaddress 0.0.0.0:2222\npermitrootlogin no\n")).toBe(
        "22 2222\n",
      );
    });

    it("reads IPv6 addresses in brackets, and lists each port once, in order", () => {
      expect(
        sshdPorts(
          "port 22\nlistenaddress [::]:2222\nlistenaddress 0.0.0.0:2222\nlistenaddress [2001:db8::1]:830\nlistenaddress 10.0.0.1:22 rdomain mgmt\n",
        ),
      ).toBe("22 830 2222\n");
    });

    it("reads the default configuration (port 22 on every address) as 22", () => {
      expect(sshdPorts("port 22\nlistenaddress [::]:22\nlistenaddress 0.0.0.0:22\nportforwarding no\n")).toBe(
        "22\n",
      );
    });

    it("ignores lines that only start like a port line", () => {
      expect(sshdPorts("port 2200\npermitlisten any\nportsomething 9\nlistenaddress garbage\n")).toBe(
        "2200\n",
      );
    });
  });

  describe("admits_connection: the step refuses a rule set that drops the connection running it", () => {
    const admits = (connection: string, open: string) =>
      spawnSync(
        "bash",
        [
          "--norc",
          "-euo",
          "pipefail",
          "-c",
          `${ADMITS_CONNECTION_FUNCTION}\nadmits_connection "$1" "$2"`,
          "bash",
          connection,
          open,
        ],
        { encoding: "utf8" },
      );

    it("admits a connection to an open port (SSH_CONNECTION's 4th field is the server port)", () => {
      expect(admits("203.0.113.9 51234 10.0.0.5 2222", "22 2222 80 443").status).toBe(0);
      expect(admits("203.0.113.9 51234 10.0.0.5 443", "22 80 443").status).toBe(0);
    });

    it("refuses a connection to a port the rules would drop, naming the port and the fixes", () => {
      const result = admits("203.0.113.9 51234 10.0.0.5 2222", "22 80 443");
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        "not loading the firewall: it opens TCP 22 80 443 but not 2222, the port of the SSH connection running this step (from 203.0.113.9 to 10.0.0.5), so the next connection would be dropped; the old rules stay. Make sshd name that port (Port or ListenAddress in sshd_config) or list it in pipeline:firewall.extraTcpPorts\n",
      );
      // A port that merely contains an open one is not open.
      expect(admits("203.0.113.9 51234 10.0.0.5 22", "2222 80 443").status).toBe(1);
    });

    it("has nothing to check without an SSH connection (a console)", () => {
      expect(admits("", "22 80 443").status).toBe(0);
    });

    it("gets the connection from the admin user's session as $1, also through sudo (which resets the environment)", () => {
      const step = provisioningSteps({ ...staging, adminUser: "admin" }, { npmRegistry: TEST_REGISTRY }).find(
        (s) => s.name === "firewall",
      );
      expect(step?.create).toMatch(
        /^sudo -n bash --norc -euo pipefail -c '.*' bash "\$\{SSH_CONNECTION-\}"$/s,
      );
      const script = firewallScript(staging);
      const guard = script.indexOf('admits_connection "${1-}" "$ssh_ports 80 443" || exit 1');
      expect(guard).toBeGreaterThan(script.indexOf("ssh_ports=$(/usr/sbin/sshd -T | sshd_ports)"));
      // Before the candidate is written, checked or loaded: a refusal changes nothing.
      expect(guard).toBeLessThan(script.indexOf("candidate=$(mktemp"));
    });
  });

  it("renders one atomic transaction: established first, loopback, ICMP, the open ports, drop the rest", () => {
    expect(renderFirewallRules(staging, "22, 2222")).toBe(
      [
        "# Managed by pipeline (pulumi up rewrites this file): inbound, only SSH, HTTP(S) and the listed ports.",
        "table inet pipeline",
        "delete table inet pipeline",
        "table inet pipeline {",
        "  chain input {",
        "    type filter hook input priority filter; policy drop;",
        "    ct state established,related accept",
        "    ct state invalid drop",
        '    iifname "lo" accept',
        "    icmp type { echo-request, destination-unreachable, time-exceeded, parameter-problem } accept",
        "    icmpv6 type { echo-request, destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept",
        "    tcp dport { 22, 2222 } accept",
        "    tcp dport { 80, 443 } accept",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  describe("on hosts the program creates on EC2 (aws.hosts)", () => {
    const onEc2 = { ...staging, aws: awsSchema.parse({ hosts: { sshCidrs: ["198.51.100.0/24"] } }) };

    it("adds an output chain: only root reaches the metadata service (IPv4 and IPv6), everyone else gets a reset", () => {
      const rules = renderFirewallRules(onEc2, "22");
      expect(rules).toBe(
        renderFirewallRules(staging, "22").replace(
          "  }\n}\n",
          [
            "  }",
            "  chain output {",
            "    type filter hook output priority filter; policy accept;",
            "    ip daddr 169.254.169.254 meta skuid != 0 meta l4proto tcp reject with tcp reset",
            "    ip daddr 169.254.169.254 meta skuid != 0 drop",
            "    ip6 daddr fd00:ec2::254 meta skuid != 0 meta l4proto tcp reject with tcp reset",
            "    ip6 daddr fd00:ec2::254 meta skuid != 0 drop",
            "  }",
            "}",
            "",
          ].join("\n"),
        ),
      );
      expect(blocksMetadataService(onEc2)).toBe(true);
    });

    it("leaves the metadata service alone on configured hosts (other clouds' apps may use theirs)", () => {
      expect(blocksMetadataService(staging)).toBe(false);
      expect(renderFirewallRules(staging)).not.toContain("169.254.169.254");
      expect(renderFirewallRules(staging)).not.toContain("chain output");
    });
  });

  it("validates with nft -c before loading, loads from the file, and skips when file and loaded table are unchanged", () => {
    const script = firewallScript(staging);
    const check = script.indexOf('nft -c -f "$candidate"');
    const load = script.indexOf('nft -f "$rules"');
    expect(check).toBeGreaterThan(0);
    expect(load).toBeGreaterThan(check);
    expect(script).toContain(
      'if [ "$unchanged" = 1 ] && [ -n "$loaded" ] && [ -f "$state" ] && [ "$loaded" = "$(cat "$state")" ]; then',
    );
    expect(script).toContain(`include "${FIREWALL_RULES_FILE}"`);
    expect(script).toContain("systemctl enable nftables.service");
    expect(renderFirewallRules(staging)).toContain("tcp dport { @SSH_PORTS@ } accept");
  });

  it("removes its table, file and include when disabled", () => {
    const script = firewallScript({ ...staging, firewall: { enabled: false, extraTcpPorts: [] } });
    expect(script).toContain("nft delete table inet pipeline");
    expect(script).not.toContain("nft -f");
  });
});
