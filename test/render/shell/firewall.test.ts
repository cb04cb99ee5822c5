import { describe, expect, it } from "vitest";
import { provisioningSteps } from "../../../src/render/shell/provisioning";
import {
  FIREWALL_RULES_FILE,
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
    expect(firewallScript(staging)).toContain(
      "ssh_ports=$(/usr/sbin/sshd -T | awk '$1 == \"port\" { print $2 }' | sort -nu | paste -sd ' ')",
    );
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
