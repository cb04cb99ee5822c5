// The aws config group under Pulumi's mocks: EC2 hosts that feed the same provisioning as configured ones, their
// DNS record, the backup bucket and the role GitHub's OIDC tokens of one environment may assume.
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AWS_BACKUP_VARS, ENV_VARS } from "../../src/render/githubNames";
import { ADMIN_ACCESS_STEP, adminAccessStep } from "../../src/render/shell/steps/adminAccess";
import { ROTATE_HOST_KEY_STEP, hostKeyRotationStep } from "../../src/render/shell/steps/hostKeyRotation";
import { managedGitHubObjects } from "../../src/render/managedObjects";
import { renderRepositoryFiles, secretUses } from "../../src/render/workflows";
import { SECRETS, exampleStack, type ProgramRun, runStacks } from "./fixtures";
import {
  AWS_MOCK,
  ofType,
  openSshPublicKey,
  plain,
  plaintextOccurrences,
  isSecretValue,
  type RecordedResource,
} from "./mockRuntime";

const T = {
  instance: "aws:ec2/instance:Instance",
  eip: "aws:ec2/eip:Eip",
  keyPair: "aws:ec2/keyPair:KeyPair",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  record: "aws:route53/record:Record",
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  oidc: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  command: "command:remote:Command",
  key: "tls:index/privateKey:PrivateKey",
  envVariable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
};

const EXISTING_OIDC = `arn:aws:iam::${AWS_MOCK.accountId}:oidc-provider/token.actions.githubusercontent.com`;
/**
 * Staging on two EC2 hosts the program creates, with a DNS record and a backup bucket (OIDC provider created). Two
 * hosts cannot share Let's Encrypt (ingress.tls acme is one host's): they serve certificates of Caddy's local CA.
 */
const stagingOverrides = {
  hosts: undefined,
  adminUser: "admin",
  ingress: { tls: "internal" },
  aws: {
    hosts: { count: 2, sshCidrs: ["198.51.100.0/24", "2001:db8::/48"] },
    dnsZone: "storefront.example.com",
    dnsTtlSeconds: 60,
    backupBucket: { expireDays: 14, noncurrentExpireDays: 3 },
  },
};
const staging = exampleStack("staging", stagingOverrides);
/** Production keeps its configured hosts and only adds a backup bucket, trusting the account's OIDC provider. */
const production = exampleStack("production", {
  aws: { backupBucket: {}, oidcProvider: EXISTING_OIDC },
});
let run: ProgramRun;

function ofStack(type: string, stack: "staging" | "production"): RecordedResource[] {
  return ofType(run.runtime, type).filter((r) => r.name.startsWith(`storefront-${stack}-`));
}
function input(resource: RecordedResource | undefined, key: string): unknown {
  return plain(resource?.inputs[key]);
}
function output(resource: RecordedResource | undefined, key: string): unknown {
  return plain(resource?.outputs[key]);
}
function only(type: string, stack: "staging" | "production"): RecordedResource {
  const found = ofStack(type, stack);
  expect(found.map((r) => r.name)).toHaveLength(1);
  return found[0] as RecordedResource;
}
function variablesOf(stack: "staging" | "production"): Record<string, unknown> {
  return Object.fromEntries(
    ofStack(T.envVariable, stack).map((v) => [input(v, "variableName"), input(v, "value")]),
  );
}

interface Statement {
  Effect: string;
  Principal?: Record<string, string>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
function statementsOf(policy: unknown): Statement[] {
  return (JSON.parse(String(policy)) as { Statement: Statement[] }).Statement;
}
const list = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());

beforeAll(async () => {
  run = await runStacks([staging, production]);
});

