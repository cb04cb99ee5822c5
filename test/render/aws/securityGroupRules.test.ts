import { describe, expect, it } from "vitest";
import { securityGroupIngress } from "../../../src/render/aws/securityGroupRules";

const aws = (sshCidrs: string[]) => ({
  hosts: { count: 1, instanceType: "t3.small", rootVolumeGigabytes: 20, sshCidrs },
  dnsTtlSeconds: 300,
  oidcProvider: "create",
});

describe("securityGroupIngress", () => {
  it("opens SSH to the configured ranges only, and the web and extra ports to everyone, like the host firewall", () => {
    const rules = securityGroupIngress({
      aws: aws(["198.51.100.0/24", "2001:db8::/48"]),
      firewall: { enabled: true, extraTcpPorts: [8443, 443] },
    });
    expect(rules.map((r) => [r.port, r.cidrIpv4 ?? r.cidrIpv6])).toEqual([
      [22, "198.51.100.0/24"],
      [22, "2001:db8::/48"],
      [80, "0.0.0.0/0"],
      [80, "::/0"],
      [443, "0.0.0.0/0"],
      [443, "::/0"],
      [8443, "0.0.0.0/0"],
      [8443, "::/0"],
    ]);
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
  });

  it("never opens SSH to everyone through extraTcpPorts", () => {
    const rules = securityGroupIngress({
      aws: aws(["198.51.100.7/32"]),
      firewall: { enabled: true, extraTcpPorts: [22] },
    });
    expect(rules.filter((r) => r.port === 22).map((r) => r.cidrIpv4)).toEqual(["198.51.100.7/32"]);
  });
});
