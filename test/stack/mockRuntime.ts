// Runs the Pulumi program under pulumi.runtime.setMocks: records every registered resource with its inputs
// (secret inputs stay marked), answers the provider calls the program makes, and throws on any other call.
import { type KeyObject, createPublicKey, generateKeyPairSync } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export interface RecordedResource {
  type: string;
  name: string;
  /** Inputs as the engine would receive them; secret values are `{ [SIG_KEY]: SECRET_SIG, value }`. */
  inputs: Record<string, unknown>;
  /** The state the mock provider answered with (inputs plus computed outputs such as a key's public half). */
  outputs: Record<string, unknown>;
}

export interface MockRuntime {
  resources: RecordedResource[];
  calls: string[];
  /** Every provider call with its arguments, in order. */
  callArgs: Array<{ token: string; inputs: Record<string, unknown> }>;
  /** Host public keys that the read-host-key command "prints", by host. */
  hostKeys: Map<string, string>;
  /** What the base branch holds, by path (github.getRepositoryFile); a path not listed does not exist. */
  baseFiles: Map<string, string>;
  /** The repository's pull requests (github.getRepositoryPullRequests); none unless a test lists some. */
  pullRequests: readonly MockPullRequest[];
}

/** A pull request as GitHub lists it: state is open or closed (merged ones are closed too). */
export interface MockPullRequest {
  number: number;
  baseRef: string;
  headRef: string;
  state: "open" | "closed";
}

/** The result every mocked random.RandomPassword reports (letters and digits, as the program asks for). */
export const MOCK_RANDOM_PASSWORD = "MockGeneratedPassword0123456789x";

/** The default branch github.getRepository reports. */
export const DEFAULT_BRANCH = "main";

export const USER_IDS: Record<string, number> = { octocat: 583231, "release-bot": 41898282 };
export const TEAM_IDS: Record<string, number> = { "release-managers": 7001, ops: 7002 };

