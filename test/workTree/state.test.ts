// The work-tree guard's snapshot and difference, on a throwaway git repository.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workTreeChanges, workTreeState } from "./state";

let repo = "";
const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
const write = (path: string, content = "") => writeFileSync(join(repo, path), content);

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), "work-tree-"));
  git("init", "-q");
  write(".gitignore", "node_modules/\n.sandbox/\n*.log\n");
  write("README.md", "readme\n");
  write("index.ts", "export {};\n");
  git("add", "-A");
  git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init");
});
afterEach(() => rmSync(repo, { recursive: true, force: true }));

describe("workTreeChanges", () => {
  it("names the symlink and the file a run leaves at the root", () => {
    const before = workTreeState(repo);
    symlinkSync("r1", join(repo, "current"));
    write("stop");
    expect(workTreeChanges(before, workTreeState(repo))).toEqual(["current: new file", "stop: new file"]);
  });

  it("leaves out the developer's edits made before the run, and catches a run that changes them again", () => {
    write("README.md", "my edit\n");
    write("notes.txt", "mine\n");
    git("rm", "-q", "index.ts");
    const before = workTreeState(repo);
    expect(workTreeChanges(before, workTreeState(repo))).toEqual([]);

    write("notes.txt", "overwritten by a test\n");
    unlinkSync(join(repo, "README.md"));
    expect(workTreeChanges(before, workTreeState(repo))).toEqual([
      "README.md: changed during the run",
      "notes.txt: changed during the run",
    ]);
  });

  it("catches tracked files a run edits, deletes or restores", () => {
    write("README.md", "edited before the run\n");
    const before = workTreeState(repo);
    git("checkout", "README.md");
    unlinkSync(join(repo, "index.ts"));
    expect(workTreeChanges(before, workTreeState(repo))).toEqual([
      "README.md: removed or restored during the run",
      "index.ts: deleted",
    ]);
  });

  it("allows the ignored directories tools write, not an ignored file beside the sources", () => {
    const before = workTreeState(repo);
    mkdirSync(join(repo, "node_modules/pkg"), { recursive: true });
    write("node_modules/pkg/index.js");
    mkdirSync(join(repo, ".sandbox"));
    write(".sandbox/state.json", "{}");
    write("debug.log", "x");
    expect(workTreeChanges(before, workTreeState(repo))).toEqual(["debug.log: new ignored file"]);
  });
});
