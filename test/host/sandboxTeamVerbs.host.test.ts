// What a team does next with `npm run sandbox`, each verb through what the workflows use, on one sandbox brought up
// with a stack file that lists no host keys (the sandbox replaces its hosts): a root shell fed by a pipe, backup,
// backups, restore <id> (refused outside maintenance mode), maintenance on/off through the proxy, migrate up, status
// and down, and the app's logs.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { runCollecting, type ScriptResult } from "../../src/sandbox";
import { destroyAllHosts } from "../../src/testhost";

const ROOT = resolve(__dirname, "../..");
const OWNER_PREFIX = `${process.env.PIPELINE_HOST_OWNER_PREFIX ?? ""}team-verbs-`;
const stateDir = mkdtempSync(join(tmpdir(), "sandbox-state-"));
const scratch = mkdtempSync(join(tmpdir(), "team-verbs-"));
/** Files of the deploy user's, which the dump, restore and migration commands (run as that user) may write. */
const SHARED = "/home/deploy/apps/express-hello/shared";
const NOTES = `${SHARED}/notes.txt`;
const MIGRATIONS = `${SHARED}/migrations.txt`;

/** The team's stack file: hosts named but without host keys; a "database" that is one file, and its migrations. */
const STACK = [
  "config:",
  "  github:owner: someone",
  "  pipeline:repository: express-hello",
  "  pipeline:environment: staging",
  "  pipeline:branch: main",
  "  pipeline:url: https://express-hello.example.com",
  "  pipeline:ingress:",
  "    acmeEmail: ops@example.com",
  "  pipeline:hosts:",
  "    - name: web-1",
  "      host: web-1.example.com",
  "  pipeline:ownsRepositorySettings: true",
  "  pipeline:app:",
  "    name: express-hello",
  "    port: 8080",
  "    healthPath: /healthz",
  "    packageManagerField: false",
  "    startScript: server.js",
  "    lintCommand: ''",
  "    typecheckCommand: ''",
  "    testCommand: ''",
  "    artifactPaths: [server.js, version.json, package.json, pnpm-lock.yaml]",
  `    migrateCommand: echo applied 001 >> ${MIGRATIONS}`,
  `    migrateRollbackCommand: echo reverted 001 >> ${MIGRATIONS}`,
  `    migrateStatusCommand: cat ${MIGRATIONS}`,
  "  pipeline:backup:",
  `    dumpCommand: cat ${NOTES}`,
  `    restoreCommand: cat > ${NOTES}`,
  "  pipeline:deploy:",
  "    healthTimeoutSeconds: 15",
  "",
].join("\n");

function sandbox(args: string[], stdin?: string): Promise<ScriptResult> {
  return runCollecting(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "src/cli/sandbox.ts"), ...args], {
    env: { ...process.env, PIPELINE_SANDBOX_DIR: stateDir, PIPELINE_HOST_OWNER_PREFIX: OWNER_PREFIX },
    cwd: ROOT,
    ...(stdin !== undefined ? { stdin } : {}),
  });
}

