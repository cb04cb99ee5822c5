// Helpers of the real-host suite: a provisioned host per test file, root commands in the guest, HTTP from this
// machine, and SSH calls of the release agent whose stdin the test controls.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import type { PipelineConfig } from "../../src/config/types";
import { hostLayout } from "../../src/render/hostLayout";
import { CADDY_LOCAL_ROOT_CA } from "../../src/render/shell/steps/reverseProxy";
import {
  type DeployKeyPair,
  type RunnerFiles,
  type ScriptResult,
  type StepRun,
  buildArtifact,
  callAgent,
  generateDeployKey,
  newReleaseId,
  provisionHost,
  shipInvocation,
  shipRelease,
  spawnCollecting,
  stackOnHosts,
  writeRunnerFiles,
} from "../../src/sandbox";
import {
  type HostHandle,
  type HostSession,
  connect,
  createHost,
  destroyAllHosts,
  destroyHost,
  destroyHostsOnExit,
  sshCommandLineArgs,
} from "../../src/testhost";

export const APP_ENV = "GREETING=hello from the host tests\n";

/**
 * Hosts of one test file: created under the file's own owner, so a crashed run's leftovers are removed next time.
 * PIPELINE_HOST_OWNER_PREFIX sets the owner apart when two checkouts run the same file on one machine at once
 * (a pool removes every host of its owner before it creates its own).
 */
export class HostPool {
  readonly hosts: HostHandle[] = [];
  readonly owner: string;
  private removeExitHandlers: (() => void) | undefined;

  constructor(owner: string) {
    this.owner = `${process.env.PIPELINE_HOST_OWNER_PREFIX ?? ""}${owner}`;
  }

  async create(count: number): Promise<HostHandle[]> {
    destroyAllHosts({ owner: this.owner });
    this.removeExitHandlers ??= destroyHostsOnExit(() => this.hosts);
    for (let i = 0; i < count; i++) this.hosts.push(await createHost({ owner: this.owner }));
    return [...this.hosts];
  }

  async destroy(): Promise<void> {
    for (const host of this.hosts.splice(0)) await destroyHost(host);
    destroyAllHosts({ owner: this.owner });
    this.removeExitHandlers?.();
    this.removeExitHandlers = undefined;
  }
}

export interface Stack {
  hosts: HostHandle[];
  config: PipelineConfig;
  key: DeployKeyPair;
  files: RunnerFiles;
  runs: StepRun[][];
}

/**
 * Provisions every host (in parallel) with deploy key rotation 0, as the first `pulumi up` of a stack does; `appEnv`
 * is the app's env file (shared/.env).
 */
export async function provisionedStack(
  hosts: HostHandle[],
  overrides: Record<string, unknown> = {},
  appEnv = APP_ENV,
): Promise<Stack> {
  const config = stackOnHosts(hosts, overrides);
  const key = generateDeployKey("pipeline-ci-0");
  const runs = await Promise.all(
    hosts.map((host) =>
      provisionHost(host, config, {
        npmRegistry: host.npmRegistry,
        appEnv,
        deployPublicKey: key.publicKey,
      }),
    ),
  );
  return { hosts, config, key, files: writeRunnerFiles(config, key.privateKey), runs };
}

/** Runs a command as root in the guest and expects exit 0; returns stdout. */
export async function asRoot(host: HostHandle, command: string): Promise<string> {
  const session = await connect(host);
  try {
    const result = await session.exec(command, { timeoutMs: 120_000 });
    expect(result.code, `${command}\n${result.stderr}`).toBe(0);
    return result.stdout;
  } finally {
    session.end();
  }
}

export async function withRoot<T>(host: HostHandle, use: (session: HostSession) => Promise<T>): Promise<T> {
  const session = await connect(host);
  try {
    return await use(session);
  } finally {
    session.end();
  }
}

