// A fleet of four hosts: batches in parallel, a failing third host puts the first two back (rollback-all), a canary
// that turns unhealthy in its bake goes back and the other hosts never hear of the release.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../src/config/types";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { hostLayout } from "../../src/render/hostLayout";
import { slotAppName } from "../../src/render/releaseSlots";
import { buildArtifact, newReleaseId, shipInvocation, shipRelease, spawnCollecting } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  HostPool,
  type Release,
  type Stack,
  agentReleases,
  asRoot,
  auditEntries,
  eventually,
  makeRelease,
  provisionedStack,
  servedBuilds,
  servingPort,
} from "./support";

const pool = new HostPool("host-tests-fleet");
const BROKEN = "FLEET_TEST_MISSING_RESOURCE";

describe("a fleet of four hosts", () => {
  let stack: Stack;
  let hosts: HostHandle[];
  let b: Release;

  beforeAll(async () => {
    hosts = await pool.create(4);
    stack = await provisionedStack(hosts, {
      deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 30, shutdownTimeoutSeconds: 2 },
    });
  });

  afterAll(async () => {
    await pool.destroy();
  });

  /** The stack with other deploy.* fleet settings (the hosts' provisioning does not depend on them). */
  const withFleet = (deploy: Partial<PipelineConfig["deploy"]>): PipelineConfig => ({
    ...stack.config,
    deploy: { ...stack.config.deploy, ...deploy },
  });

  const ship = async (config: PipelineConfig, release: Release) => {
    const started = Date.now();
    const result = await shipRelease(config, stack.files, release.artifact, release.id);
    return { ...result, seconds: (Date.now() - started) / 1000 };
  };

  const currents = async (): Promise<(string | undefined)[]> =>
    Promise.all(hosts.map(async (host) => (await agentReleases(stack, host)).current));

  it("deploys in batches that run in parallel, with each host's phase timings in the table", async () => {
    // The first deploy fills each host's package store; the two timed ones install from it alike.
    const warmUp = await ship(withFleet({ batchSize: "100%" }), makeRelease(stack.config));
    expect(warmUp.code, warmUp.stdout + warmUp.stderr).toBe(0);
    const serial = await ship(withFleet({ batchSize: 1 }), makeRelease(stack.config));
    expect(serial.code, serial.stdout + serial.stderr).toBe(0);
    b = makeRelease(stack.config);
    const batched = await ship(withFleet({ batchSize: "50%" }), b);
    expect(batched.code, batched.stdout + batched.stderr).toBe(0);
    console.log(
      `fleet of 4: one host after the other ${serial.seconds.toFixed(1)} s; batches of 2 ${batched.seconds.toFixed(1)} s`,
    );

    expect(await currents()).toEqual([b.id, b.id, b.id, b.id]);
    for (const host of hosts) expect(await servedBuilds(host, stack.config)).toEqual([b.id]);
    // Both hosts of a batch start before either finishes.
    const progress = batched.stdout.split("\n").filter((line) => /^(==>|OK)/.test(line));
    expect(progress.slice(0, 2).every((line) => line.startsWith("==>"))).toBe(true);
    const rows = batched.stdout.split("\n").filter((line) => /^\| 10\./.test(line));
    expect(rows).toHaveLength(4);
    for (const row of rows)
      expect(row).toMatch(
        /\| deployed \| \d+s \| [\d.]+s \| [\d.]+s \| [\d.]+s \| [\d.]+s \| [\d.]+s \| [\d.]+s \|$/,
      );
  });

  it("a failure on the third host puts the first two back on the release they had (rollback-all)", async () => {
    const third = hosts[2] as HostHandle;
    const fourth = hosts[3] as HostHandle;
    const envFile = hostLayout(stack.config).envFile;
    // Only the third host lacks what the new release needs: its health fails there, and only there.
    await asRoot(third, `printf '%s=1\\n' ${BROKEN} >> ${envFile}`);
    const c: Release = {
      id: newReleaseId(),
      artifact: "",
    };
    c.artifact = buildArtifact(stack.config, { label: c.id, unhealthyWhenEnv: BROKEN });
    const auditOfFourth = await auditEntries(fourth, stack.config);
    try {
      const result = await ship(withFleet({ batchSize: 1, onFailure: "rollback-all" }), c);
      expect(result.code, result.stdout + result.stderr).toBe(AGENT_EXIT.unhealthy);
      expect(result.stdout).toContain(`SKIP ${fourth.address}:${fourth.port}: not touched`);

      expect(await currents()).toEqual([b.id, b.id, b.id, b.id]);
      for (const host of hosts) expect(await servedBuilds(host, stack.config)).toEqual([b.id]);
      for (const host of hosts.slice(0, 2))
        expect((await auditEntries(host, stack.config)).slice(-2)).toMatchObject([
          { verb: "deploy", release: c.id, result: "ok" },
          { verb: "rollback", release: b.id, result: "ok" },
        ]);
      expect((await auditEntries(third, stack.config)).at(-1)).toMatchObject({
        verb: "deploy",
        release: c.id,
        result: "unhealthy",
      });
      expect((await agentReleases(stack, fourth)).ids).not.toContain(c.id);
      expect(await auditEntries(fourth, stack.config)).toEqual(auditOfFourth);
    } finally {
      await asRoot(third, `sed -i '/^${BROKEN}=/d' ${envFile}`);
    }
  });

  it("a canary that turns unhealthy during its bake goes back, and the other hosts are never touched", async () => {
    const canary = hosts[0] as HostHandle;
    const others = hosts.slice(1);
    const d = makeRelease(stack.config);
    const audits = await Promise.all(others.map((host) => auditEntries(host, stack.config)));
    const { script, env } = shipInvocation(
      withFleet({ canary: true, canaryBakeSeconds: 20, batchSize: 3 }),
      stack.files,
      { ARTIFACT: d.artifact, RELEASE_ID: d.id, ACTOR: "octocat" },
    );
    const { child, result } = spawnCollecting("bash", ["-c", script], env);
    child.stdin.end();
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await eventually("the canary bake to start", async () => output.includes("==> canary"), 600, 100);
    // The app hangs on the canary: the workers of the release it serves stop answering (as root, with the pids pm2
    // reports); the release it replaced stays warm beside it.
    const home = `/home/${stack.config.deployUser}`;
    const serving = slotAppName(stack.config, await servingPort(canary, stack.config.app.port));
    await asRoot(
      canary,
      `cd ${home} && runuser -u ${stack.config.deployUser} -- env HOME=${home} PM2_HOME=${home}/.pm2 ` +
        `PATH=/usr/local/bin:/usr/bin:/bin pm2 pid ${serving} | xargs -r kill -STOP`,
    );
    const run = await result;
    expect(run.code, output + run.stderr).toBe(AGENT_EXIT.unhealthy);
    expect(output).toMatch(/FAIL canary .*: unhealthy after \d+ good check\(s\)/);

    expect(await currents()).toEqual([b.id, b.id, b.id, b.id]);
    expect(await servedBuilds(canary, stack.config)).toEqual([b.id]);
    for (const [index, host] of others.entries()) {
      expect((await agentReleases(stack, host)).ids).not.toContain(d.id);
      expect(await auditEntries(host, stack.config)).toEqual(audits[index]);
    }
  });

  it("a cancelled deploy (SIGINT, as the runner sends) stops the host in progress and puts the switched one back", async () => {
    const e = makeRelease(stack.config);
    const { script, env } = shipInvocation(withFleet({ batchSize: 1 }), stack.files, {
      ARTIFACT: e.artifact,
      RELEASE_ID: e.id,
      ACTOR: "octocat",
    });
    const { child, result } = spawnCollecting("bash", ["-c", script], env);
    child.stdin.end();
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await eventually("the first host to be switched", async () => output.includes("OK   [1/4]"), 600, 50);
    child.kill("SIGINT");
    const run = await result;
    expect(run.code, output + run.stderr).toBe(AGENT_EXIT.interrupted);
    expect(output).toContain("Cancelled (SIGINT): stopping the hosts in progress");

    expect(await currents()).toEqual([b.id, b.id, b.id, b.id]);
    for (const host of hosts) expect(await servedBuilds(host, stack.config)).toEqual([b.id]);
    expect((await auditEntries(hosts[0] as HostHandle, stack.config)).slice(-2)).toMatchObject([
      { verb: "deploy", release: e.id, result: "ok" },
      { verb: "rollback", release: b.id, result: "ok" },
    ]);
    // The second host's deploy was cut: no trace of the release is left there once its agent has undone it.
    await eventually("the second host to undo the cut deploy", async () => {
      const names = await asRoot(hosts[1] as HostHandle, `ls -A ${hostLayout(stack.config).releases}`);
      return !names.includes(e.id);
    });
  });
});
