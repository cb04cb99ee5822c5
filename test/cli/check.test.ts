import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/check";
import { OWN_PROJECT_FILE } from "../../src/config/fromStackFile";

const ROOT = join(__dirname, "../..");
const stackFile = (stack: "staging" | "production") =>
  readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8");

/** A project directory holding the given stack files (and this project's Pulumi.yaml unless told not to). */
function projectDir(files: Record<string, string>, withProjectFile = true): string {
  const dir = mkdtempSync(join(tmpdir(), "check-"));
  if (withProjectFile) writeFileSync(join(dir, "Pulumi.yaml"), readFileSync(join(ROOT, "Pulumi.yaml")));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

const bothStacks = (edit: { staging?: (s: string) => string; production?: (s: string) => string } = {}) => ({
  "Pulumi.staging.yaml": (edit.staging ?? ((s) => s))(stackFile("staging")),
  "Pulumi.production.yaml": (edit.production ?? ((s) => s))(stackFile("production")),
});

describe("npm run check", () => {
  let printed: string[];
  beforeEach(() => {
    printed = [];
    const capture = (...args: unknown[]) => void printed.push(args.join(" "));
    vi.spyOn(console, "log").mockImplementation(capture);
    vi.spyOn(console, "error").mockImplementation(capture);
  });
  afterEach(() => vi.restoreAllMocks());
  const output = () => printed.join("\n");

  it("exits 0 on this repository's own stacks and says what it proved", () => {
    expect(main(["--dir", ROOT])).toBe(0);
    expect(output()).toContain("2 stack(s) of acme-shop/storefront: production, staging");
    expect(output()).toContain("required checks lint, typecheck, test, build on 'main', 'staging'");
    expect(output()).not.toContain("note:");
  });

  it("checks the current directory by default", () => {
    vi.spyOn(process, "cwd").mockReturnValue(ROOT);
    expect(main([])).toBe(0);
  });

  it("--dir: exits 0 on a directory with consistent stack files", () => {
    expect(main(["--dir", projectDir(bothStacks())])).toBe(0);
  });

  it("prints a stack's config warning with the stack named, and still exits 0", () => {
    const dir = projectDir(bothStacks({ staging: (s) => s.replace(/nodeVersion: \d+/, "nodeVersion: 20") }));
    expect(main(["--dir", dir])).toBe(0);
    // 2026-04-30 has passed for good: the warning does not depend on the day the test runs.
    expect(printed.filter((line) => line.startsWith("warning:"))).toEqual([
      expect.stringMatching(
        /^warning: staging: pipeline:app\.nodeVersion: Node\.js 20 reached end of life on 2026-04-30 \(/,
      ),
    ]);
  });

  it("exits 1 and names the stack and key when two stacks own repository settings", () => {
    const dir = projectDir(
      bothStacks({
        staging: (s) => s.replace("ownsRepositorySettings: false", "ownsRepositorySettings: true"),
      }),
    );
    expect(main(["--dir", dir])).toBe(1);
    expect(output()).toContain("1 problem:");
    expect(output()).toContain("production, staging: pipeline:ownsRepositorySettings: is true in each");
  });

  it("exits 1 when a required check of one stack is no job of the owning stack's ci.yml", () => {
    const dir = projectDir(
      bothStacks({
        production: (s) => s.replace("    name: storefront\n", "    name: storefront\n    testCommand: ''\n"),
      }),
    );
    expect(main(["--dir", dir])).toBe(1);
    expect(output()).toContain("staging: pipeline:app.testCommand: differs from the owning stack's");
  });

  it("reports the config errors of each stack with the stack named, and skips the cross-stack checks", () => {
    const dir = projectDir(bothStacks({ staging: (s) => s.replace("branch: staging", "branch: bad..name") }));
    expect(main(["--dir", dir])).toBe(1);
    expect(output()).toContain("staging: pipeline:branch: contains '..', which GitHub rejects");
    expect(output()).toContain("cross-stack checks not run");
  });

  it("without a Pulumi.yaml beside the stack files: uses this project's and says so in one line", () => {
    expect(main(["--dir", projectDir(bothStacks(), false)])).toBe(0);
    const notes = printed.filter((line) => line.startsWith("note:"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`no Pulumi.yaml beside`);
    expect(notes[0]).toContain(`using this project's ${OWN_PROJECT_FILE}`);
  });

  it("exits 1 when the Pulumi.yaml beside them is another project's", () => {
    const dir = projectDir(bothStacks(), false);
    writeFileSync(join(dir, "Pulumi.yaml"), "name: other\nruntime: nodejs\n");
    expect(main(["--dir", dir])).toBe(1);
    expect(output()).toContain("project name is 'other', expected 'pipeline'");
  });

  it("exits 2 on bad usage: no stack files, a missing directory, an unknown flag", () => {
    expect(main(["--dir", projectDir({})])).toBe(2);
    expect(output()).toContain("no stack files (Pulumi.<stack>.yaml) to check");
    expect(main(["--dir", join(tmpdir(), "no-such-dir-for-check")])).toBe(2);
    expect(main(["--stack", "staging"])).toBe(2);
    expect(output()).toContain("usage: npm run check");
  });
});