/** The release `current` points at on the host ("" when there is none). */
export async function currentRelease(host: HostHandle, config: PipelineConfig): Promise<string> {
  const target = await withRoot(host, (s) => s.exec(`readlink ${hostLayout(config).current}`));
  return target.code === 0 ? target.stdout.trim().replace(/^.*\//, "") : "";
}

/** Release ids listed by the agent's `releases` verb, and the one it marks current. */
export async function agentReleases(
  stack: Stack,
  host: HostHandle,
  files = stack.files,
): Promise<{ ids: string[]; current: string | undefined }> {
  const result = await callAgent(host, stack.config.deployUser, files, "releases");
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.split("\n").filter((line) => line.trim() !== "");
  return {
    ids: lines.map((line) => line.replace(/^[* ] /, "")),
    current: lines.find((line) => line.startsWith("* "))?.slice(2),
  };
}

export async function auditLog(host: HostHandle, config: PipelineConfig): Promise<string[]> {
  const text = await asRoot(host, `cat ${hostLayout(config).auditLog} 2>/dev/null || true`);
  return text.split("\n").filter((line) => line !== "");
}

export interface AuditEntry {
  key: string;
  actor: string;
  verb: string;
  release: string;
  result: string;
}

/**
 * The audit log, parsed. Everything that arrives with a deploy key is audited, read-only verbs too; `changes`
 * leaves out the `releases` listings the tests themselves make.
 */
export async function auditEntries(
  host: HostHandle,
  config: PipelineConfig,
  changes = true,
): Promise<AuditEntry[]> {
  const entries = (await auditLog(host, config)).map((line) => {
    const match =
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ key=(\S+) actor=(\S+) verb=(\S+) release=(\S+) result=(\S+) exit=\d+( signal=SIG[A-Z]+)?$/.exec(
        line,
      );
    if (!match) throw new Error(`not an audit line: ${line}`);
    const [, key = "", actor = "", verb = "", release = "", result = ""] = match;
    return { key, actor, verb, release, result };
  });
  return changes ? entries.filter((entry) => entry.verb !== "releases") : entries;
}

/** The url's host name: resolved to the test host by curl --resolve (no DNS inside the tests). */
export const SITE = "app.pipeline.test";
const run = promisify(execFile);

export interface CurlAnswer {
  status: number;
  headers: string;
  body: string;
}

/** curl from this machine to the test host, the site name resolved to its address, trusting only Caddy's local CA. */
export async function curl(
  host: HostHandle,
  caFile: string,
  url: string,
  extra: string[] = [],
): Promise<CurlAnswer> {
  const dir = mkdtempSync(join(tmpdir(), "proxy-test-"));
  const headerFile = join(dir, "headers");
  const { stdout } = await run(
    "curl",
    [
      "-sS",
      "--noproxy",
      "*",
      "--max-time",
      "20",
      "--resolve",
      `${SITE}:443:${host.address}`,
      "--resolve",
      `${SITE}:80:${host.address}`,
      "--cacert",
      caFile,
      "-D",
      headerFile,
      "-o",
      join(dir, "body"),
      "-w",
      "%{http_code}",
      ...extra,
      url,
    ],
    { maxBuffer: 1 << 20 },
  );
  return {
    status: Number(stdout.trim()),
    headers: readFileSync(headerFile, "utf8").toLowerCase(),
    body: readFileSync(join(dir, "body"), "utf8"),
  };
}

/** Caddy's local CA root (ingress.tls internal) of the host, in a local file for curl --cacert. */
export async function localCaFile(host: HostHandle): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), "proxy-ca-")), "root.crt");
  writeFileSync(file, await asRoot(host, `cat ${CADDY_LOCAL_ROOT_CA}`));
  return file;
}

export interface LoadOutcome {
  sent: number;
  /** Every request that did not get a 2xx answer: its status or its error. */
  failures: string[];
  /** How many answers each build label (the example app's `build`, a release id) gave, 2xx or not. */
  builds: Record<string, number>;
}

/**
 * GET requests over HTTPS on `connections` keep-alive connections, each pausing `pauseMs` between its requests
 * (8 x 40 ms: at most 200 req/s, the bench's steady load), until stop(): what users of the app see while it is
 * deployed. Back to back, the load itself saturates this 2-core machine during a deploy and a request may time out
 * for that alone. Trusts only `caFile`; `address` is where the url's host name is.
 */
