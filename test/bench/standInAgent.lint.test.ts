// shellcheck on the fleet benchmark's stand-in agent and on the step that installs it.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { renderStandInAgent } from "../../bench/standInAgent";
import { standInAgentStep } from "../../bench/standInHosts";
import { EXAMPLE_CONFIGS } from "../render/shell/fixtures";

function shellcheck(text: string) {
  return spawnSync("shellcheck", ["--shell=bash", "--format=gcc", "-"], { input: text, encoding: "utf8" });
}

describe("shellcheck", () => {
  it.each([
    ["the stand-in agent", renderStandInAgent({ stateDir: "/home/deploy/apps/storefront" })],
    ["the stand-in agent step", standInAgentStep(EXAMPLE_CONFIGS.production).script],
  ])("finds nothing in %s", (_, text) => {
    const result = shellcheck(text);
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
