// shellcheck (Debian package) on every generated shell script: the release agent, the root-owned helpers, the inner
// script of every provisioning step, create and delete, for both example stacks, and the first steps of EC2 hosts. A
// missing shellcheck fails (apt-get install shellcheck).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { hostSteps, withDeployKeyFilledIn } from "../../../src/render/shell/hostSteps";
import { renderAuditHelper } from "../../../src/render/shell/auditHelper";
import { renderReleaseAgent } from "../../../src/render/shell/releaseAgent";
import { adminAccessScript } from "../../../src/render/shell/steps/adminAccess";
import { hostKeyRotationScript } from "../../../src/render/shell/steps/hostKeyRotation";
import { renderUpstreamHelper } from "../../../src/render/shell/upstreamHelper";
import { CI_PUBLIC_KEY, EXAMPLE_CONFIGS, TEST_REGISTRY } from "./fixtures";

interface Script {
  name: string;
  text: string;
}

function scriptsOf(stack: keyof typeof EXAMPLE_CONFIGS): Script[] {
  const config = EXAMPLE_CONFIGS[stack];
  const steps = withDeployKeyFilledIn(
    hostSteps(config, { npmRegistry: TEST_REGISTRY, withAppEnv: true }),
    CI_PUBLIC_KEY,
  );
  const stepScripts = steps.map((step) => ({ name: `${stack}/${step.name}`, text: step.script }));
  return [
    { name: `${stack}/release-agent`, text: renderReleaseAgent(config) },
    // root-owned helpers the steps install (inside a step they travel as base64)
    { name: `${stack}/proxy-upstream`, text: renderUpstreamHelper(config) },
    { name: `${stack}/audit-append`, text: renderAuditHelper(config) },
    ...stepScripts,
  ];
}

function shellcheck(text: string) {
  return spawnSync("shellcheck", ["--shell=bash", "--format=gcc", "-"], { input: text, encoding: "utf8" });
}

describe("shellcheck", () => {
  it("is installed (the lint layer fails without it: apt-get install -y shellcheck)", () => {
    const version = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
    expect(version.error, "shellcheck is not installed: apt-get install -y shellcheck").toBeUndefined();
    expect(version.status).toBe(0);
  });

  const scripts = [
    ...scriptsOf("staging"),
    ...scriptsOf("production"),
    ...scriptsOf("stagingWithDatabase"),
    // the first step on hosts the program creates (aws.hosts), before the chain above
    { name: "aws/rotate-host-key", text: hostKeyRotationScript() },
    { name: "aws/admin-access", text: adminAccessScript("admin", CI_PUBLIC_KEY) },
  ];
  it.each(scripts)("finds nothing in $name", ({ text }) => {
    expect(text.length).toBeGreaterThan(0);
    const result = shellcheck(text);
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("does report problems (the check is live)", () => {
    const result = shellcheck("echo $1\n");
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain("SC2086");
  });
});
