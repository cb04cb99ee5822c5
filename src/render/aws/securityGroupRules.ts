// The inbound rules of the EC2 hosts' security group, from the same config as the host firewall (nftables,
// src/render/shell/steps/firewall.ts): SSH from aws.hosts.sshCidrs only, 80 and 443 and firewall.extraTcpPorts
// from anywhere (IPv4 and IPv6). Everything else is dropped by AWS before it reaches the host.
import { IPV4_CIDR } from "../../config/awsSchema";
import type { PipelineConfig } from "../../config/types";

/** EC2 hosts run sshd on the image's port. */
export const AWS_SSH_PORT = 22;

export interface IngressRule {
  /** Unique within the group; names the rule's resource. */
  name: string;
  port: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  description: string;
}

const ANYWHERE = { ipv4: "0.0.0.0/0", ipv6: "::/0" };

export function securityGroupIngress(config: Pick<PipelineConfig, "aws" | "firewall">): IngressRule[] {
  const sshCidrs = config.aws?.hosts?.sshCidrs ?? [];
  const ssh = sshCidrs.map((cidr) => ({ ...rangeOf(cidr), port: AWS_SSH_PORT, description: "SSH" }));
  const publicPorts = [80, 443, ...config.firewall.extraTcpPorts].filter((p) => p !== AWS_SSH_PORT);
  const open = [...new Set(publicPorts)].flatMap((port) => [
    { cidrIpv4: ANYWHERE.ipv4, port, description: "public" },
    { cidrIpv6: ANYWHERE.ipv6, port, description: "public" },
  ]);
  return [...ssh, ...open].map((rule) => ({ ...rule, name: ruleName(rule) }));
}

function rangeOf(cidr: string): { cidrIpv4: string } | { cidrIpv6: string } {
  return IPV4_CIDR.test(cidr) ? { cidrIpv4: cidr } : { cidrIpv6: cidr };
}

function ruleName(rule: Omit<IngressRule, "name">): string {
  const range = (rule.cidrIpv4 ?? rule.cidrIpv6 ?? "").replace(/[^0-9A-Fa-f]+/g, "-").replace(/-$/, "");
  return `tcp-${rule.port}-${rule.cidrIpv4 !== undefined ? "v4" : "v6"}-${range}`;
}