export function isSecretValue(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

/** Plain view of inputs with secrets unwrapped. */
export function plain(value: unknown): unknown {
  if (isSecretValue(value)) return plain(value.value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Every place (as a dotted path) where `needle` occurs in a plain, non-secret input. */
export function plaintextOccurrences(value: unknown, needle: string, path = ""): string[] {
  if (isSecretValue(value)) return [];
  if (typeof value === "string") return needle.length > 0 && value.includes(needle) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plaintextOccurrences(v, needle, `${path}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) =>
      plaintextOccurrences(v, needle, path ? `${path}.${k}` : k),
    );
  }
  return [];
}

/** The OpenSSH line of an ed25519 public key. */
export function openSshPublicKey(publicKey: KeyObject): string {
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const type = Buffer.from("ssh-ed25519");
  return `ssh-ed25519 ${Buffer.concat([u32(type.length), type, u32(raw.length), raw]).toString("base64")}`;
}

function ed25519OpenSsh(): { publicKeyOpenssh: string; privateKeyOpenssh: string } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return {
    publicKeyOpenssh: `${openSshPublicKey(publicKey)}\n`,
    // Not the OpenSSH container format, but a private key that is unique per mock key is all the tests need.
    privateKeyOpenssh: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function installMocks(
  stack: string,
  baseFiles = new Map<string, string>(),
  pullRequests: readonly MockPullRequest[] = [],
): MockRuntime {
  const runtime: MockRuntime = {
    resources: [],
    calls: [],
    callArgs: [],
    hostKeys: new Map(),
    baseFiles,
    pullRequests,
  };
  let elasticIps = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state: Record<string, unknown> = { ...args.inputs };
        runtime.resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          outputs: state,
        });
        if (args.type === "tls:index/privateKey:PrivateKey") Object.assign(state, ed25519OpenSsh());
        if (args.type === "random:index/randomPassword:RandomPassword")
          state["result"] = MOCK_RANDOM_PASSWORD;
        Object.assign(
          state,
          awsComputedOutputs(args.type, args.name, () => ++elasticIps),
        );
        if (args.type === "command:remote:Command") {
          const connection = plain(args.inputs["connection"]) as { host: string };
          const create = String(plain(args.inputs["create"]));
          const key = runtime.hostKeys.get(connection.host) ?? ed25519OpenSsh().publicKeyOpenssh.trim();
          runtime.hostKeys.set(connection.host, key);
          state["stdout"] = create.includes("ssh_host_ed25519_key.pub") ? `${key}\n` : "";
          state["stderr"] = "";
        }
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        runtime.calls.push(args.token);
        runtime.callArgs.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
        const inputs = args.inputs as Record<string, string>;
        const answer = awsCallAnswer(args.token, args.inputs as Record<string, unknown>);
        if (answer !== undefined) return answer;
        if (args.token === "github:index/getUser:getUser") {
          const id = USER_IDS[inputs["username"] ?? ""];
          if (id === undefined) throw new Error(`unmocked user ${inputs["username"]}`);
          return { id: String(id), login: inputs["username"] };
        }
        if (args.token === "github:index/getTeam:getTeam") {
          const id = TEAM_IDS[inputs["slug"] ?? ""];
          if (id === undefined) throw new Error(`unmocked team ${inputs["slug"]}`);
          return { id: String(id), slug: inputs["slug"] };
        }
        if (args.token === "github:index/getRepository:getRepository") {
          return { name: inputs["name"], defaultBranch: DEFAULT_BRANCH };
        }
        if (args.token === "github:index/getRepositoryFile:getRepositoryFile") {
          if (inputs["branch"] !== DEFAULT_BRANCH) throw new Error(`unmocked branch ${inputs["branch"]}`);
          const content = runtime.baseFiles.get(inputs["file"] ?? "");
          // A missing file: the provider's Read clears the id (terraform-plugin-sdk then reports "-"), no content.
          return content === undefined
            ? { id: "-", repository: inputs["repository"], file: inputs["file"] }
            : { id: `${inputs["repository"]}/${inputs["file"]}`, content, sha: "0".repeat(40) };
        }
        if (args.token === "github:index/getRepositoryPullRequests:getRepositoryPullRequests") {
          return { ...inputs, results: listPullRequests(runtime.pullRequests, inputs) };
        }
        throw new Error(`unmocked provider call ${args.token}`);
      },
    },
    "pipeline",
    stack,
    false,
  );
  return runtime;
}

/** GitHub's pull request list filters: head is `owner:branch`, state open (the default), closed or all. */
function listPullRequests(
  pullRequests: readonly MockPullRequest[],
  filter: Record<string, string>,
): MockPullRequest[] {
  const head = filter["headRef"];
  if (head !== undefined && !/^[^:]+:./.test(head))
    throw new Error(`GitHub wants head as owner:branch: ${head}`);
  const state = filter["state"] ?? "open";
  return pullRequests.filter(
    (pullRequest) =>
      (head === undefined || head.slice(head.indexOf(":") + 1) === pullRequest.headRef) &&
      (filter["baseRef"] === undefined || filter["baseRef"] === pullRequest.baseRef) &&
      (state === "all" || state === pullRequest.state),
  );
}

export function awaitOutput<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** Resource registration is asynchronous: wait until the recorded set stops growing. */
export async function settled(
  runtime: Pick<MockRuntime, "resources"> | { resources: unknown[] },
): Promise<void> {
  let last = -1;
  let stableRounds = 0;
  while (stableRounds < 5) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    stableRounds = runtime.resources.length === last ? stableRounds + 1 : 0;
    last = runtime.resources.length;
  }
}

export function ofType(runtime: MockRuntime, type: string): RecordedResource[] {
  return runtime.resources.filter((r) => r.type === type);
}

/** What the mocked AWS account holds. */
export const AWS_MOCK = {
  accountId: "123456789012",
  region: "eu-central-1",
  amiId: "ami-0debian12amd64",
  zoneId: "Z0123456789EXAMPLE",
  vpcOfSubnet: "vpc-0123456789abcdef0",
  /** The address of the n-th Elastic IP (from 1). */
  elasticIp: (n: number) => `203.0.113.${10 + n}`,
};

/** Outputs AWS computes for a created resource (names, ARNs, addresses); inputs are echoed besides. */
function awsComputedOutputs(type: string, name: string, nextIp: () => number): Record<string, unknown> {
  switch (type) {
    case "aws:ec2/eip:Eip":
      return { publicIp: AWS_MOCK.elasticIp(nextIp()) };
    case "aws:ec2/keyPair:KeyPair":
      return { keyName: `${name}-key` };
    case "aws:s3/bucket:Bucket":
      return { bucket: `${name}-a1b2c3d`, arn: `arn:aws:s3:::${name}-a1b2c3d` };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${AWS_MOCK.accountId}:role/${name}` };
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return { arn: `arn:aws:iam::${AWS_MOCK.accountId}:oidc-provider/token.actions.githubusercontent.com` };
    default:
      return {};
  }
}

/** The AWS and tls data sources the program reads; undefined for any other call. */
export function awsCallAnswer(
  token: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> | undefined {
  switch (token) {
    case "aws:ec2/getAmi:getAmi":
      return { id: AWS_MOCK.amiId, imageId: AWS_MOCK.amiId, name: "debian-12-amd64-20250101-1000" };
    case "aws:route53/getZone:getZone":
      return { id: AWS_MOCK.zoneId, zoneId: AWS_MOCK.zoneId, name: inputs["name"] };
    case "aws:ec2/getSubnet:getSubnet":
      return { id: inputs["id"], vpcId: AWS_MOCK.vpcOfSubnet };
    case "aws:index/getRegion:getRegion":
      return { id: AWS_MOCK.region, region: AWS_MOCK.region, name: AWS_MOCK.region };
    case "tls:index/getPublicKey:getPublicKey": {
      const pem = inputs["privateKeyPem"];
      if (typeof pem !== "string") throw new Error("the mock derives public keys from PEM private keys only");
      return { publicKeyOpenssh: `${openSshPublicKey(createPublicKey(pem))}\n` };
    }
    default:
      return undefined;
  }
}
