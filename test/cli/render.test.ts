import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { main } from "../../src/cli/render";
import { OWN_PROJECT_FILE } from "../../src/config/fromStackFile";

describe("npm run render", () => {
  let out: string;
  let printed: string[];
  beforeEach(() => {
    out = join(mkdtempSync(join(tmpdir(), "render-")), "out");
    printed = [];
    const capture = (...args: unknown[]) => void printed.push(args.join(" "));
    vi.spyOn(console, "log").mockImplementation(capture);
    vi.spyOn(console, "error").mockImplementation(capture);
  });
  afterEach(() => vi.restoreAllMocks());

  it("writes every file of the production example at its repository path and prints the managed objects", () => {
    expect(main(["--stack", "production", "--out", out])).toBe(0);
    for (const path of [
      ".github/workflows/ci.yml",
      ".github/workflows/deploy-production.yml",
      ".github/dependabot.yml",
    ]) {
      expect(existsSync(join(out, path)), path).toBe(true);
    }
    const deploy = parse(readFileSync(join(out, ".github/workflows/deploy-production.yml"), "utf8")) as {
      name: string;
    };
    expect(deploy.name).toBe("Deploy production");
    const table = printed.join("\n");
    expect(table).toContain("branch-protection         main");
    expect(table).toContain("environment-secret        production:DEPLOY_SSH_KEY");
  });

  it("renders a stack file given with --config", () => {
    expect(main(["--config", "Pulumi.staging.yaml", "--out", out])).toBe(0);
    expect(existsSync(join(out, ".github/workflows/deploy-staging.yml"))).toBe(true);
    expect(existsSync(join(out, ".github/workflows/ci.yml"))).toBe(false);
  });

  it("exits 1 with the validation messages and writes nothing when the config is bad", () => {
    const dir = mkdtempSync(join(tmpdir(), "stack-"));
    writeFileSync(join(dir, "Pulumi.yaml"), readFileSync("Pulumi.yaml"));
    const bad = readFileSync("Pulumi.staging.yaml", "utf8").replace("branch: staging", "branch: bad..name");
    writeFileSync(join(dir, "Pulumi.broken.yaml"), bad);
    expect(main(["--config", join(dir, "Pulumi.broken.yaml"), "--out", out])).toBe(1);
    expect(printed.join("\n")).toContain("pipeline:branch: contains '..', which GitHub rejects");
    expect(existsSync(out)).toBe(false);
  });

  it("renders a stack file with no Pulumi.yaml beside it with this project's, and says so", () => {
    const dir = mkdtempSync(join(tmpdir(), "stack-"));
    writeFileSync(join(dir, "Pulumi.staging.yaml"), readFileSync("Pulumi.staging.yaml"));
    expect(main(["--config", join(dir, "Pulumi.staging.yaml"), "--out", out])).toBe(0);
    expect(printed[0]).toBe(
      `note: no Pulumi.yaml beside ${join(dir, "Pulumi.staging.yaml")}: using this project's ${OWN_PROJECT_FILE} (pulumi preview/up need it there: copy it beside the stack file)`,
    );
    expect(existsSync(join(out, ".github/workflows/deploy-staging.yml"))).toBe(true);
  });

  it("renders a stack whose Node.js line reached end of life, and prints the config warning", () => {
    const dir = mkdtempSync(join(tmpdir(), "stack-"));
    writeFileSync(join(dir, "Pulumi.yaml"), readFileSync("Pulumi.yaml"));
    const old = readFileSync("Pulumi.staging.yaml", "utf8").replace(/nodeVersion: \d+/, "nodeVersion: 20");
    writeFileSync(join(dir, "Pulumi.staging.yaml"), old);
    expect(main(["--config", join(dir, "Pulumi.staging.yaml"), "--out", out])).toBe(0);
    // 2026-04-30 has passed for good: the warning does not depend on the day the test runs.
    expect(printed[0]).toMatch(
      /^warning: pipeline:app\.nodeVersion: Node\.js 20 reached end of life on 2026-04-30 \(set app\.nodeVersion to \d+/,
    );
    expect(existsSync(join(out, ".github/workflows/deploy-staging.yml"))).toBe(true);
  });

  it("names the stacks it knows when the stack file does not exist", () => {
    expect(main(["--stack", "nope", "--out", out])).toBe(1);
    expect(printed.join("\n")).toMatch(
      /no such stack file \(stacks here: .*production.*staging|staging.*production/,
    );
  });
});