export function httpsLoad(
  url: string,
  caFile: string,
  address: string,
  connections = 8,
  pauseMs = 40,
): { stop(): Promise<LoadOutcome> } {
  const target = new URL(url);
  const agent = new HttpsAgent({ keepAlive: true, maxSockets: connections, ca: readFileSync(caFile) });
  const outcome: LoadOutcome = { sent: 0, failures: [], builds: {} };
  const countBuild = (body: string): void => {
    const build = /"build":"([^"]+)"/.exec(body)?.[1];
    if (build !== undefined) outcome.builds[build] = (outcome.builds[build] ?? 0) + 1;
  };
  let running = true;
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      outcome.sent += 1;
      const req = httpsRequest(
        {
          host: address,
          servername: target.hostname,
          headers: { host: target.host },
          path: target.pathname,
          agent,
          timeout: 5_000,
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (body += chunk));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) outcome.failures.push(`HTTP ${status}`);
            countBuild(body);
            resolve();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (error) => {
        outcome.failures.push(error.message);
        resolve();
      });
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (running) {
      await once();
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  const workers = Array.from({ length: connections }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return outcome;
    },
  };
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** A plain GET from this machine (no proxy), as a user of the app would make it. */
export function httpGet(host: Pick<HostHandle, "address">, port: number, path: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: host.address, port, path, method: "GET", agent: false, timeout: 10_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * The port the proxy sends requests to on a host: the app's <port>, or the one after it while the upstream helper's
 * flag file for that one exists (deploy.strategy sideBySide). One app per host, so any app's flag.
 */
export async function servingPort(host: HostHandle, port: number): Promise<number> {
  const flag = `/var/lib/pipeline/*/upstream/${port + 1}`;
  const answer = await asRoot(
    host,
    `if ls ${flag} >/dev/null 2>&1; then echo ${port + 1}; else echo ${port}; fi`,
  );
  return Number(answer.trim());
}

/** A GET of the release the proxy sends requests to, on its own port (past the proxy). */
export async function servedGet(host: HostHandle, port: number, path: string): Promise<HttpAnswer> {
  return httpGet(host, await servingPort(host, port), path);
}

/** The build labels GET / answers with, over several requests (so that every pm2 worker gets asked). */
export async function servedBuilds(
  host: HostHandle,
  config: PipelineConfig,
  requests = 6,
): Promise<string[]> {
  const builds = new Set<string>();
  for (let i = 0; i < requests; i++) {
    const answer = await servedGet(host, config.app.port, "/");
    expect(answer.status).toBe(200);
    builds.add((JSON.parse(answer.body) as { build: string }).build);
  }
  return [...builds];
}

export interface Release {
  id: string;
  artifact: string;
}

/** A release of the example app whose build label is its id. */
export function makeRelease(config: PipelineConfig, healthy = true): Release {
  const id = newReleaseId();
  return { id, artifact: buildArtifact(config, { label: id, healthy }) };
}

export async function deploy(
  stack: Stack,
  release: Release,
  files = stack.files,
  actor = "octocat",
): Promise<ScriptResult> {
  return shipRelease(stack.config, files, release.artifact, release.id, actor);
}

export async function deployOk(stack: Stack, release: Release, files = stack.files): Promise<ScriptResult> {
  const result = await deploy(stack, release, files);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return result;
}

/** Polls until `check` returns true (for what the product does asynchronously); fails after `attempts`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  attempts = 100,
  pauseMs = 100,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new Error(`gave up waiting for: ${what}`);
}

/**
 * `ssh deploy@host deploy <id>` with the deploy key, whose stdin (the artifact) the test feeds itself, so a test
 * can keep an upload in flight (the agent reads it before taking the deploy lock, and gives it up after
 * deploy.uploadIdleTimeoutSeconds without data).
 */
export class DeployInFlight {
  readonly child: ChildProcessWithoutNullStreams;
  readonly result: Promise<ScriptResult>;
  private readonly artifact: Buffer;

  constructor(
    stack: Stack,
    host: HostHandle,
    readonly release: Release,
    actor = "octocat",
  ) {
    this.artifact = readFileSync(release.artifact);
    const args = [
      "-F",
      "none",
      "-T",
      ...sshCommandLineArgs(host, stack.files.keyFile, stack.files.knownHostsFile, stack.config.deployUser),
      `deploy ${release.id} --actor ${actor}`,
    ];
    ({ child: this.child, result: this.result } = spawnCollecting("ssh", args));
  }

  /** Sends the first half of the artifact and keeps stdin open. */
  sendFirstHalf(): void {
    this.child.stdin.write(this.artifact.subarray(0, Math.floor(this.artifact.length / 2)));
  }

  sendRest(): void {
    this.child.stdin.end(this.artifact.subarray(Math.floor(this.artifact.length / 2)));
  }
}

export interface TimedLine {
  /** Position of the line among every line received by this process's line recorders, in arrival order. */
  seq: number;
  deploy: string;
  text: string;
}

let lineSequence = 0;

/**
 * The deploy workflow's ship script (verbatim, same environment as shipRelease) with every output
 * line recorded in arrival order, so that two deploys running at once can be ordered against each other.
 */
export function shipReleaseRecordingLines(
  stack: Stack,
  release: Release,
  lines: TimedLine[],
  actor = "octocat",
): Promise<ScriptResult> {
  const { script, env } = shipInvocation(stack.config, stack.files, {
    ARTIFACT: release.artifact,
    RELEASE_ID: release.id,
    ACTOR: actor,
  });
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { env });
    let stdout = "";
    let stderr = "";
    const record = (stream: NodeJS.ReadableStream, append: (text: string) => void): void => {
      let partial = "";
      stream.on("data", (chunk: Buffer) => {
        const text = chunk.toString();
        append(text);
        const parts = (partial + text).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) lines.push({ seq: lineSequence++, deploy: release.id, text: line });
      });
    };
    record(child.stdout, (text) => (stdout += text));
    record(child.stderr, (text) => (stderr += text));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export { generateDeployKey, writeRunnerFiles };
