import { describe, expect, it } from "vitest";
import {
  migrateWorkflowPath,
  restoreWorkflowPath,
  rollbackWorkflowPath,
} from "../../../src/render/githubNames";
import { renderRepositoryFiles } from "../../../src/render/workflows";
import { renderBackupScript } from "../../../src/render/runner/backupScript";
import { renderMigrateScript } from "../../../src/render/runner/migrateScript";
import { renderRestoreScript } from "../../../src/render/runner/restoreScript";
import { renderRollbackScript } from "../../../src/render/runner/rollbackScript";
import { jobOf, productionConfig, qaConfig, stepNamed, variantConfig, workflowAt } from "./fixtures";

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

const BACKUP_STEP = "Back up the database (before migrations)";
const ASSUME_STEP = "Assume the backup role (GitHub OIDC)";
const MIGRATE_STEP = "Run the migration action on the first host";
const RESTORE_STEP = "Restore the backup on the first host";

describe("migrate-<env>.yml backups", () => {
  const migrateJob = (config: ReturnType<typeof qaConfig>) =>
    jobOf(workflowAt(filesOf(config), migrateWorkflowPath(config.environment)), "migrate");
  const names = (config: ReturnType<typeof qaConfig>) => migrateJob(config).steps?.map((s) => s.name) ?? [];

  it("backs up first, for migrate and rollback but not status, exactly when backup.beforeMigrations is on", () => {
    expect(names(qaConfig())).not.toContain(BACKUP_STEP);
    expect(names(productionConfig({ backup: { beforeMigrations: false } }))).not.toContain(BACKUP_STEP);
    const config = productionConfig();
    const backup = stepNamed(migrateJob(config), BACKUP_STEP);
    expect(names(config).indexOf(MIGRATE_STEP) - names(config).indexOf(BACKUP_STEP)).toBe(1);
    expect(backup.if).toBe("inputs.action != 'status'");
    expect(backup.run).toBe(renderBackupScript(config));
    expect(migrateJob(config).permissions).toEqual({});
    expect(names(config)).not.toContain(ASSUME_STEP);
  });

  it("after its own backup step, calls migrate and migrate-rollback with --backup-taken (the agent takes none of its own)", () => {
    const run = stepNamed(migrateJob(productionConfig()), MIGRATE_STEP).run;
    expect(run).toBe(renderMigrateScript(productionConfig(), { backupTaken: true }));
    expect(run).toContain('migrate:false) args=(migrate --backup-taken --actor "$ACTOR") ;;');
    expect(run).toContain(
      'rollback:true) args=(migrate-rollback --maintenance --backup-taken --actor "$ACTOR") ;;',
    );
    expect(run).toContain("status:false) args=(migrate-status) ;;");
  });

  it("with app.migrationsUpToDateCommand and no bucket, has no backup step: the agent backs up when a migration needs it", () => {
    const config = productionConfig({
      app: { name: "storefront", migrationsUpToDateCommand: "npx prisma migrate status" },
    });
    expect(names(config)).not.toContain(BACKUP_STEP);
    expect(stepNamed(migrateJob(config), MIGRATE_STEP).run).not.toContain("--backup-taken");
  });

  it("with aws.backupBucket, assumes the backup role (id-token: write) before streaming the dump to the bucket", () => {
    const config = variantConfig();
    const job = migrateJob(config);
    expect(job.permissions).toEqual({ "id-token": "write" });
    const order = [ASSUME_STEP, BACKUP_STEP, MIGRATE_STEP].map((name) => names(config).indexOf(name));
    expect(order[0]).toBeGreaterThan(-1);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expect(stepNamed(job, ASSUME_STEP).if).toBe("inputs.action != 'status'");
    expect(stepNamed(job, ASSUME_STEP).with).toEqual({
      "role-to-assume": "${{ vars.AWS_BACKUP_ROLE_ARN }}",
      "aws-region": "${{ vars.AWS_REGION }}",
    });
  });
});

describe("restore-<env>.yml", () => {
  const restore = (config = productionConfig()) =>
    workflowAt(filesOf(config), restoreWorkflowPath(config.environment));

  it("is dispatched by hand with a required backup id and reason and an optional confirm", () => {
    const dispatch = restore().on["workflow_dispatch"] as {
      inputs: Record<string, { required: boolean; type: string }>;
    };
    expect(Object.keys(restore().on)).toEqual(["workflow_dispatch"]);
    expect(dispatch.inputs["backup"]).toMatchObject({ required: true, type: "string" });
    expect(dispatch.inputs["reason"]).toMatchObject({ required: true, type: "string" });
    expect(dispatch.inputs["confirm"]).toMatchObject({ required: false, type: "boolean" });
  });

  it("runs in the environment (its reviewers approve), in the deploy concurrency group", () => {
    const job = jobOf(restore(), "restore");
    expect(restore().permissions).toEqual({});
    expect(job.environment?.name).toBe("production");
    expect(job.concurrency).toEqual({ group: "deploy-production", "cancel-in-progress": false });
  });

  it("runs the restore script verbatim with the inputs through env, from the host's copy without a bucket", () => {
    const config = productionConfig();
    const job = jobOf(restore(config), "restore");
    const step = stepNamed(job, RESTORE_STEP);
    expect(step.run).toBe(renderRestoreScript(config));
    expect(step.env).toMatchObject({
      BACKUP_ID: "${{ inputs.backup }}",
      RESTORE_CONFIRM: "${{ inputs.confirm }}",
      ACTOR: "${{ github.actor }}",
    });
    expect(Object.keys(step.env ?? {})).not.toContain("AWS_BACKUP_BUCKET");
    expect(job.permissions).toEqual({});
    expect(job.steps?.map((s) => s.name)).not.toContain(ASSUME_STEP);
  });

  it("with aws.backupBucket, assumes the backup role first and reads the dump from the bucket", () => {
    const job = jobOf(restore(variantConfig()), "restore");
    const stepNames = job.steps?.map((s) => s.name) ?? [];
    expect(job.permissions).toEqual({ "id-token": "write" });
    expect(stepNames.indexOf(ASSUME_STEP)).toBeGreaterThan(-1);
    expect(stepNames.indexOf(ASSUME_STEP)).toBeLessThan(stepNames.indexOf(RESTORE_STEP));
    expect(stepNamed(job, RESTORE_STEP).env).toMatchObject({
      AWS_BACKUP_BUCKET: "${{ vars.AWS_BACKUP_BUCKET }}",
      AWS_BACKUP_PREFIX: "${{ vars.AWS_BACKUP_PREFIX }}",
    });
  });
});
