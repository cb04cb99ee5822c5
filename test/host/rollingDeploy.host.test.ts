// A stack with two hosts: the deploy goes host by host and stops at the first failure; migrations run once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { migrateAction } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  HostPool,
  type Release,
  type Stack,
  agentReleases,
  auditEntries,
  currentRelease,
  deploy,
  deployOk,
  servedGet,
  makeRelease,
  provisionedStack,
  servedBuilds,
} from "./support";

const pool = new HostPool("host-tests-rolling");

describe("a two-host stack", () => {
  let stack: Stack;
  let first: HostHandle;
  let second: HostHandle;
  let a: Release;

  beforeAll(async () => {
    [first, second] = (await pool.create(2)) as [HostHandle, HostHandle];
    stack = await provisionedStack([first, second]);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  const entry = (host: HostHandle): string => `${host.address}:${host.port}`;

  it("deploys to the hosts one after the other, in config order", async () => {
    a = makeRelease(stack.config);
    const result = await deployOk(stack, a);
    const progress = result.stdout
      .split("\n")
      .filter((line) => /^(==>|OK|FAIL|SKIP)/.test(line))
      .map((line) => line.replace(/ in \d+s$/, ""));
    expect(progress).toEqual([
      `==> [1/2] ${entry(first)}: deploy ${a.id}`,
      `OK   [1/2] ${entry(first)}: deploy ${a.id}`,
      `==> [2/2] ${entry(second)}: deploy ${a.id}`,
      `OK   [2/2] ${entry(second)}: deploy ${a.id}`,
    ]);
    for (const host of [first, second]) {
      expect(await currentRelease(host, stack.config)).toBe(a.id);
      expect(await servedBuilds(host, stack.config)).toEqual([a.id]);
    }
  });

  it("stops at the first host that fails and does not touch the hosts after it", async () => {
    const broken = makeRelease(stack.config, false);
    const auditOfSecond = await auditEntries(second, stack.config);
    const result = await deploy(stack, broken);
    expect(result.code).toBe(AGENT_EXIT.unhealthy);
    const progress = result.stdout
      .split("\n")
      .filter((line) => /^(==>|OK|FAIL|SKIP)/.test(line))
      .map((line) => line.replace(/ after \d+s$/, ""));
    expect(progress).toEqual([
      `==> [1/2] ${entry(first)}: deploy ${broken.id}`,
      `FAIL [1/2] ${entry(first)}: exit ${AGENT_EXIT.unhealthy}: unhealthy`,
      `SKIP ${entry(second)}: not touched`,
    ]);

    // The failing host switched back; the next one never heard of the release.
    expect(await currentRelease(first, stack.config)).toBe(a.id);
    expect(await servedBuilds(first, stack.config)).toEqual([a.id]);
    expect(await currentRelease(second, stack.config)).toBe(a.id);
    expect(await servedBuilds(second, stack.config)).toEqual([a.id]);
    expect((await agentReleases(stack, second)).ids).not.toContain(broken.id);
    expect(await auditEntries(second, stack.config)).toEqual(auditOfSecond);
    expect((await auditEntries(first, stack.config)).at(-1)).toMatchObject({
      verb: "deploy",
      release: broken.id,
      result: "unhealthy",
    });
  });

  it("runs migration actions on the first host only (the database is shared)", async () => {
    const migrations = async (host: HostHandle): Promise<unknown> =>
      (JSON.parse((await servedGet(host, stack.config.app.port, "/")).body) as { migrations: unknown })
        .migrations;
    expect([await migrations(first), await migrations(second)]).toEqual(["001_init", "001_init"]);
    const auditOfSecond = await auditEntries(second, stack.config);

    const reverted = await migrateAction(stack.config, stack.files, "rollback", "hubot");
    expect(reverted.code, reverted.stdout + reverted.stderr).toBe(0);
    expect([await migrations(first), await migrations(second)]).toEqual(["none", "001_init"]);

    const status = await migrateAction(stack.config, stack.files, "status");
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout + status.stderr).toContain("migrations: none");
    expect(status.stdout).toContain(`==> ${entry(first)}: migrate-status`);
    expect(status.stdout).not.toContain(entry(second));

    const applied = await migrateAction(stack.config, stack.files, "migrate", "hubot");
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect([await migrations(first), await migrations(second)]).toEqual(["001_init", "001_init"]);

    expect((await auditEntries(first, stack.config)).slice(-3)).toEqual([
      { key: "ci-0", actor: "hubot", verb: "migrate-rollback", release: a.id, result: "ok" },
      { key: "ci-0", actor: "-", verb: "migrate-status", release: a.id, result: "ok" },
      { key: "ci-0", actor: "hubot", verb: "migrate", release: a.id, result: "ok" },
    ]);
    expect(await auditEntries(second, stack.config)).toEqual(auditOfSecond);
  });
});
