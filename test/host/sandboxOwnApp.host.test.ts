// `npm run sandbox` with apps not written for this repository: an Express app (start file at the root, /healthz,
// port 8080, exits at once on SIGINT) and a Fastify app in TypeScript (built with tsc), each with its own stack
// file, brought up with one command, deployed again and rolled back; and the errors a newcomer meets.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runCollecting, type ScriptResult } from "../../src/sandbox";
import { destroyAllHosts, loadHandle } from "../../src/testhost";
import { httpsLoad, servedGet } from "./support";

const ROOT = resolve(__dirname, "../..");
const FIXTURES = join(ROOT, "test/fixtures/apps");
const OWNER_PREFIX = `${process.env.PIPELINE_HOST_OWNER_PREFIX ?? ""}own-app-`;
const stateDir = mkdtempSync(join(tmpdir(), "sandbox-state-"));
const scratch = mkdtempSync(join(tmpdir(), "own-apps-"));

/** `npm run sandbox -- <args>`, as a user types it (in `cwd`), with this test's own state directory and hosts. */
function sandbox(args: string[], cwd = ROOT): Promise<ScriptResult> {
  return runCollecting(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "src/cli/sandbox.ts"), ...args], {
    env: { ...process.env, PIPELINE_SANDBOX_DIR: stateDir, PIPELINE_HOST_OWNER_PREFIX: OWNER_PREFIX },
    cwd,
  });
}

