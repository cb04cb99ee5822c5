// Deploys, failed deploys, rollbacks and a deploy killed midway, through the workflows' own scripts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { hostLayout } from "../../src/render/hostLayout";
import { rollbackRelease } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  DeployInFlight,
  HostPool,
  type Stack,
  agentReleases,
  asRoot,
  auditEntries,
  currentRelease,
  deploy,
  deployOk,
  eventually,
  servedGet,
  makeRelease,
  provisionedStack,
  type Release,
  servedBuilds,
  withRoot,
} from "./support";

const pool = new HostPool("host-tests-deploy");

/** `release` with scripts added to its package.json (the example app's artifact, unpacked and packed again). */
function withScripts(release: Release, scripts: Record<string, string>): Release {
  const dir = mkdtempSync(join(tmpdir(), "release-scripts-"));
  try {
    execFileSync("tar", ["-xzf", release.artifact, "-C", dir]);
    const file = join(dir, "package.json");
    const packageJson = JSON.parse(readFileSync(file, "utf8")) as { scripts: Record<string, string> };
    packageJson.scripts = { ...packageJson.scripts, ...scripts };
    writeFileSync(file, JSON.stringify(packageJson));
    execFileSync("tar", ["-czf", release.artifact, "-C", dir, "."]);
    return release;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("deploying the example app", () => {
  let stack: Stack;
  let host: HostHandle;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    stack = await provisionedStack([host]);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("makes a release live and healthy, marks it current, and records who deployed it", async () => {
    const release = makeRelease(stack.config);
    const result = await deploy(stack, release, stack.files, "hubot");
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`Deployed ${release.id} to 1 host(s).`);
    // The host's Node (the default line) runs the migrate script itself: no pnpm start-up.
    expect(result.stdout + result.stderr).toMatch(
      new RegExp(`release-agent: migrations: node --run migrate \\(Node ${stack.config.app.nodeVersion}\\.`),
    );

    expect(await servedGet(host, stack.config.app.port, stack.config.app.healthPath)).toEqual({
      status: 200,
      body: "ok\n",
    });
    const answer = JSON.parse((await servedGet(host, stack.config.app.port, "/")).body) as Record<
      string,
      unknown
    >;
    expect(answer).toMatchObject({
      build: release.id,
      greeting: "hello from the host tests",
      migrations: "001_init",
    });
    expect(await servedBuilds(host, stack.config)).toEqual([release.id]);

    expect(await agentReleases(stack, host)).toMatchObject({ current: release.id });
    expect(await currentRelease(host, stack.config)).toBe(release.id);
    expect((await auditEntries(host, stack.config)).at(-1)).toEqual({
      key: "ci-0",
      actor: "hubot",
      verb: "deploy",
      release: release.id,
      result: "ok",
    });
  });

  it("runs the migrations with pnpm when package.json has a premigrate script, and both scripts run", async () => {
    const release = withScripts(makeRelease(stack.config), {
      premigrate: `node -e "require('fs').writeFileSync('premigrated', process.env.npm_lifecycle_event)"`,
    });
    const result = await deployOk(stack, release);
    expect(result.stdout + result.stderr).toContain(
      "release-agent: migrations: pnpm (package.json has a premigrate or postmigrate script, which only a package manager runs)",
    );
    const dir = `${hostLayout(stack.config).releases}/${release.id}`;
    expect(await asRoot(host, `cat ${dir}/premigrated`)).toBe("premigrate");
    expect(await asRoot(host, `cat ${dir}/.migrated`)).toBe("001_init\n");
  });

  it("keeps the previous release serving when the new one fails its health check", async () => {
    const good = makeRelease(stack.config);
    await deployOk(stack, good);
    const bad = makeRelease(stack.config, false);

    const result = await deploy(stack, bad);
    expect(result.code).toBe(AGENT_EXIT.unhealthy);
    expect(result.stdout).toContain(`exit ${AGENT_EXIT.unhealthy}: unhealthy`);
    // The gate names what it saw: the app answered (503 "unhealthy"), so the hint points at its logs.
    expect(result.stdout).toMatch(/with 2xx within \d+s: \d+ answers?, the last 503 \("unhealthy"\)/);
    expect(result.stdout).toContain("release-agent: hint: the app answers but /health returned 503");

    expect(await currentRelease(host, stack.config)).toBe(good.id);
    expect(await servedBuilds(host, stack.config)).toEqual([good.id]);
    expect((await servedGet(host, stack.config.app.port, stack.config.app.healthPath)).status).toBe(200);
    const releases = await agentReleases(stack, host);
    expect(releases.current).toBe(good.id);
    expect(releases.ids).not.toContain(bad.id);
    expect((await auditEntries(host, stack.config)).at(-1)).toMatchObject({
      verb: "deploy",
      release: bad.id,
      result: "unhealthy",
    });
  });

  it("rolls back to the previous release, to a named one, and refuses an unknown one", async () => {
    const a = makeRelease(stack.config);
    const b = makeRelease(stack.config);
    await deployOk(stack, a);
    await deployOk(stack, b);
    expect(await servedBuilds(host, stack.config)).toEqual([b.id]);

    const back = await rollbackRelease(stack.config, stack.files);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toContain(`Rolling back to ${a.id}`);
    expect(await currentRelease(host, stack.config)).toBe(a.id);
    expect(await servedBuilds(host, stack.config)).toEqual([a.id]);

    const forward = await rollbackRelease(stack.config, stack.files, b.id);
    expect(forward.code, forward.stdout + forward.stderr).toBe(0);
    expect(await currentRelease(host, stack.config)).toBe(b.id);
    expect(await servedBuilds(host, stack.config)).toEqual([b.id]);

    const unknown = await rollbackRelease(stack.config, stack.files, "20200101000000-0123456789ab");
    expect(unknown.code).toBe(AGENT_EXIT.releaseNotFound);
    expect(await currentRelease(host, stack.config)).toBe(b.id);
    expect(await servedBuilds(host, stack.config)).toEqual([b.id]);
    expect((await auditEntries(host, stack.config)).slice(-3)).toMatchObject([
      { verb: "rollback", release: a.id, result: "ok" },
      { verb: "rollback", release: b.id, result: "ok" },
      { verb: "rollback", release: "20200101000000-0123456789ab", result: "releaseNotFound" },
    ]);
  });

  it("leaves current intact when a deploy is killed midway, and the next deploy succeeds and cleans up", async () => {
    const layout = hostLayout(stack.config);
    const serving = makeRelease(stack.config);
    await deployOk(stack, serving);

    // The agent has created releases/.incoming-<id>.<pid> and reads the artifact into it (before the lock).
    const killed = new DeployInFlight(stack, host, makeRelease(stack.config));
    killed.sendFirstHalf();
    const incoming = `${layout.releases}/.incoming-${killed.release.id}.*`;
    await eventually(
      `${incoming} to appear`,
      async () => (await withRoot(host, (s) => s.exec(`test -d ${incoming}`))).code === 0,
    );

    // SIGKILL: no trap runs, nothing gets undone by the agent itself. The pattern matches the agent's own command
    // line (bash running the script), not the shell that runs pkill.
    await asRoot(host, `pkill -KILL -f '^/bin/bash /usr/local/lib/pipeline/release-agent'`);
    killed.child.kill("SIGKILL"); // the runner is cancelled too
    await killed.result;

    expect(await currentRelease(host, stack.config)).toBe(serving.id);
    expect(await servedBuilds(host, stack.config)).toEqual([serving.id]);
    expect((await servedGet(host, stack.config.app.port, stack.config.app.healthPath)).status).toBe(200);
    expect((await agentReleases(stack, host)).ids).not.toContain(killed.release.id);
    expect(await asRoot(host, `ls -A ${layout.releases} | grep -v '^[0-9]' || true`)).toMatch(
      new RegExp(`^\\.incoming-${killed.release.id}\\.[0-9]+\\n$`),
    );

    const next = makeRelease(stack.config);
    await deployOk(stack, next);
    expect(await currentRelease(host, stack.config)).toBe(next.id);
    expect(await servedBuilds(host, stack.config)).toEqual([next.id]);
    expect(await asRoot(host, `ls -A ${layout.releases} | grep -v '^[0-9]' || true`)).toBe("");
    expect((await agentReleases(stack, host)).ids).not.toContain(killed.release.id);
  });

  it("keeps only the configured number of releases, never pruning current or the previous one", async () => {
    for (let i = 0; i < stack.config.deploy.keepReleases; i++)
      await deployOk(stack, makeRelease(stack.config));
    const { ids, current } = await agentReleases(stack, host);
    expect(ids).toHaveLength(stack.config.deploy.keepReleases);
    expect(current).toBe(ids[0]);
  });
});
