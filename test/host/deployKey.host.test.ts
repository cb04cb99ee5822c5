// The CI deploy key: a forced command that accepts only the agent's verbs, and a rotation without lockout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { hostLayout } from "../../src/render/hostLayout";
import { authorizeDeployKeyStep } from "../../src/render/shell/deployKeyAuthorization";
import { authorizedKeysPath } from "../../src/render/shell/steps/system";
import { callAgent, runDelete, runSteps } from "../../src/sandbox";
import { type HostHandle, connect } from "../../src/testhost";
import {
  HostPool,
  type Stack,
  agentReleases,
  asRoot,
  auditEntries,
  auditLog,
  deployOk,
  generateDeployKey,
  makeRelease,
  provisionedStack,
  servedBuilds,
  writeRunnerFiles,
} from "./support";

const pool = new HostPool("host-tests-deploy-key");

describe("the CI deploy key", () => {
  let stack: Stack;
  let host: HostHandle;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    stack = await provisionedStack([host]);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("runs the agent's verbs: releases works", async () => {
    const result = await callAgent(host, stack.config.deployUser, stack.files, "releases");
    expect(result).toMatchObject({ code: 0, stdout: "" });
  });

  it("cannot run anything outside the verbs, and every attempt is refused before anything runs", async () => {
    const marker = `${hostLayout(stack.config).home}/pwned`;
    const attempts: [command: string, exit: number][] = [
      ["id", AGENT_EXIT.usage],
      ["touch pwned", AGENT_EXIT.usage],
      ["bash -c id", AGENT_EXIT.usage],
      ["bash -c 'touch pwned'", AGENT_EXIT.usage],
      ["releases; touch pwned", AGENT_EXIT.usage],
      ["releases && touch pwned", AGENT_EXIT.usage],
      ["releases | touch pwned", AGENT_EXIT.usage],
      ["releases\ntouch pwned", AGENT_EXIT.usage],
      ["$(touch pwned)", AGENT_EXIT.usage],
      ["`touch pwned`", AGENT_EXIT.usage],
      ["deploy ../pwned", AGENT_EXIT.usage],
      [`deploy ${marker}`, AGENT_EXIT.usage],
      ["releases --exec=touch", AGENT_EXIT.usage],
      ["deploy ..", AGENT_EXIT.badReleaseId],
      ["rollback HEAD", AGENT_EXIT.badReleaseId],
      ["deploy 20260101000000-abcdef1 --actor $(id)", AGENT_EXIT.usage],
    ];
    const before = (await auditLog(host, stack.config)).length;
    const outcomes = [];
    for (const [command] of attempts) {
      const result = await callAgent(host, stack.config.deployUser, stack.files, command);
      outcomes.push([command, result.code]);
    }
    expect(outcomes).toEqual(attempts);

    expect(await asRoot(host, `ls -d ${marker} /tmp/pwned /pwned 2>/dev/null || true`)).toBe("");
    // Rejected commands are audited too, each as its refusal.
    const audited = (await auditLog(host, stack.config)).slice(before);
    expect(audited.map((line) => / result=(\w+) /.exec(line)?.[1])).toEqual(
      attempts.map(([, code]) => (code === AGENT_EXIT.usage ? "usage" : "badReleaseId")),
    );
  });

  it("cannot get a pty or a shell, and cannot forward ports", async () => {
    const session = await connect(host, { user: stack.config.deployUser, privateKey: stack.key.privateKey });
    try {
      expect(await session.tryShell()).toBe(false);
      expect(await session.tryForwardOut("127.0.0.1", stack.config.app.port)).toBe(false);
      expect(await session.tryForwardOut("127.0.0.1", 22)).toBe(false);
    } finally {
      session.end();
    }
    // The same login with an unrestricted key line would be granted both (so the checks above can fail).
    const root = await connect(host);
    try {
      expect(await root.tryShell()).toBe(true);
      expect(await root.tryForwardOut("127.0.0.1", 22)).toBe(true);
    } finally {
      root.end();
    }
  });

  it("rotates without lockout: new key installed first, both work, the secret switches, then the old key is refused", async () => {
    const key0 = stack.key;
    const files0 = stack.files;
    const key1 = generateDeployKey("pipeline-ci-1");
    const files1 = writeRunnerFiles(stack.config, key1.privateKey);
    const releasesWith = (files: typeof files0): ReturnType<typeof callAgent> =>
      callAgent(host, stack.config.deployUser, files, "releases");

    // A deploy with the current key, so that the rotation happens on a serving host.
    const first = makeRelease(stack.config);
    await deployOk(stack, first, files0);

    // 1. pulumi up with deployKeyRotation 1: the new line is added (the old line's resource is not yet deleted).
    await runSteps(host, [authorizeDeployKeyStep(stack.config, key1.publicKey, 1)]);
    expect((await releasesWith(files0)).code).toBe(0);
    expect((await releasesWith(files1)).code).toBe(0);

    // 2. The GitHub secret switches to key 1: deploys use it.
    const second = makeRelease(stack.config);
    await deployOk(stack, second, files1);
    expect(await servedBuilds(host, stack.config)).toEqual([second.id]);
    expect((await auditEntries(host, stack.config)).at(-1)).toEqual({
      key: "ci-1",
      actor: "octocat",
      verb: "deploy",
      release: second.id,
      result: "ok",
    });
    expect((await releasesWith(files0)).code).toBe(0);

    // 3. The old line's resource is deleted: key 0 is refused by sshd itself, key 1 keeps working.
    await runDelete(host, authorizeDeployKeyStep(stack.config, key0.publicKey, 0));
    const refused = await releasesWith(files0);
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain("Permission denied");
    expect(await agentReleases(stack, host, files1)).toMatchObject({ current: second.id });

    const lines = (await asRoot(host, `cat ${authorizedKeysPath(stack.config)}`)).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ pipeline-ci-1$/);
    expect(lines[0]).toContain(key1.publicKey.trim().split(/\s+/)[1]);
  });
});
