// vitest globalSetup (every layer): a run that leaves anything in the work tree fails. Tests write under
// os.tmpdir() or an ignored tool directory (.sandbox, .ci-results, ...), never beside the sources: a `current`
// symlink and a `stop` file once written at the repository root were committed with the next `git add -A`.
import type { TestProject } from "vitest/node";
import { type WorkTreeState, workTreeChanges, workTreeState } from "./state";

// vitest runs a globalSetup once per project of the run (and for the root config): the first call guards the run.
const GUARDED = Symbol.for("pipeline.workTreeGuard");
const registry = globalThis as { [GUARDED]?: true };

export default function setup(project: TestProject): (() => void) | undefined {
  if (registry[GUARDED]) return undefined;
  registry[GUARDED] = true;
  const root = project.vitest.config.root;
  const before: WorkTreeState = workTreeState(root);
  return () => {
    const changes = workTreeChanges(before, workTreeState(root));
    if (changes.length === 0) return;
    process.exitCode = 1;
    throw new Error(
      `The test run left ${changes.length} change(s) in the work tree ${root}:\n  ${changes.join("\n  ")}\n` +
        "Write test files under os.tmpdir() (mkdtempSync) and give spawned processes a cwd there. " +
        "Edits made by hand while the suite runs show up here too.",
    );
  };
}
