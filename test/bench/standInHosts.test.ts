// Stand-in hosts run the stack's own deploy-user, deploy key and sshd steps, exactly as hostSteps() renders them,
// and the stand-in agent at the path the deploy key's forced command names; nothing of the heavy provisioning.
import { describe, expect, it } from "vitest";
import { renderStandInAgent } from "../../bench/standInAgent";
import { STAND_IN_AGENT_STEP, standInHostSteps, standInStateDir } from "../../bench/standInHosts";
import { AGENT_PATH, hostLayout } from "../../src/render/hostLayout";
import { writeFile } from "../../src/render/shell/commands";
import { deployKeyLine } from "../../src/render/shell/deployKeyAuthorization";
import { resolvedHostSteps } from "../../src/sandbox";
import { CI_PUBLIC_KEY, EXAMPLE_CONFIGS, TEST_REGISTRY } from "../render/shell/fixtures";

const input = { npmRegistry: TEST_REGISTRY, deployPublicKey: CI_PUBLIC_KEY };

describe.each(Object.entries(EXAMPLE_CONFIGS))("a stand-in host of %s", (_, config) => {
  const steps = standInHostSteps(config, input);

  it("runs the deploy user, deploy key and sshd steps of the real chain, in its order, then the stand-in", () => {
    expect(steps.map((step) => step.name)).toEqual([
      "deploy-user",
      "authorize-deploy-key",
      "sshd-hardening",
      STAND_IN_AGENT_STEP,
    ]);
    const real = resolvedHostSteps(config, input);
    for (const step of steps.slice(0, 3)) expect(step).toEqual(real.find((r) => r.name === step.name));
  });

  it("authorizes the deploy key with the real forced command, which runs whatever is at the agent's path", () => {
    const line = deployKeyLine(CI_PUBLIC_KEY, config.deployKeyRotation);
    expect(line).toContain(`command="${AGENT_PATH} --key ci-${config.deployKeyRotation}"`);
    expect(steps[1]?.script).toContain(line);
  });

  it("writes the stand-in, root-owned, to the agent's path; it keeps its state in the deploy user's app root", () => {
    expect(standInStateDir(config)).toBe(hostLayout(config).appRoot);
    const agent = renderStandInAgent({ stateDir: hostLayout(config).appRoot });
    expect(steps[3]?.script).toContain(writeFile(AGENT_PATH, agent, { mode: "0755", owner: "root:root" }));
  });
});
