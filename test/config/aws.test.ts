import { utils } from "ssh2";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { loadFromValues } from "../../src/config/fromValues";
import { hostCount } from "../../src/config/types";
import { minimalValues } from "./fixtures";

const AWS_HOSTS = { count: 2, sshCidrs: ["203.0.113.0/24"] };

/**
 * Several hosts cannot share Let's Encrypt (ingress.tls acme is one host's): these stacks use Caddy's local CA.
 */
const INTERNAL_TLS = { tls: "internal" };

/** The minimal config with its hosts list replaced by the given aws group. */
function awsValues(aws: Record<string, unknown>): Record<string, unknown> {
  const values = minimalValues({ aws, ingress: INTERNAL_TLS });
  Reflect.deleteProperty(values, "hosts");
  return values;
}

function problemsOf(values: Record<string, unknown>): string[] {
  try {
    loadFromValues(values, "acme", { stack: "staging", requireSecrets: false });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

function load(values: Record<string, unknown>) {
  return loadFromValues(values, "acme", { stack: "staging", requireSecrets: false }).config;
}

/** A private key of the type, in OpenSSH format, as ssh-keygen writes it. */
const privateKeyOf = (type: "ed25519" | "ecdsa" | "rsa"): string =>
  utils.generateKeyPairSync(type, type === "ecdsa" ? { bits: 256 } : type === "rsa" ? { bits: 2048 } : {})
    .private;

describe("the admin key with aws.hosts (imported as an EC2 key pair, which takes ED25519 and RSA only)", () => {
  it("an ECDSA admin key is refused, naming the key, the reason and how to make one that works", () => {
    const values = { ...awsValues({ hosts: AWS_HOSTS }), adminPrivateKey: privateKeyOf("ecdsa") };
    expect(problemsOf(values)).toEqual([
      "pipeline:adminPrivateKey: is an ECDSA key (ecdsa-sha2-nistp256), which aws.hosts cannot import as an EC2 key pair (EC2 takes ED25519 and RSA keys): use an ED25519 key (ssh-keygen -t ed25519 -f admin_key, then pulumi config set --secret adminPrivateKey < admin_key)",
    ]);
  });

  it.each(["ed25519", "rsa"] as const)("a %s admin key is accepted", (type) => {
    expect(problemsOf({ ...awsValues({ hosts: AWS_HOSTS }), adminPrivateKey: privateKeyOf(type) })).toEqual(
      [],
    );
  });

  it("an ECDSA admin key for hosts the program does not create is accepted (no key pair is imported)", () => {
    expect(problemsOf({ ...minimalValues(), adminPrivateKey: privateKeyOf("ecdsa") })).toEqual([]);
  });
});

describe("the aws config group", () => {
  it("is optional: a stack without it has no aws settings and deploys to its hosts list", () => {
    const config = load(minimalValues());
    expect(config.aws).toBeUndefined();
    expect(hostCount(config)).toBe(1);
  });

  it("applies every default, and counts the hosts it creates", () => {
    const config = load(awsValues({ hosts: AWS_HOSTS, backupBucket: {} }));
    expect(config.hosts).toEqual([]);
    expect(hostCount(config)).toBe(2);
    expect(config.aws).toEqual({
      hosts: { count: 2, instanceType: "t3.small", rootVolumeGigabytes: 20, sshCidrs: ["203.0.113.0/24"] },
      dnsTtlSeconds: 300,
      backupBucket: { expireDays: 30, noncurrentExpireDays: 7 },
      oidcProvider: "create",
    });
  });

  it("reads the zone without its final dot, in lowercase", () => {
    expect(load(awsValues({ hosts: AWS_HOSTS, dnsZone: "Example.COM." })).aws?.dnsZone).toBe("example.com");
  });

  it("reads values the way Pulumi stores them (JSON strings, numbers as strings)", () => {
    const config = load(
      awsValues({ hosts: { count: "3", sshCidrs: ["0.0.0.0/0", "::/0"] }, dnsTtlSeconds: "60" }),
    );
    expect(config.aws?.hosts?.count).toBe(3);
    expect(config.aws?.dnsTtlSeconds).toBe(60);
  });

  const badInputs: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "hosts and aws.hosts together",
      { ...minimalValues(), aws: { hosts: AWS_HOSTS }, ingress: INTERNAL_TLS },
      /^pipeline:aws\.hosts: is set together with hosts \(.*keep one of the two\)$/,
    ],
    [
      "neither hosts nor aws.hosts",
      awsValues({ backupBucket: {} }),
      /^pipeline:hosts: is required \(list your servers.*or set aws\.hosts/,
    ],
    [
      "a zone without hosts the program creates",
      { ...minimalValues(), aws: { dnsZone: "example.com" } },
      /^pipeline:aws\.dnsZone: is set without aws\.hosts \(.*set aws\.hosts, or remove aws\.dnsZone/,
    ],
    [
      "a url outside the zone",
      awsValues({ hosts: AWS_HOSTS, dnsZone: "example.org" }),
      /^pipeline:aws\.dnsZone: is 'example\.org', but url's host name 'staging\.example\.com' is not inside it \(use the zone that holds staging\.example\.com, or change url\)$/,
    ],
    [
      "a zone whose name merely ends like the url's",
      awsValues({ hosts: AWS_HOSTS, dnsZone: "ample.com" }),
      /^pipeline:aws\.dnsZone: is 'ample\.com', but url's host name/,
    ],
    ["no sshCidrs", awsValues({ hosts: { count: 1 } }), /^pipeline:aws\.hosts\.sshCidrs: is required/],
    [
      "empty sshCidrs",
      awsValues({ hosts: { sshCidrs: [] } }),
      /^pipeline:aws\.hosts\.sshCidrs: is empty \(list the ranges that may reach SSH, port 22\)$/,
    ],
    [
      "an address without prefix length",
      awsValues({ hosts: { sshCidrs: ["203.0.113.7"] } }),
      /^pipeline:aws\.hosts\.sshCidrs\[0\]: is not an IPv4 or IPv6 CIDR range \(for example 203\.0\.113\.0\/24/,
    ],
    [
      "21 hosts",
      awsValues({ hosts: { ...AWS_HOSTS, count: 21 } }),
      /^pipeline:aws\.hosts\.count: must be at most 20 \(use 1 to 20 hosts\)$/,
    ],
    [
      "a root volume smaller than the image",
      awsValues({ hosts: { ...AWS_HOSTS, rootVolumeGigabytes: 4 } }),
      /^pipeline:aws\.hosts\.rootVolumeGigabytes: must be at least 8/,
    ],
    [
      "a malformed instance type",
      awsValues({ hosts: { ...AWS_HOSTS, instanceType: "large" } }),
      /^pipeline:aws\.hosts\.instanceType: is not an EC2 instance type \(for example t3\.small/,
    ],
    [
      "a malformed subnet id",
      awsValues({ hosts: { ...AWS_HOSTS, subnetId: "default" } }),
      /^pipeline:aws\.hosts\.subnetId: is not a subnet id/,
    ],
    [
      "an OIDC provider of another issuer",
      awsValues({
        hosts: AWS_HOSTS,
        oidcProvider: "arn:aws:iam::123456789012:oidc-provider/gitlab.com",
      }),
      /^pipeline:aws\.oidcProvider: is neither create nor the ARN of a token\.actions\.githubusercontent\.com OIDC provider/,
    ],
    [
      "a misspelled key",
      awsValues({ hosts: AWS_HOSTS, backupBuckets: {} }),
      /^pipeline:aws\.backupBuckets: unknown key \(did you mean backupBucket\?\)$/,
    ],
    [
      "a TTL below 30 s",
      awsValues({ hosts: AWS_HOSTS, dnsTtlSeconds: 5 }),
      /^pipeline:aws\.dnsTtlSeconds: must be at least 30/,
    ],
    [
      "expiry of 0 days",
      awsValues({ hosts: AWS_HOSTS, backupBucket: { expireDays: 0 } }),
      /^pipeline:aws\.backupBucket\.expireDays: must be at least 1/,
    ],
  ];

  it.each(badInputs)("rejects %s with one message naming the key and the fix", (_name, values, message) => {
    const problems = problemsOf(values);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it("accepts an existing OIDC provider by ARN, a subnet, IPv6 ranges and a zone equal to the url's name", () => {
    const values = {
      ...awsValues({
        hosts: { ...AWS_HOSTS, subnetId: "subnet-0123456789abcdef0", sshCidrs: ["2001:db8::/32"] },
        dnsZone: "staging.example.com",
        oidcProvider: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
      }),
    };
    expect(problemsOf(values)).toEqual([]);
  });
});
