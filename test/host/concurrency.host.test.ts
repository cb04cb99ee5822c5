// Two deploys at the same time: the agent's lock serializes them, or refuses the second after lockTimeoutSeconds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../src/config/types";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { hostLayout } from "../../src/render/hostLayout";
import { provisioningSteps } from "../../src/render/shell/provisioning";
import { rollbackRelease, runSteps, stackOnHosts } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  DeployInFlight,
  HostPool,
  type Stack,
  type TimedLine,
  agentReleases,
  auditEntries,
  currentRelease,
  deploy,
  deployOk,
  eventually,
  makeRelease,
  provisionedStack,
  servedBuilds,
  shipReleaseRecordingLines,
  withRoot,
} from "./support";

const pool = new HostPool("host-tests-concurrency");

/** Installs the release agent rendered from `config` (what `pulumi up` does after a deploy.* config change). */
async function installAgent(host: HostHandle, config: PipelineConfig): Promise<void> {
  const step = provisioningSteps(config, { npmRegistry: host.npmRegistry }).find(
    (s) => s.name === "release-agent",
  );
  if (!step) throw new Error("no release-agent step");
  await runSteps(host, [step]);
}

/**
 * First and last line the agent printed under the deploy lock for one deploy (the ship script prefixes them with
 * `[host] `), as positions in the arrival order of all lines. The upload comes before the lock (invariant 15), so
 * its phase line is not part of the span.
 */
function agentSpan(lines: TimedLine[], releaseId: string): { first: number; last: number } {
  const own = lines.filter(
    (line) =>
      line.deploy === releaseId &&
      /^\[[^\]]+\] release-agent: /.test(line.text) &&
      !/ release-agent: phase upload [\d.]+s$/.test(line.text),
  );
  expect(own.at(-1)?.text).toMatch(new RegExp(`\\] release-agent: release ${releaseId} is live$`));
  return { first: own[0]?.seq ?? -1, last: own.at(-1)?.seq ?? -1 };
}

