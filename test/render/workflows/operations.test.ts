import { describe, expect, it } from "vitest";
import { migrateWorkflowPath, rollbackWorkflowPath } from "../../../src/render/githubNames";
import { renderRepositoryFiles } from "../../../src/render/workflows";
import { renderMigrateScript } from "../../../src/render/runner/migrateScript";
import { renderRollbackScript } from "../../../src/render/runner/rollbackScript";
import { jobOf, productionConfig, qaConfig, stepNamed, workflowAt } from "./fixtures";

const filesOf = (config = productionConfig()) => renderRepositoryFiles(config);

describe("rollback-<env>.yml", () => {
  const rollback = () => workflowAt(filesOf(), rollbackWorkflowPath("production"));

  it("is dispatched by hand with an optional release and a required reason", () => {
    const dispatch = rollback().on["workflow_dispatch"] as { inputs: Record<string, { required: boolean }> };
    expect(Object.keys(rollback().on)).toEqual(["workflow_dispatch"]);
    expect(dispatch.inputs["release"]?.required).toBe(false);
    expect(dispatch.inputs["reason"]?.required).toBe(true);
  });

  it("runs in the environment, in the deploy concurrency group, with no token permissions", () => {
    const job = jobOf(rollback(), "rollback");
    expect(rollback().permissions).toEqual({});
    expect(job.permissions).toEqual({});
    expect(job.environment?.name).toBe("production");
    expect(job.concurrency).toEqual({ group: "deploy-production", "cancel-in-progress": false });
  });

  it("passes the inputs through env and validates the release id in bash", () => {
    const job = jobOf(rollback(), "rollback");
    const step = stepNamed(job, "Roll back each host in turn");
    expect(step.env?.["TARGET_RELEASE"]).toBe("${{ inputs.release }}");
    expect(step.run).toBe(renderRollbackScript(productionConfig()));
    expect(step.run).toContain("release_pattern='^[0-9]{14}-[0-9a-f]{7,40}$'");
    for (const s of job.steps ?? []) expect(s.run ?? "").not.toContain("${{");
  });

  it("puts the reason in the summary", () => {
    const summary = stepNamed(jobOf(rollback(), "rollback"), "Write job summary");
    expect(summary.env?.["REASON"]).toBe("${{ inputs.reason }}");
    expect(summary.run).toContain("| Target | Reason | Hosts | Duration | Result |");
  });
});

describe("migrate-<env>.yml", () => {
  const migrate = () => workflowAt(filesOf(qaConfig()), migrateWorkflowPath("qa"));

  it("offers migrate, rollback and status", () => {
    const dispatch = migrate().on["workflow_dispatch"] as { inputs: Record<string, { options?: string[] }> };
    expect(dispatch.inputs["action"]?.options).toEqual(["migrate", "rollback", "status"]);
  });

  it("maps each action to its agent verb and runs it on the first host only", () => {
    const script = renderMigrateScript(qaConfig());
    expect(script).toContain('migrate:false) args=(migrate --actor "$ACTOR") ;;');
    expect(script).toContain('migrate:true) args=(migrate --maintenance --actor "$ACTOR") ;;');
    expect(script).toContain('rollback:false) args=(migrate-rollback --actor "$ACTOR") ;;');
    expect(script).toContain("status:false) args=(migrate-status) ;;");
    expect(script).not.toContain("status:true)");
    expect(script).toContain('first="${hosts[0]}"');
    expect(script).not.toContain("for index in");
    const job = jobOf(migrate(), "migrate");
    const env = stepNamed(job, "Run the migration action on the first host").env;
    expect(env?.["MIGRATE_ACTION"]).toBe("${{ inputs.action }}");
    expect(env?.["MIGRATE_MAINTENANCE"]).toBe("${{ inputs.maintenance }}");
    expect(job.concurrency?.group).toBe("deploy-qa");
  });
});
