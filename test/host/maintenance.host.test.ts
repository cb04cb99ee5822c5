// Maintenance mode through the real proxy: the agent's verb switches it (audited), Caddy answers 503 with
// Retry-After and the page to everything but the health path, the mode survives a proxy reload and a deploy, and a
// deploy or a migration that switched it on switches it off again, after a failure too, and only then.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostLayout } from "../../src/render/hostLayout";
import { CADDYFILE } from "../../src/render/shell/steps/reverseProxy";
import { EXAMPLE_APP, callAgent, migrateAction, provisionHost } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  APP_ENV,
  HostPool,
  SITE,
  type Stack,
  asRoot,
  auditEntries,
  curl,
  deploy,
  deployOk,
  localCaFile,
  makeRelease,
  provisionedStack,
} from "./support";

const pool = new HostPool("host-tests-maintenance");
const SEEN = "maintenance-seen-by-migrations";
const FAIL_MARKER = "fail-the-next-migration";

/**
 * The example app's migration, preceded by a record of the mode it ran under (in the shared logs directory) and
 * failing while the marker file exists: what an app's migration sees, and a migration that fails.
 */
function migrateCommand(deployUser: string): string {
  const { maintenanceFlag, logs } = hostLayout({ deployUser, app: EXAMPLE_APP });
  return [
    `if [ -e ${maintenanceFlag} ]; then echo on; else echo off; fi >> ${logs}/${SEEN}`,
    `test ! -e ${logs}/${FAIL_MARKER}`,
    "pnpm run --if-present migrate",
  ].join(" && ");
}

describe("maintenance mode (agent verb, proxy, deploys and migrations)", () => {
  let stack: Stack;
  let host: HostHandle;
  let caFile: string;

  const page = async (path = "/", extra: string[] = []) =>
    curl(host, caFile, `https://${SITE}${path}`, extra);
  const agent = (command: string) => callAgent(host, stack.config.deployUser, stack.files, command);
  const seenByMigrations = async () =>
    (await asRoot(host, `cat ${hostLayout(stack.config).logs}/${SEEN} 2>/dev/null || true`))
      .split("\n")
      .filter(Boolean);
  const mode = async () => (await agent("maintenance status")).stdout;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    const app = { ...EXAMPLE_APP, instances: 2, services: [] };
    stack = await provisionedStack([host], {
      url: `https://${SITE}`,
      app: { ...app, migrateCommand: migrateCommand("deploy") },
      deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 30, maintenanceDuringMigrations: true },
    });
    await deployOk(stack, makeRelease(stack.config));
    caFile = await localCaFile(host);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("is off after provisioning: the app answers through the proxy", async () => {
    expect(await mode()).toBe("maintenance: off\n");
    expect((await page()).status).toBe(200);
  });

  it("answers 503 with Retry-After and the page to every method and path but the health path while on", async () => {
    const on = await agent("maintenance on --actor octocat");
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toBe("maintenance: on\n");
    const answer = await page("/orders/42");
    expect(answer.status).toBe(503);
    expect(answer.headers).toContain("retry-after: 120\r\n");
    expect(answer.headers).toContain("cache-control: no-store\r\n");
    expect(answer.body).toContain("example-app is down for maintenance");
    expect((await page("/upload", ["--data-binary", "x"])).status).toBe(503);
    const health = await page(stack.config.app.healthPath);
    expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: "ok\n" });
    expect((await auditEntries(host, stack.config)).at(-1)).toMatchObject({
      actor: "octocat",
      verb: "maintenance",
      result: "ok",
    });
  });

  it("stays on across a proxy reload with a changed Caddyfile, taking the new Retry-After and page", async () => {
    const changed = {
      ...stack.config,
      ingress: {
        ...stack.config.ingress,
        maintenanceRetryAfterSeconds: 30,
        maintenancePage: "<p>back at five</p>",
      },
    };
    const inode = await asRoot(host, `stat -c %i ${CADDYFILE}`);
    await provisionHost(host, changed, {
      npmRegistry: host.npmRegistry,
      appEnv: APP_ENV,
      deployPublicKey: stack.key.publicKey,
    });
    expect(await asRoot(host, `stat -c %i ${CADDYFILE}`)).not.toBe(inode);
    const answer = await page();
    expect(answer.status).toBe(503);
    expect(answer.headers).toContain("retry-after: 30\r\n");
    expect(answer.body).toBe("<p>back at five</p>");
  });

  it("stays on through a deploy that finds it on (its migrations run in maintenance; it is not switched off)", async () => {
    await deployOk(stack, makeRelease(stack.config));
    expect((await seenByMigrations()).at(-1)).toBe("on");
    expect(await mode()).toBe("maintenance: on\n");
    expect((await page()).status).toBe(503);
  });

  it("switches off, and the app answers again", async () => {
    const off = await agent("maintenance off --actor octocat");
    expect(off.stdout).toBe("maintenance: off\n");
    expect((await page()).status).toBe(200);
  });

  it("is on during a deploy's migrations (deploy.maintenanceDuringMigrations) and off once the release is live", async () => {
    const release = makeRelease(stack.config);
    await deployOk(stack, release);
    expect((await seenByMigrations()).at(-1)).toBe("on");
    expect(await mode()).toBe("maintenance: off\n");
    expect(JSON.parse((await page()).body)).toMatchObject({ build: release.id });
  });

  it("is switched off by a failed migration's cleanup when the deploy switched it on, and only then", async () => {
    const { logs } = hostLayout(stack.config);
    await asRoot(host, `touch ${logs}/${FAIL_MARKER}`);
    try {
      const failed = await deploy(stack, makeRelease(stack.config));
      expect(failed.code).toBe(70);
      expect((await seenByMigrations()).at(-1)).toBe("on");
      expect(await mode()).toBe("maintenance: off\n");
      expect((await page()).status).toBe(200);

      await agent("maintenance on");
      const failedAgain = await deploy(stack, makeRelease(stack.config));
      expect(failedAgain.code).toBe(70);
      expect(await mode()).toBe("maintenance: on\n");
    } finally {
      await asRoot(host, `rm -f ${logs}/${FAIL_MARKER}`);
      await agent("maintenance off");
    }
  });

  it("wraps the migrate workflow's action in maintenance when asked", async () => {
    const applied = await migrateAction(stack.config, stack.files, "migrate", "hubot", true);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect((await seenByMigrations()).at(-1)).toBe("on");
    expect(await mode()).toBe("maintenance: off\n");
    const plain = await migrateAction(stack.config, stack.files, "migrate", "hubot", false);
    expect(plain.code).toBe(0);
    expect((await seenByMigrations()).at(-1)).toBe("off");
  });

  it("lets the deploy user's files decide nothing else: the flag directory is the proxy's to read, root's to make", async () => {
    const { maintenanceDir } = hostLayout(stack.config);
    expect(
      await asRoot(
        host,
        `stat -c '%U:%G %a' ${maintenanceDir} ${maintenanceDir}/.. /etc/caddy/pipeline/maintenance.html`,
      ),
    ).toBe(`deploy:caddy 2750\nroot:root 755\nroot:root 644\n`);
  });
});