describe("EC2 hosts (aws.hosts)", () => {
  it("builds without reporting an error and looks up Debian 12's official image by owner and name", () => {
    expect(pulumi.log.hasErrors()).toBe(false);
    const lookups = run.runtime.callArgs.filter((c) => c.token === "aws:ec2/getAmi:getAmi");
    expect(lookups).toHaveLength(1);
    const args = lookups[0]?.inputs as { owners: string[]; mostRecent: boolean; filters: unknown[] };
    expect(args.owners).toEqual(["136693071363"]);
    expect(args.mostRecent).toBe(true);
    expect(args.filters).toContainEqual({ name: "name", values: ["debian-12-amd64-*"] });
    expect(args.filters).toContainEqual({ name: "architecture", values: ["x86_64"] });
  });

  it("creates each instance from that image with IMDSv2 required, an encrypted root volume and secret user data", () => {
    const instances = ofStack(T.instance, "staging");
    expect(instances.map((i) => i.name)).toEqual([
      "storefront-staging-aws-hosts-aws-1",
      "storefront-staging-aws-hosts-aws-2",
    ]);
    for (const instance of instances) {
      expect(input(instance, "ami")).toBe(AWS_MOCK.amiId);
      expect(input(instance, "instanceType")).toBe("t3.small");
      expect(input(instance, "metadataOptions")).toMatchObject({ httpTokens: "required" });
      expect(input(instance, "rootBlockDevice")).toMatchObject({ encrypted: true, volumeSize: 20 });
      expect(isSecretValue(instance.inputs["userData"])).toBe(true);
      expect(input(instance, "vpcSecurityGroupIds")).toEqual([`${only(T.securityGroup, "staging").name}-id`]);
      expect(input(instance, "keyName")).toBe(output(only(T.keyPair, "staging"), "keyName"));
    }
  });

  it("installs each host's own generated ed25519 key through cloud-init, and only that key", () => {
    const keys = ofStack(T.key, "staging").filter((k) => k.name.includes("-host-key"));
    expect(keys.map((k) => input(k, "algorithm"))).toEqual(["ED25519", "ED25519"]);
    ofStack(T.instance, "staging").forEach((instance, index) => {
      const userData = String(input(instance, "userData"));
      expect(userData.startsWith("#cloud-config\n")).toBe(true);
      const document = parse(userData) as Record<string, unknown>;
      expect(document["ssh_deletekeys"]).toBe(true);
      expect(document["ssh_keys"]).toEqual({
        ed25519_private: output(keys[index], "privateKeyOpenssh"),
        ed25519_public: String(output(keys[index], "publicKeyOpenssh")).trim(),
      });
    });
  });

  it("authorizes the admin key derived from adminPrivateKey, as the key pair and in the user data", () => {
    const adminKey = openSshPublicKey(createPublicKey(SECRETS.adminPrivateKey));
    expect(String(input(only(T.keyPair, "staging"), "publicKey")).trim()).toBe(adminKey);
    for (const instance of ofStack(T.instance, "staging")) {
      const document = parse(String(input(instance, "userData"))) as { users: unknown[] };
      expect(document.users).toEqual([
        expect.objectContaining({ name: "admin", ssh_authorized_keys: [adminKey] }),
      ]);
    }
  });

  it("gives each instance an Elastic IP", () => {
    const eips = ofStack(T.eip, "staging");
    expect(eips.map((e) => input(e, "instance"))).toEqual(
      ofStack(T.instance, "staging").map((i) => `${i.name}-id`),
    );
    expect(eips.every((e) => input(e, "domain") === "vpc")).toBe(true);
  });

  it("lets in SSH from sshCidrs only, 80 and 443 from anywhere (IPv4 and IPv6), and everything out", () => {
    const rules = ofStack(T.ingress, "staging").map((r) => {
      const { fromPort, toPort, ipProtocol, cidrIpv4, cidrIpv6 } = plain(r.inputs) as Record<string, unknown>;
      return `${String(ipProtocol)} ${String(fromPort)}-${String(toPort)} ${String(cidrIpv4 ?? cidrIpv6)}`;
    });
    expect(rules.sort()).toEqual(
      [
        "tcp 22-22 198.51.100.0/24",
        "tcp 22-22 2001:db8::/48",
        "tcp 80-80 0.0.0.0/0",
        "tcp 80-80 ::/0",
        "tcp 443-443 0.0.0.0/0",
        "tcp 443-443 ::/0",
      ].sort(),
    );
    const egress = ofStack(T.egress, "staging").map((r) => plain(r.inputs) as Record<string, unknown>);
    expect(egress.map((r) => [r["ipProtocol"], r["cidrIpv4"] ?? r["cidrIpv6"]])).toEqual([
      ["-1", "0.0.0.0/0"],
      ["-1", "::/0"],
    ]);
  });

  /** The rotation step and the other steps of host aws-<n>, in registration order. */
  function stepsOf(hostNumber: number): { rotation: RecordedResource; rest: RecordedResource[] } {
    const steps = ofStack(T.command, "staging").filter((c) =>
      c.name.startsWith(`storefront-staging-vps-aws-${hostNumber}-`),
    );
    const rotation = steps.filter((c) => c.name.endsWith(`-${ROTATE_HOST_KEY_STEP}`));
    expect(rotation).toHaveLength(1);
    return { rotation: rotation[0] as RecordedResource, rest: steps.filter((c) => !rotation.includes(c)) };
  }
  const connectionOf = (step: RecordedResource) => input(step, "connection") as Record<string, unknown>;
  const bootstrapKeys = () => ofStack(T.key, "staging").filter((k) => k.name.includes("-host-key"));

  it("provisions each instance through its Elastic IP, waiting for SSH at boot; a new instance runs every step again", () => {
    const instances = ofStack(T.instance, "staging");
    ofStack(T.eip, "staging").forEach((eip, index) => {
      const { rotation, rest } = stepsOf(index + 1);
      expect(rest.length).toBeGreaterThan(5);
      for (const step of [rotation, ...rest]) {
        const connection = connectionOf(step);
        expect(connection["host"]).toBe(output(eip, "publicIp"));
        expect(connection["port"]).toBe(22);
        expect(connection["user"]).toBe("admin");
        expect(connection["dialErrorLimit"]).toBeGreaterThanOrEqual(30);
        expect(input(step, "triggers")).toEqual([`${instances[index]?.name}-id`]);
      }
    });
  });

  it("trusts the user data's host key for the first step only, which replaces it on the host", () => {
    const keys = bootstrapKeys();
    ofStack(T.instance, "staging").forEach((instance, index) => {
      const { rotation, rest } = stepsOf(index + 1);
      expect(input(rotation, "create")).toBe(hostKeyRotationStep({ adminUser: "admin" }).create);
      expect(connectionOf(rotation)["hostKey"]).toBe(output(keys[index], "publicKeyOpenssh"));
      // once per instance: no input but the instance id re-runs it (a new admin key changes its connection)
      expect(input(rotation, "triggers")).toEqual([`${instance.name}-id`]);
      expect(run.ignoredChanges.get(rotation.name)).toEqual(["connection"]);
      // every other step waits for it and pins the key it printed, never the bootstrap key
      const printed = String(output(rotation, "stdout")).trim();
      expect(printed).toMatch(/^ssh-ed25519 /);
      expect(printed).not.toBe(String(output(keys[index], "publicKeyOpenssh")).trim());
      expect(run.dependencies.get(rest[0]?.name ?? "")).toEqual([rotation.name]);
      for (const step of rest) expect(connectionOf(step)["hostKey"], step.name).toBe(printed);
    });
  });

  it("publishes the Elastic IPs as the host list and the rotated keys as known_hosts", () => {
    const ips = ofStack(T.eip, "staging").map((e) => String(output(e, "publicIp")));
    const keys = ips.map((_, i) => String(output(stepsOf(i + 1).rotation, "stdout")).trim());
    const variables = variablesOf("staging");
    expect(variables[ENV_VARS.hosts]).toBe(ips.map((ip) => `${ip}:22`).join(" "));
    const expected = ips.map((ip, i) => `${ip} ${keys[i]}\n`).join("");
    expect(variables[ENV_VARS.knownHosts]).toBe(expected);
    expect(run.resolved["staging"]?.knownHosts).toBe(expected);
    for (const key of bootstrapKeys())
      expect(expected).not.toContain(String(output(key, "publicKeyOpenssh")).trim().split(" ")[1]);
  });

  it("points the url's host name at every host with one A record set in the zone", () => {
    const record = only(T.record, "staging");
    expect(input(record, "zoneId")).toBe(AWS_MOCK.zoneId);
    expect(input(record, "name")).toBe("staging.storefront.example.com");
    expect(input(record, "type")).toBe("A");
    expect(input(record, "ttl")).toBe(60);
    expect(input(record, "records")).toEqual(ofStack(T.eip, "staging").map((e) => output(e, "publicIp")));
    const zoneLookups = run.runtime.callArgs.filter((c) => c.token === "aws:route53/getZone:getZone");
    expect(zoneLookups.map((c) => c.inputs)).toEqual([
      { name: "storefront.example.com", privateZone: false },
    ]);
  });

  it("keeps every host private key secret wherever it is an input", () => {
    const privateKeys = ofStack(T.key, "staging").map((k) => String(output(k, "privateKeyOpenssh")));
    for (const needle of [...privateKeys, SECRETS.adminPrivateKey]) {
      const leaks = run.runtime.resources.flatMap((r) =>
        plaintextOccurrences(r.inputs, needle).map((path) => `${r.name}.${path}`),
      );
      expect(leaks).toEqual([]);
    }
  });
});