async function sandboxOk(args: string[], stdin?: string): Promise<ScriptResult> {
  const result = await sandbox(args, stdin);
  expect(result.code, `${args.join(" ")}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

/** What a piped root shell prints for `command`. */
async function onHost(command: string): Promise<string> {
  return (await sandboxOk(["shell"], `${command}\n`)).stdout;
}

let up: ScriptResult;
let access: { url: string; caBundle: string };

/** The status through the host's proxy, with TLS checked against the CA that up printed. */
async function throughProxy(): Promise<string> {
  const answer = await runCollecting(
    "curl",
    ["-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", `${access.url}/`],
    { env: { ...process.env, CURL_CA_BUNDLE: access.caBundle } },
  );
  return answer.stdout + answer.stderr;
}

beforeAll(async () => {
  const app = join(scratch, "express-app");
  cpSync(join(ROOT, "test/fixtures/apps/express-app"), app, {
    recursive: true,
    filter: (src) => !src.includes("node_modules"),
  });
  const stack = join(scratch, "Pulumi.team.yaml");
  writeFileSync(stack, STACK);
  up = await sandbox(["up", "--config", stack, "--app", app]);
  const url = /^\S+ {2}(https:\/\/\S+)\/ through the proxy/m.exec(up.stdout)?.[1];
  const caBundle = /export CURL_CA_BUNDLE=(\S+)/.exec(up.stdout)?.[1];
  access = { url: url ?? "", caBundle: caBundle ?? "" };
}, 600_000);

afterAll(async () => {
  await sandbox(["down"]);
  destroyAllHosts({ owner: `${OWNER_PREFIX}sandbox` });
  rmSync(scratch, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

describe("before the sandbox is up", () => {
  it("each verb says that no sandbox is up", async () => {
    const other = mkdtempSync(join(tmpdir(), "no-sandbox-"));
    try {
      for (const args of [["shell"], ["logs"], ["backup"], ["backups"], ["migrate"], ["maintenance", "on"]]) {
        const result = await runCollecting(
          join(ROOT, "node_modules/.bin/tsx"),
          [join(ROOT, "src/cli/sandbox.ts"), ...args],
          { env: { ...process.env, PIPELINE_SANDBOX_DIR: other }, cwd: ROOT },
        );
        expect(result.code).toBe(1);
        expect(result.stderr).toBe("no sandbox is up (run: npm run sandbox -- up)\n");
      }
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe("a sandbox brought up with a stack file that lists no host keys", () => {
  it("came up with its local hosts' own keys", () => {
    expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
    expect(up.stdout).not.toContain("host keys (hosts[].hostKey) are ignored");
    expect(access.url).toMatch(/^https:\/\//);
  });

  it("shell: a root shell on the first host that runs what a pipe feeds it", async () => {
    const result = await sandboxOk(["shell"], "id -un\ncat /etc/hostname >/dev/null && echo ok\n");
    expect(result.stdout).toBe("root\nok\n");
    expect(result.stderr).toMatch(/^root shell on web-1 \(10\.200\.\d+\.\d+\); exit to leave\n/);
    const named = await sandboxOk(["shell", "web-1"], "id -u\n");
    expect(named.stdout).toBe("0\n");
    const missing = await sandbox(["shell", "2"], "id\n");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^no host 2 in the sandbox; its hosts: 1 web-1 10\.200\.\d+\.\d+\n$/);
  });

  it("backup, backups, restore <id>: refused outside maintenance mode, then restores the dump", async () => {
    await onHost(`echo before > ${NOTES} && chown deploy: ${NOTES}`);
    const backup = await sandboxOk(["backup"]);
    const id = /backup (\d{14}-\d{14}-[0-9a-f]+) \(kept on the host only/.exec(backup.stdout)?.[1];
    expect(id, backup.stdout).toBeDefined();
    const listed = await sandboxOk(["backups"]);
    expect(listed.stdout).toMatch(new RegExp(`newest first, size in bytes:\\n${id} 7\\n$`));

    await onHost(`echo after > ${NOTES}`);
    const refused = await sandbox(["restore", id ?? ""]);
    expect(refused.code).toBe(AGENT_EXIT.restoreRefused);
    expect(refused.stdout + refused.stderr).toContain("switch maintenance mode on first");
    expect(await onHost(`cat ${NOTES}`)).toBe("after\n");

    expect((await sandboxOk(["maintenance", "on"])).stdout).toMatch(/^10\.200\.\d+\.\d+: maintenance: on\n$/);
    expect(await throughProxy()).toBe("503");
    await sandboxOk(["restore", id ?? ""]);
    expect(await onHost(`cat ${NOTES}`)).toBe("before\n");
    expect((await sandboxOk(["maintenance", "status"])).stdout).toContain("maintenance: on");
    expect((await sandboxOk(["maintenance", "off"])).stdout).toMatch(/: maintenance: off\n$/);
    expect(await throughProxy()).toBe("200");

    // --confirm restores while the app keeps serving, as the restore workflow's confirm input does.
    await onHost(`echo later > ${NOTES}`);
    await sandboxOk(["restore", id ?? "", "--confirm"]);
    expect(await onHost(`cat ${NOTES}`)).toBe("before\n");
  });

  it("migrate: up (the default), status and down with the migrate workflow's script", async () => {
    expect(await onHost(`cat ${MIGRATIONS}`)).toBe("applied 001\n"); // the first deploy's migrations
    await sandboxOk(["migrate"]);
    expect((await sandboxOk(["migrate", "status"])).stdout).toContain("applied 001\napplied 001\n");
    await sandboxOk(["migrate", "down"]);
    expect(await onHost(`tail -n 1 ${MIGRATIONS}`)).toBe("reverted 001\n");
  });

  it("logs: the app's pm2 logs from each host", async () => {
    const logs = await sandboxOk(["logs", "--lines", "5"]);
    expect(logs.stdout).toMatch(
      /^web-1 \(10\.200\.\d+\.\d+\)\n--- \/home\/deploy\/apps\/express-hello\/shared\/logs\/express-hello-out\.log\n/,
    );
    // Side by side, the release listens on app.port or the next one.
    expect(logs.stdout).toMatch(/express-hello 1\.0\.0 listening on 808[01]/);
    expect(logs.stdout).toContain("--- /home/deploy/apps/express-hello/shared/logs/express-hello-error.log");
  });
});
