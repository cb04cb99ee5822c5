// The branch guard's step runs here with bash, with the env GitHub would give it.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { branchGuardJob } from "../../../src/render/workflows/branchGuard";
import {
  migrateWorkflowPath,
  rollbackWorkflowPath,
  deployWorkflowPath,
} from "../../../src/render/githubNames";
import { renderRepositoryFiles } from "../../../src/render/workflows";
import { jobOf, stagingConfig, workflowAt } from "./fixtures";

function runGuard(ref: string, branch = "staging") {
  const step = branchGuardJob({ branch, environment: "staging" }).steps[0];
  if (!step?.run || !step.env) throw new Error("the guard has no run step");
  const env = { ...step.env, RUN_REF: ref, PATH: process.env["PATH"] ?? "/usr/bin:/bin" };
  return spawnSync("bash", ["-eo", "pipefail", "-c", step.run], { encoding: "utf8", env });
}

describe("branchGuardJob", () => {
  it("passes a run on the environment's branch", () => {
    const result = runGuard("refs/heads/staging");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
  });

  it("fails a run dispatched from another branch and says which branch to pick", () => {
    const result = runGuard("refs/heads/main");
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("::error title=Wrong branch::This run is on refs/heads/main");
    expect(result.stdout).toContain('pick staging under "Use workflow from"');
  });

  it("compares whole branch names, not prefixes, and refuses tags", () => {
    expect(runGuard("refs/heads/staging-old").status).toBe(1);
    expect(runGuard("refs/tags/staging").status).toBe(1);
  });

  it("keeps the branch out of the script text (it travels through env)", () => {
    const job = branchGuardJob({ branch: "release/$(id)", environment: "staging" });
    expect(job.steps[0]?.run).not.toContain("release/");
    expect(runGuard("refs/heads/release/$(id)", "release/$(id)").status).toBe(0);
  });

  it("runs first in every workflow that uses the environment", () => {
    const files = renderRepositoryFiles(stagingConfig());
    const jobs = [
      jobOf(workflowAt(files, deployWorkflowPath("staging")), "deploy"),
      jobOf(workflowAt(files, rollbackWorkflowPath("staging")), "rollback"),
      jobOf(workflowAt(files, migrateWorkflowPath("staging")), "migrate"),
    ];
    for (const job of jobs) expect(job.needs).toContain("branch");
  });
});