describe("a new admin key or admin user (item 2 of issue 18)", () => {
  const otherAdminKey = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" });
  let changed: ProgramRun;

  beforeAll(async () => {
    changed = await runStacks([
      exampleStack("staging", {
        ...stagingOverrides,
        adminUser: "ops",
        adminPrivateKey: otherAdminKey.toString(),
      }),
    ]);
  });

  /** The input keys of a resource that differ between the two runs. */
  function changedInputs(type: string, name: string): string[] {
    const before = ofStack(type, "staging").find((r) => r.name === name);
    const after = ofType(changed.runtime, type).find((r) => r.name === name);
    expect(before && after, name).toBeTruthy();
    const keys = new Set([...Object.keys(before?.inputs ?? {}), ...Object.keys(after?.inputs ?? {})]);
    return [...keys]
      .filter((key) => JSON.stringify(input(before, key)) !== JSON.stringify(input(after, key)))
      .sort();
  }

  it("changes only instance inputs the instances ignore: no instance is replaced", () => {
    for (const instance of ofStack(T.instance, "staging")) {
      const differing = changedInputs(T.instance, instance.name);
      expect(differing).toContain("userData");
      expect(run.ignoredChanges.get(instance.name)).toEqual(["ami", "userData", "keyName"]);
      expect(differing.filter((key) => !(run.ignoredChanges.get(instance.name) ?? []).includes(key))).toEqual(
        [],
      );
      expect(input(instance, "userDataReplaceOnChange")).toBeUndefined();
    }
  });

  it("applies the new admin key and user over SSH on every host, right after the rotation", () => {
    const newKey = openSshPublicKey(createPublicKey(otherAdminKey.toString()));
    const oldKey = openSshPublicKey(createPublicKey(SECRETS.adminPrivateKey));
    const steps = (runtime: ProgramRun["runtime"], host: number) =>
      ofType(runtime, T.command).filter((c) => c.name.startsWith(`storefront-staging-vps-aws-${host}-`));
    for (const host of [1, 2]) {
      const [before, after] = [steps(run.runtime, host), steps(changed.runtime, host)].map(
        (list) => list[1] as RecordedResource,
      );
      expect(before?.name).toBe(`storefront-staging-vps-aws-${host}-${ADMIN_ACCESS_STEP}`);
      expect(input(before, "create")).toBe(adminAccessStep({ adminUser: "admin" }, oldKey).create);
      expect(input(after, "create")).toBe(adminAccessStep({ adminUser: "ops" }, newKey).create);
      expect(run.dependencies.get(before?.name ?? "")).toEqual([steps(run.runtime, host)[0]?.name]);
    }
    // configured hosts keep the admin login their owners manage
    expect(ofStack(T.command, "production").filter((c) => c.name.endsWith(ADMIN_ACCESS_STEP))).toEqual([]);
  });

  it("does not run the host key rotation again: it changes only the rotation's ignored connection", () => {
    const rotations = ofStack(T.command, "staging").filter((c) => c.name.endsWith(ROTATE_HOST_KEY_STEP));
    expect(rotations).toHaveLength(2);
    for (const rotation of rotations) expect(changedInputs(T.command, rotation.name)).toEqual(["connection"]);
  });
});

