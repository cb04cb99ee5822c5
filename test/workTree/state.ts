// What a test run did to the git work tree it runs in: a snapshot of every changed, untracked and ignored path
// before the run, another after it, and the difference. The developer's own uncommitted edits are in both
// snapshots and so are not in the difference; a test that writes, edits or removes a path is.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** Path -> git's two-letter status plus a fingerprint of what is on disk there. */
export type WorkTreeState = ReadonlyMap<string, string>;

/**
 * `git status` with untracked files one by one and ignored paths too (`--ignored=matching`: an ignored directory
 * is one entry, `node_modules/`). Ignored directories are what tools legitimately write (node_modules, .sandbox,
 * .ci-results, out, ...: each is a directory entry of .gitignore) and are left out; an ignored file (`*.log`) is not.
 */
export function workTreeState(root: string): WorkTreeState {
  const output = execFileSync(
    "git",
    ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching", "--no-renames"],
    { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  const state = new Map<string, string>();
  for (const entry of output.split("\0")) {
    if (entry === "") continue;
    const status = entry.slice(0, 2);
    const path = entry.slice(3);
    if (status === "!!" && path.endsWith("/")) continue;
    state.set(path, `${status} ${fingerprint(join(root, path))}`);
  }
  return state;
}

function fingerprint(path: string): string {
  try {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return `link:${readlinkSync(path)}`;
    if (stat.isDirectory()) return "dir";
    return `file:${stat.mode.toString(8)}:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
  } catch {
    return "absent";
  }
}

/** One line per path the run wrote, changed or removed, e.g. `current: new file`; empty when it left no trace. */
export function workTreeChanges(before: WorkTreeState, after: WorkTreeState): string[] {
  const changes: string[] = [];
  for (const [path, now] of after) {
    const then = before.get(path);
    if (then === undefined) changes.push(`${path}: ${describeStatus(now.slice(0, 2))}`);
    else if (then !== now) changes.push(`${path}: changed during the run`);
  }
  for (const path of before.keys()) {
    if (!after.has(path)) changes.push(`${path}: removed or restored during the run`);
  }
  return changes.sort();
}

function describeStatus(status: string): string {
  if (status === "??") return "new file";
  if (status === "!!") return "new ignored file";
  if (status.includes("D")) return "deleted";
  if (status.includes("M")) return "modified";
  return `git status '${status}'`;
}