describe("concurrent deploys", () => {
  let stack: Stack;
  let host: HostHandle;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    stack = await provisionedStack([host]);
    await deployOk(stack, makeRelease(stack.config));
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("are serialized: both succeed, one after the other", async () => {
    const a = makeRelease(stack.config);
    const b = makeRelease(stack.config);
    const lines: TimedLine[] = [];
    const [resultA, resultB] = await Promise.all([
      shipReleaseRecordingLines(stack, a, lines),
      shipReleaseRecordingLines(stack, b, lines),
    ]);
    expect(resultA.code, resultA.stdout + resultA.stderr).toBe(0);
    expect(resultB.code, resultB.stdout + resultB.stderr).toBe(0);

    // Everything the agent does for a deploy happens under the lock: the two spans must not interleave.
    const spanA = agentSpan(lines, a.id);
    const spanB = agentSpan(lines, b.id);
    const [earlier, later] = spanA.first < spanB.first ? [spanA, spanB] : [spanB, spanA];
    expect(earlier.last).toBeLessThan(later.first);

    const last = spanA.first < spanB.first ? b : a;
    expect(await currentRelease(host, stack.config)).toBe(last.id);
    expect(await servedBuilds(host, stack.config)).toEqual([last.id]);
    expect((await agentReleases(stack, host)).ids).toEqual(expect.arrayContaining([a.id, b.id]));
    const audited = (await auditEntries(host, stack.config)).slice(-2);
    expect(audited.map((entry) => `${entry.release} ${entry.result}`).sort()).toEqual(
      [`${a.id} ok`, `${b.id} ok`].sort(),
    );
  });

  it("refuses the second deploy with lockTimeout when the lock is not free within lockTimeoutSeconds", async () => {
    // Migrations that take a few seconds keep the first deploy under the lock (the upload is not: see below).
    const impatient = stackOnHosts([host], {
      deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 0 },
      app: { ...stack.config.app, migrateCommand: `sleep 4 && ${stack.config.app.migrateCommand}` },
    });
    await installAgent(host, impatient);
    try {
      const before = await currentRelease(host, stack.config);
      const first = new DeployInFlight(stack, host, makeRelease(stack.config));
      const migrating = new Promise<void>((resolve) => {
        let stderr = "";
        first.child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes("running migrations")) resolve();
        });
      });
      first.sendFirstHalf();
      first.sendRest();
      await migrating;

      const second = makeRelease(stack.config);
      const refused = await deploy(stack, second);
      expect(refused.code, refused.stdout + refused.stderr).toBe(AGENT_EXIT.lockTimeout);
      expect(refused.stdout).toContain(`exit ${AGENT_EXIT.lockTimeout}: lock timeout`);
      // The agent's messages reach the ship script's output prefixed with the host.
      expect(refused.stdout).toContain("release-agent: error: another deploy, rollback or migration holds");
      expect(await currentRelease(host, stack.config)).toBe(before);

      const finished = await first.result;
      expect(finished.code, finished.stderr).toBe(0);
      expect(await currentRelease(host, stack.config)).toBe(first.release.id);
      expect(await servedBuilds(host, stack.config)).toEqual([first.release.id]);
      const { ids } = await agentReleases(stack, host);
      expect(ids).not.toContain(second.id);
      expect((await auditEntries(host, stack.config)).slice(-2)).toMatchObject([
        { verb: "deploy", release: second.id, result: "lockTimeout" },
        { verb: "deploy", release: first.release.id, result: "ok" },
      ]);
    } finally {
      await installAgent(host, stack.config);
    }
  });

  it("never makes a rollback wait for a stalled upload, and gives the upload up after uploadIdleTimeoutSeconds", async () => {
    // lockTimeoutSeconds 0: a rollback that found the lock taken would fail at once with lockTimeout.
    const strict = stackOnHosts([host], { deploy: { lockTimeoutSeconds: 0, uploadIdleTimeoutSeconds: 5 } });
    await installAgent(host, strict);
    try {
      const older = makeRelease(stack.config);
      const newer = makeRelease(stack.config);
      await deployOk(stack, older);
      await deployOk(stack, newer);

      // A client that sends a few bytes and then nothing, with the connection open.
      const stalled = new DeployInFlight(stack, host, makeRelease(stack.config));
      stalled.child.stdin.write(Buffer.from([0x1f, 0x8b, 0x08]));
      const lastByteAt = Date.now();
      let settled = false;
      void stalled.result.then(() => (settled = true));
      const incoming = `${hostLayout(stack.config).releases}/.incoming-${stalled.release.id}.*`;
      await eventually(
        `${incoming} to appear`,
        async () => (await withRoot(host, (s) => s.exec(`test -d ${incoming}`))).code === 0,
      );

      const back = await rollbackRelease(stack.config, stack.files, older.id);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      expect(settled).toBe(false); // the upload is still in flight
      expect(await currentRelease(host, stack.config)).toBe(older.id);
      expect(await servedBuilds(host, stack.config)).toEqual([older.id]);

      const given = await stalled.result;
      expect(Date.now() - lastByteAt).toBeGreaterThanOrEqual(5000);
      expect(given.code, given.stderr).toBe(AGENT_EXIT.uploadRefused);
      expect(given.stderr).toContain(
        "the upload sent nothing for 5s (deploy.uploadIdleTimeoutSeconds); gave it up",
      );
      stalled.child.stdin.end();
      expect((await withRoot(host, (s) => s.exec(`test -e ${incoming}`))).code).not.toBe(0);
      expect(await currentRelease(host, stack.config)).toBe(older.id);
      expect((await auditEntries(host, stack.config)).slice(-2)).toMatchObject([
        { verb: "rollback", release: older.id, result: "ok" },
        { verb: "deploy", release: stalled.release.id, result: "uploadRefused" },
      ]);
    } finally {
      await installAgent(host, stack.config);
    }
  });
});