describe("the instances wait for their security group's rules", () => {
  it("each instance depends on every ingress and egress rule of the group (a new group has no egress of its own)", () => {
    const rules = [...ofStack(T.ingress, "staging"), ...ofStack(T.egress, "staging")]
      .map((r) => r.name)
      .sort();
    expect(rules.length).toBeGreaterThanOrEqual(4);
    for (const instance of ofStack(T.instance, "staging"))
      expect([...(run.dependencies.get(instance.name) ?? [])].sort()).toEqual(rules);
  });
});

describe("the backup bucket (aws.backupBucket)", () => {
  it("is versioned, encrypted, closed to the public and expires backups", () => {
    for (const stack of ["staging", "production"] as const) {
      const bucket = String(output(only(T.bucket, stack), "bucket"));
      expect(input(only(T.versioning, stack), "bucket")).toBe(bucket);
      expect(input(only(T.versioning, stack), "versioningConfiguration")).toEqual({ status: "Enabled" });
      expect(input(only(T.encryption, stack), "rules")).toEqual([
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" },
          bucketKeyEnabled: true,
          blockedEncryptionTypes: ["SSE-C"],
        },
      ]);
      expect(plain(only(T.publicAccess, stack).inputs)).toEqual({
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
    }
    const [rule] = input(only(T.lifecycle, "staging"), "rules") as Array<Record<string, unknown>>;
    expect(rule).toMatchObject({
      status: "Enabled",
      expiration: { days: 14 },
      noncurrentVersionExpiration: { noncurrentDays: 3 },
    });
  });

  it("refuses every request without TLS, every write that could replace an object, and every write with a customer's key (SSE-C)", () => {
    const bucket = String(output(only(T.bucket, "staging"), "bucket"));
    expect(statementsOf(input(only(T.bucketPolicy, "staging"), "policy"))).toEqual([
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyOverwrites",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { Null: { "s3:if-none-match": "true" } },
      },
      {
        Sid: "DenyCustomerKeys",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/*`,
        Condition: { Null: { "s3:x-amz-server-side-encryption-customer-algorithm": "false" } },
      },
    ]);
  });

  it("creates GitHub's OIDC provider when asked, and trusts the existing one by ARN otherwise", () => {
    const [provider] = ofType(run.runtime, T.oidc);
    expect(ofType(run.runtime, T.oidc).map((p) => p.name)).toEqual([
      "storefront-staging-aws-backups-github-oidc",
    ]);
    expect(input(provider, "url")).toBe("https://token.actions.githubusercontent.com");
    expect(input(provider, "clientIdLists")).toEqual(["sts.amazonaws.com"]);
    const trusted = (stack: "staging" | "production") =>
      statementsOf(input(only(T.role, stack), "assumeRolePolicy")).map((s) => s.Principal);
    expect(trusted("staging")).toEqual([{ Federated: output(provider, "arn") }]);
    expect(trusted("production")).toEqual([{ Federated: EXISTING_OIDC }]);
  });

  it("lets only the stack's own GitHub environment assume the role, with tokens meant for STS", () => {
    for (const stack of ["staging", "production"] as const) {
      const [statement] = statementsOf(input(only(T.role, stack), "assumeRolePolicy"));
      expect(statement?.Effect).toBe("Allow");
      expect(statement?.Action).toBe("sts:AssumeRoleWithWebIdentity");
      expect(statement?.Condition).toEqual({
        StringEquals: {
          "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
          "token.actions.githubusercontent.com:sub": `repo:acme-shop/storefront:environment:${stack}`,
        },
      });
    }
  });

  it("allows the role to put, get and list under the environment's prefix, and nothing else", () => {
    const bucket = String(output(only(T.bucket, "production"), "bucket"));
    const policy = only(T.rolePolicy, "production");
    expect(input(policy, "role")).toBe(`${only(T.role, "production").name}-id`);
    expect(statementsOf(input(policy, "policy"))).toEqual([
      {
        Sid: "ReadAndWriteOwnBackups",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject"],
        Resource: `arn:aws:s3:::${bucket}/production/*`,
      },
      {
        Sid: "ListOwnBackups",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringLike: { "s3:prefix": ["production/", "production/*"] } },
      },
    ]);
  });

  it("grants nothing to a wildcard principal or with a wildcard action, in any policy", () => {
    const policies = run.runtime.resources.flatMap((r) =>
      ["policy", "assumeRolePolicy"]
        .map((key) => input(r, key))
        .filter((p): p is string => typeof p === "string")
        .map((p) => ({ name: r.name, statements: statementsOf(p) })),
    );
    expect(policies.length).toBe(6);
    for (const { name, statements } of policies) {
      for (const statement of statements.filter((s) => s.Effect === "Allow")) {
        const principals = Object.values(statement.Principal ?? {});
        expect(
          principals.filter((p) => p.includes("*")),
          name,
        ).toEqual([]);
        expect(
          list(statement.Action).filter((a) => a.includes("*")),
          name,
        ).toEqual([]);
        expect(
          list(statement.Resource).filter((r) => r === "*"),
          name,
        ).toEqual([]);
      }
    }
  });

  it("hands the workflows the role, the bucket, the prefix and the region as environment variables", () => {
    for (const stack of ["staging", "production"] as const) {
      const variables = variablesOf(stack);
      expect(variables[AWS_BACKUP_VARS.roleArn]).toBe(output(only(T.role, stack), "arn"));
      expect(variables[AWS_BACKUP_VARS.bucket]).toBe(output(only(T.bucket, stack), "bucket"));
      expect(variables[AWS_BACKUP_VARS.prefix]).toBe(`${stack}/`);
      expect(variables[AWS_BACKUP_VARS.region]).toBe(AWS_MOCK.region);
    }
  });

  it("2. declares every vars.AWS_* the generated workflows read as a variable of the reading job's environment", () => {
    for (const { config } of [staging, production]) {
      const declared = ofStack(T.envVariable, config.stack as "staging" | "production").map(
        (v) => `${String(input(v, "environment"))}:${String(input(v, "variableName"))}`,
      );
      const uses = secretUses(renderRepositoryFiles(config)).filter(
        (use) => use.kind === "vars" && use.name.startsWith("AWS_"),
      );
      expect([...new Set(uses.map((use) => use.name))].sort()).toEqual(Object.values(AWS_BACKUP_VARS).sort());
      const undeclared = uses.filter((use) => !declared.includes(`${use.environment ?? "-"}:${use.name}`));
      expect(undeclared).toEqual([]);
    }
  });

  it("manages exactly the environment variables the offline render lists", () => {
    for (const { config } of [staging, production]) {
      const registered = ofStack(T.envVariable, config.stack as "staging" | "production").map(
        (v) => `environment-variable:${String(input(v, "environment"))}:${String(input(v, "variableName"))}`,
      );
      const listed = managedGitHubObjects(config)
        .filter((o) => o.kind === "environment-variable")
        .map((o) => `${o.kind}:${o.id}`);
      expect(registered.sort()).toEqual(listed.sort());
    }
  });
});

describe("a stack without the aws group", () => {
  const identities = (r: ProgramRun) => r.runtime.resources.map((x) => `${x.type} ${x.name}`).sort();
  let plainRun: ProgramRun;
  let withBucket: ProgramRun;
  beforeAll(async () => {
    plainRun = await runStacks([exampleStack("production")]);
    withBucket = await runStacks([exampleStack("production", { aws: { backupBucket: {} } })]);
  });

  it("touches nothing on AWS: no AWS resource, no AWS lookup", () => {
    expect(identities(plainRun).filter((id) => /^(aws:|pipeline:aws:)/.test(id))).toEqual([]);
    expect(plainRun.runtime.calls.filter((t) => t.startsWith("aws:") || t.includes("getPublicKey"))).toEqual(
      [],
    );
  });

  it("registers what the group adds on top of it and nothing else: the group only adds resources", () => {
    const added = identities(withBucket).filter((id) => !identities(plainRun).includes(id));
    expect(identities(plainRun).filter((id) => !identities(withBucket).includes(id))).toEqual([]);
    const nonAws = added.filter((id) => !/^(aws:|pipeline:aws:)/.test(id));
    expect(nonAws.sort()).toEqual(
      Object.values(AWS_BACKUP_VARS)
        .map((v) => `${T.envVariable} storefront-production-github-production-variable-${v}`)
        .sort(),
    );
  });
});
