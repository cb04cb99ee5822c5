// The CI deploy key: a forced command that accepts only the agent's verbs, and a rotation without lockout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { hostLayout } from "../../src/render/hostLayout";
import { afterSecretIndex, hostSteps, withDeployKeyFilledIn } from "../../src/render/shell/hostSteps";
import type { RemoteStep } from "../../src/render/shell/remoteStep";
import { authorizedKeysPath } from "../../src/render/shell/steps/system";
import { callAgent, runSteps, stackOnHosts } from "../../src/sandbox";
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

  it("rotates without lockout: new key authorized first, deploys work throughout, old lines retired after the secret switches", async () => {
    const key0 = stack.key;
    const files0 = stack.files;
    const key1 = generateDeployKey("pipeline-ci-1");
    const files1 = writeRunnerFiles(stack.config, key1.privateKey);
    const releasesWith = (files: typeof files0): ReturnType<typeof callAgent> =>
      callAgent(host, stack.config.deployUser, files, "releases");
    const keysFile = authorizedKeysPath(stack.config);
    // Someone's own key for the deploy user: a rotation leaves it alone.
    const personal = generateDeployKey("someone@laptop").publicKey.trim();
    await asRoot(host, `printf '%s\\n' '${personal}' >> ${keysFile}`);

    // `pulumi up` with deployKeyRotation 1 changes exactly two steps of the chain hostSteps() builds (the stack
    // tests prove it): authorize-deploy-key before the secret, retire-old-deploy-keys after it.
    const rotated = stackOnHosts([host], { deployKeyRotation: 1 });
    const chain = hostSteps(rotated, { npmRegistry: host.npmRegistry, withAppEnv: true });
    const split = afterSecretIndex(chain);
    const steps = withDeployKeyFilledIn(chain, key1.publicKey);
    const beforeSecret = steps.slice(0, split).filter((step) => step.name === "authorize-deploy-key");
    // After the secret: the retirement, then the deploy user's own pm2 steps, which this test leaves alone.
    expect(steps.slice(split).map((step) => step.name)).toEqual([
      "retire-old-deploy-keys",
      "pm2-logrotate",
      "pm2-daemon",
      "app-env",
    ]);
    const afterSecret: RemoteStep[] = steps.slice(split, split + 1);
    expect(beforeSecret).toHaveLength(1);

    // 0. Before: a deploy with the current key, so that the rotation happens on a serving host.
    const first = makeRelease(stack.config);
    await deployOk(stack, first, files0);

    // 1. The new line is added before the secret switches; the old one stays: both keys work.
    await runSteps(host, beforeSecret);
    expect((await releasesWith(files0)).code).toBe(0);
    expect((await releasesWith(files1)).code).toBe(0);

    // 2. The GitHub secret switches to key 1: deploys use it, and a run that still holds key 0 works too.
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
    const stillOld = makeRelease(stack.config);
    await deployOk(stack, stillOld, files0);
    expect((await auditEntries(host, stack.config)).at(-1)).toMatchObject({
      key: "ci-0",
      release: stillOld.id,
    });

    // 3. After the secret: the old lines are retired. Key 0 is refused by sshd itself, key 1 keeps deploying.
    await runSteps(host, afterSecret);
    const refused = await releasesWith(files0);
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain("Permission denied");
    const third = makeRelease(stack.config);
    await deployOk(stack, third, files1);
    expect(await agentReleases(stack, host, files1)).toMatchObject({ current: third.id });

    // Exactly the current line and the personal key are left, in the order they were added.
    const lines = (await asRoot(host, `cat ${keysFile}`)).trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(personal);
    expect(lines[1]).toMatch(/ pipeline-ci-1$/);
    expect(lines[1]).toContain(key1.publicKey.trim().split(/\s+/)[1]);
    expect(lines.join("\n")).not.toContain(key0.publicKey.trim().split(/\s+/)[1]);

    // A second `pulumi up` re-running either step changes nothing, and never brings key 0 back.
    const fingerprint = `sha256sum < ${keysFile}; stat -c '%i %.9Y' ${keysFile}`;
    const before = await asRoot(host, fingerprint);
    await runSteps(host, [...beforeSecret, ...afterSecret]);
    expect(await asRoot(host, fingerprint)).toBe(before);
    expect((await releasesWith(files0)).code).toBe(255);
  });
});