async function sandboxOk(args: string[], cwd = ROOT): Promise<ScriptResult> {
  const result = await sandbox(args, cwd);
  expect(result.code, `${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

/** A copy of a fixture app the test may change, as its developer would between deploys. */
function appCopy(name: string): string {
  const dir = join(scratch, `${name}-${Math.random().toString(16).slice(2, 8)}`);
  cpSync(join(FIXTURES, name), dir, { recursive: true, filter: (src) => !/node_modules|\/dist$/.test(src) });
  return dir;
}

function setVersion(dir: string, version: string): void {
  const file = join(dir, "package.json");
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), version }, null, 2));
}

async function served(port: number): Promise<{ app: string; version: string }> {
  const state = JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")) as { hosts: string[] };
  const host = loadHandle(state.hosts[0] ?? "");
  const answer = await servedGet(host, port, "/");
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body) as { app: string; version: string };
}

/** The https URL and the CA bundle that `up` and `status` print for the first host. */
function printedAccess(output: string): { url: string; caBundle: string } {
  const url = /^\S+ {2}(https:\/\/\S+)\/ through the proxy/m.exec(output)?.[1];
  const caBundle = /export CURL_CA_BUNDLE=(\S+)/.exec(output)?.[1];
  if (url === undefined || caBundle === undefined)
    throw new Error(`no https URL or CA bundle printed:\n${output}`);
  return { url, caBundle };
}

afterEach(async () => {
  await sandbox(["down"]);
});

afterAll(() => {
  destroyAllHosts({ owner: `${OWNER_PREFIX}sandbox` });
  rmSync(scratch, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

describe("an Express app with its own stack file", () => {
  it("comes up with one command, deploys again reusing its dependencies, rolls back, and explains a release that never gets healthy", async () => {
    const app = appCopy("express-app");
    const config = join(FIXTURES, "Pulumi.express.yaml");
    const up = await sandboxOk(["up", "--config", config, "--app", app]);
    expect(await served(8080)).toMatchObject({ app: "express-hello", version: "1.0.0" });

    // What up prints is enough to reach the app through the proxy, with TLS checked against the host's CA.
    const { url, caBundle } = printedAccess(up.stdout);
    const address = new URL(url).hostname;
    const trusted = await runCollecting(
      "curl",
      ["-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", `${url}/healthz`],
      {
        env: { ...process.env, CURL_CA_BUNDLE: caBundle },
      },
    );
    expect(trusted.stdout + trusted.stderr).toBe("200");
    const untrusted = await runCollecting(
      "curl",
      ["-sS", "--noproxy", "*", "-o", "/dev/null", `${url}/healthz`],
      {
        env: { ...process.env, CURL_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt" },
      },
    );
    expect(untrusted.code).not.toBe(0);

    // An app that exits at once on SIGINT, deployed and rolled back under steady load through the proxy.
    const load = httpsLoad(`${url}/`, caBundle, address);
    setVersion(app, "1.1.0");
    const second = await sandboxOk(["deploy", "--config", config, "--app", app]);
    expect(second.stdout + second.stderr).toContain("lockfile unchanged since");
    // The progress is plain text without pm2's own lines (pm2 colours them even into a pipe).
    expect(second.stdout).not.toContain("\x1b");
    expect(second.stdout).not.toMatch(/^\[[^\]]+\] (\[PM2\]|Module$)/m);
    expect(await served(8080)).toMatchObject({ version: "1.1.0" });
    await sandboxOk(["rollback"]);
    expect(await served(8080)).toMatchObject({ version: "1.0.0" });
    const seen = await load.stop();
    expect(seen.failures).toEqual([]);
    expect(seen.sent).toBeGreaterThan(200);

    // A release that listens on another port than the PORT it is given.
    writeFileSync(
      join(app, "server.js"),
      readFileSync(join(app, "server.js"), "utf8").replace("Number(process.env.PORT || 8080)", "9999"),
    );
    setVersion(app, "1.2.0");
    const broken = await sandbox(["deploy", "--app", app]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("the app never became healthy on");
    expect(broken.stderr).toContain(
      "nothing answered on port 8080: check that the app listens on the PORT it is given (app.port)",
    );
    expect(broken.stderr).toContain("express-hello 1.2.0 listening on 9999");
    expect(await served(8080)).toMatchObject({ version: "1.0.0" });
  });
});

describe("a Fastify app in TypeScript", () => {
  it("comes up with --stack <name> from its stack file's directory, deploys again and rolls back", async () => {
    const app = appCopy("fastify-app");
    await sandboxOk(["up", "--stack", "fastify", "--app", app], FIXTURES);
    expect(await served(3000)).toMatchObject({ app: "fastify-hello", version: "1.0.0" });
    setVersion(app, "2.0.0");
    await sandboxOk(["deploy", "--stack", "fastify", "--app", app], FIXTURES);
    expect(await served(3000)).toMatchObject({ version: "2.0.0" });
    await sandboxOk(["rollback", "--stack", "fastify"], FIXTURES);
    expect(await served(3000)).toMatchObject({ version: "1.0.0" });
  });
});

describe("bad input stops before any host is made", () => {
  const config = join(FIXTURES, "Pulumi.express.yaml");
  const refused = async (args: string[]): Promise<string> => {
    const result = await sandbox(args);
    expect(result.code).toBe(1);
    const status = await sandbox(["status"]);
    expect(status.stderr).toContain("no sandbox is up");
    return result.stderr;
  };

  it("an app with an npm lockfile: says to run pnpm import", async () => {
    const app = appCopy("express-app");
    rmSync(join(app, "pnpm-lock.yaml"));
    writeFileSync(join(app, "package-lock.json"), "{}\n");
    expect(await refused(["up", "--config", config, "--app", app])).toContain(
      "package-lock.json but no pnpm-lock.yaml: the pipeline installs with pnpm",
    );
  });

  it("a failing build: shows its output", async () => {
    const app = appCopy("express-app");
    writeFileSync(
      join(app, "scripts/write-version.js"),
      'console.error("cannot find the icons"); process.exit(3);\n',
    );
    const message = await refused(["up", "--config", config, "--app", app]);
    expect(message).toContain("the build (app.buildCommand) failed (pnpm run build, exit 3)");
    expect(message).toContain("cannot find the icons");
  });

  it("a stack file's host keys: says that the sandbox ignores them (before the build, which fails here)", async () => {
    const app = appCopy("express-app");
    writeFileSync(join(app, "scripts/write-version.js"), "process.exit(3);\n");
    const result = await sandbox(["up", "--config", config, "--app", app]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "the stack's host keys (hosts[].hostKey) are ignored: the sandbox replaces its hosts with local ones and pins their own keys\n",
    );
  });

  it("a start script the artifact does not contain: names app.startScript", async () => {
    const app = appCopy("express-app");
    const stack = join(scratch, "Pulumi.moved.yaml");
    writeFileSync(
      stack,
      readFileSync(config, "utf8").replace("startScript: server.js", "startScript: dist/server.js"),
    );
    expect(await refused(["up", "--config", stack, "--app", app])).toContain(
      "the artifact has no dist/server.js, the file pm2 starts (app.startScript)",
    );
  });
});
