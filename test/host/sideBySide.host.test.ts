// Side-by-side releases (deploy.strategy sideBySide) on a real host, through the real proxy, the real upstream helper
// and pm2: an unhealthy release never gets a request, the replaced release stays warm and a rollback to it is a
// switch, a fixed-port app is refused, a restart of the host's services comes back on the same release, and the
// strategy can change both ways. Each test builds on the host state the one before it left.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { hostLayout } from "../../src/render/hostLayout";
import { slotAppName, slotPorts } from "../../src/render/releaseSlots";
import { rollbackRelease } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  HostPool,
  type LoadOutcome,
  type Release,
  SITE,
  type Stack,
  asRoot,
  curl,
  deploy,
  deployOk,
  httpGet,
  httpsLoad,
  localCaFile,
  makeRelease,
  provisionedStack,
  servedGet,
  servingPort,
} from "./support";

const pool = new HostPool("host-tests-side-by-side");

/** `release` whose server listens on `port` whatever PORT it is given (a starter app's fixed port). */
function withFixedPort(release: Release, port: number): Release {
  const dir = mkdtempSync(join(tmpdir(), "release-fixed-port-"));
  try {
    execFileSync("tar", ["-xzf", release.artifact, "-C", dir]);
    const file = join(dir, "dist", "server.js");
    const source = readFileSync(file, "utf8");
    const fixed = source.replace("Number(process.env.PORT || 3000)", String(port));
    if (fixed === source) throw new Error("the example app no longer reads PORT as this test expects");
    writeFileSync(file, fixed);
    execFileSync("tar", ["-czf", release.artifact, "-C", dir, "."]);
    return release;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function buildOn(host: HostHandle, port: number): Promise<string> {
  const answer = await httpGet(host, port, "/");
  return (JSON.parse(answer.body) as { build: string }).build;
}

describe("side-by-side releases behind the proxy", () => {
  let stack: Stack;
  let host: HostHandle;
  let caFile: string;
  let first: Release;
  let second: Release;
  const load = (): { stop(): Promise<LoadOutcome> } => httpsLoad(`https://${SITE}/`, caFile, host.address);
  const deployUser = (): string => {
    const user = stack.config.deployUser;
    return `cd /; runuser -u ${user} -- env HOME=/home/${user} PM2_HOME=/home/${user}/.pm2 PATH=/usr/local/bin:/usr/bin:/bin`;
  };
  const slotProcesses = async (): Promise<string[]> =>
    (await asRoot(host, `${deployUser()} pm2 jlist`).then((json) => JSON.parse(json) as { name: string }[]))
      .map((app) => app.name)
      .filter((name, index, all) => name !== "pm2-logrotate" && all.indexOf(name) === index)
      .sort();

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    stack = await provisionedStack([host], { url: `https://${SITE}`, ingress: { tls: "internal" } });
    caFile = await localCaFile(host);
    first = makeRelease(stack.config);
    await deployOk(stack, first);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("gates a release on its own port: an unhealthy one answers none of the requests sent through the proxy", async () => {
    const before = await servingPort(host, stack.config.app.port);
    const users = load();
    const bad = makeRelease(stack.config, false);
    const result = await deploy(stack, bad);
    const seen = await users.stop();
    expect(result.code).toBe(AGENT_EXIT.unhealthy);
    expect(result.stdout).toContain(`${first.id} kept serving (the proxy never sent ${bad.id} a request)`);
    expect(seen.builds[bad.id]).toBeUndefined();
    expect(seen.failures).toEqual([]);
    expect(seen.builds[first.id]).toBeGreaterThan(50);
    expect(await servingPort(host, stack.config.app.port)).toBe(before);
    expect(await slotProcesses()).toEqual([slotAppName(stack.config, before)]);
  });

  it("starts a deploy beside the serving release, keeps the replaced one warm, and rolls back to it with a switch", async () => {
    const [portA, portB] = slotPorts(stack.config);
    const before = await servingPort(host, stack.config.app.port);
    const users = load();
    second = makeRelease(stack.config);
    const deployed = await deployOk(stack, second);
    expect(deployed.stdout).toContain(`${first.id} stays warm on port ${before} for a rollback`);
    const after = await servingPort(host, stack.config.app.port);
    expect(after).toBe(before === portA ? portB : portA);
    expect(await buildOn(host, after)).toBe(second.id);
    expect(await buildOn(host, before)).toBe(first.id);
    expect(await slotProcesses()).toEqual([
      slotAppName(stack.config, portA),
      slotAppName(stack.config, portB),
    ]);

    const back = await rollbackRelease(stack.config, stack.files);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toContain(`${first.id} is warm on port ${before}: switching the proxy`);
    const seen = await users.stop();
    expect(seen.failures).toEqual([]);
    expect(await servingPort(host, stack.config.app.port)).toBe(before);
    expect((await curl(host, caFile, `https://${SITE}/`)).body).toContain(first.id);
    // The release rolled back from is the warm one now.
    expect(await buildOn(host, after)).toBe(second.id);
  });

  it("refuses a release that listens on a fixed port, names the fix, and leaves the serving release", async () => {
    const serving = await servingPort(host, stack.config.app.port);
    const fixed = withFixedPort(makeRelease(stack.config), serving);
    const result = await deploy(stack, fixed);
    expect(result.code).toBe(AGENT_EXIT.unhealthy);
    expect(result.stdout).toMatch(
      new RegExp(
        `${fixed.id} (listens on port ${serving}|tried to listen on port ${serving} \\(EADDRINUSE\\)) instead of the PORT it was given`,
      ),
    );
    expect(result.stdout).toContain("set pipeline:deploy.strategy to reload");
    expect(await servingPort(host, stack.config.app.port)).toBe(serving);
    expect((await servedGet(host, stack.config.app.port, "/")).body).toContain(first.id);
  });

  it("comes back on the same release through the proxy after the host's services restart (pm2 resurrect, Caddy)", async () => {
    const serving = await servingPort(host, stack.config.app.port);
    await asRoot(host, `${deployUser()} pm2 kill >/dev/null`);
    await asRoot(
      host,
      "pkill -x -u caddy caddy; while pgrep -x -u caddy caddy >/dev/null; do sleep 0.1; done",
    );
    await asRoot(host, `${deployUser()} NODE_CLUSTER_SCHED_POLICY=none pm2 resurrect >/dev/null`);
    // The reverse-proxy step starts Caddy again where no systemd does (these hosts).
    stack = await provisionedStack([host], { url: `https://${SITE}`, ingress: { tls: "internal" } });
    expect(stack.runs[0]?.every((run) => run.code === 0)).toBe(true);
    expect(await servingPort(host, stack.config.app.port)).toBe(serving);
    const answer = await curl(host, caFile, `https://${SITE}/`);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain(first.id);
  });

  it("with deploy.previousRelease stopped, stops the replaced release once it has finished its requests", async () => {
    stack = await provisionedStack([host], {
      url: `https://${SITE}`,
      ingress: { tls: "internal" },
      deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 30, previousRelease: "stopped" },
    });
    const users = load();
    const third = makeRelease(stack.config);
    const result = await deployOk(stack, third);
    const seen = await users.stop();
    expect(result.stdout).toContain("(deploy.previousRelease stopped)");
    expect(seen.failures).toEqual([]);
    const serving = await servingPort(host, stack.config.app.port);
    expect(await slotProcesses()).toEqual([slotAppName(stack.config, serving)]);
  });

  it("changes to deploy.strategy reload and back, restarting in place once each way without a failed request", async () => {
    const config = { url: `https://${SITE}`, ingress: { tls: "internal" } };
    stack = await provisionedStack([host], { ...config, deploy: { strategy: "reload" } });
    let users = load();
    const inPlace = makeRelease(stack.config);
    await deployOk(stack, inPlace);
    let seen = await users.stop();
    expect(seen.failures).toEqual([]);
    expect(await slotProcesses()).toEqual([stack.config.app.name]);
    expect(await servingPort(host, stack.config.app.port)).toBe(stack.config.app.port);
    expect(await buildOn(host, stack.config.app.port)).toBe(inPlace.id);
    expect(await asRoot(host, `ls -A ${hostLayout(stack.config).appRoot}/slots`)).toBe("");

    stack = await provisionedStack([host], config);
    users = load();
    const beside = makeRelease(stack.config);
    const result = await deployOk(stack, beside);
    seen = await users.stop();
    expect(result.stdout).toContain("stopped the in-place app");
    expect(seen.failures).toEqual([]);
    const serving = await servingPort(host, stack.config.app.port);
    expect(await slotProcesses()).toEqual([slotAppName(stack.config, serving)]);
    expect(await buildOn(host, serving)).toBe(beside.id);
  });
});
