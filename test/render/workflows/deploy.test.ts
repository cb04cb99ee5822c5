import { describe, expect, it } from "vitest";
import {
  CI_WORKFLOW_PATH,
  deployWorkflowPath,
  ENV_SECRETS,
  REPO_SECRETS,
} from "../../../src/render/githubNames";
import { renderBackupScript } from "../../../src/render/runner/backupScript";
import { renderShipScript } from "../../../src/render/runner/shipScript";
import { renderRepositoryFiles } from "../../../src/render/workflows";
import { SHIP_STEP_NAME } from "../../../src/render/workflows/deploy";
import {
  jobOf,
  productionConfig,
  qaConfig,
  stagingConfig,
  stepNamed,
  variantConfig,
  workflowAt,
} from "./fixtures";

const deployOf = (config = stagingConfig()) =>
  workflowAt(renderRepositoryFiles(config), deployWorkflowPath(config.environment));

describe("deploy-<env>.yml", () => {
  it("runs on pushes to the environment's branch and by hand", () => {
    expect(deployOf().on).toEqual({ push: { branches: ["staging"] }, workflow_dispatch: null });
    expect(deployOf(productionConfig()).on["push"]).toEqual({ branches: ["main"] });
  });

  it("cannot deploy before CI passed: it calls ci.yml and every later job depends on it", () => {
    const deploy = deployOf();
    expect(jobOf(deploy, "ci").uses).toBe(`./${CI_WORKFLOW_PATH}`);
    expect(jobOf(deploy, "ci").permissions).toEqual({ contents: "read" });
    expect(jobOf(deploy, "build").needs).toEqual(["ci"]);
    expect(jobOf(deploy, "deploy").needs).toEqual(["branch", "build"]);
  });

  it("waits for an earlier deploy run as a whole, so a push never displaces a queued rollback or migration", () => {
    expect(deployOf(qaConfig()).concurrency).toEqual({
      group: "deploy-runs-qa",
      "cancel-in-progress": false,
    });
  });

  it("replaces its artifact when the build job is re-run", () => {
    const upload = stepNamed(jobOf(deployOf(), "build"), "Upload the artifact");
    expect(upload.with).toMatchObject({ name: "release", overwrite: true });
  });

  it("grants nothing at the top; only build reads contents and only the failure report writes issues", () => {
    const deploy = deployOf();
    expect(deploy.permissions).toEqual({});
    expect(jobOf(deploy, "build").permissions).toEqual({ contents: "read" });
    expect(jobOf(deploy, "deploy").permissions).toEqual({});
    expect(jobOf(deploy, "report-failure").permissions).toEqual({ issues: "write" });
  });

  it("builds the artifact once and hands the release id to the deploy job", () => {
    const build = jobOf(deployOf(), "build");
    const runs = build.steps?.map((s) => s.run).filter(Boolean) ?? [];
    expect(runs).toContain("pnpm run build");
    expect(runs.filter((r) => r?.includes("tar "))).toEqual([
      `tar --exclude=node_modules --exclude=.git -czf "$RUNNER_TEMP/release.tgz" -- 'dist' 'package.json' 'pnpm-lock.yaml'`,
    ]);
    expect(build.outputs).toEqual({ release_id: "${{ steps.release.outputs.id }}" });
    expect(jobOf(deployOf(), "deploy").steps?.some((s) => s.run === "pnpm run build")).toBe(false);
  });

  it("packs the checkout of an app without a build step (app.buildCommand ''): no toolchain, install or build", () => {
    const build = jobOf(deployOf(variantConfig()), "build");
    expect(build.needs).toEqual(["ci"]);
    expect(build.steps?.map((s) => s.name)).toEqual([
      "Check out",
      "Name the release",
      "Pack the artifact",
      "Upload the artifact",
    ]);
    expect(stepNamed(build, "Pack the artifact").run).toBe(
      `tar --exclude=node_modules --exclude=.git -czf "$RUNNER_TEMP/release.tgz" -- '.'`,
    );
  });

  it("deploys in the environment, one deploy at a time, never cancelling a running one", () => {
    const deploy = jobOf(deployOf(qaConfig()), "deploy");
    expect(deploy.environment).toEqual({ name: "qa", url: "https://qa.storefront.example.com/" });
    expect(deploy.concurrency).toEqual({ group: "deploy-qa", "cancel-in-progress": false });
    expect(deploy["timeout-minutes"]).toBeGreaterThan(
      jobOf(deployOf(), "deploy")["timeout-minutes"] ?? Infinity,
    );
  });

  it("runs the ship script verbatim, fed only through env", () => {
    const config = qaConfig();
    const ship = stepNamed(jobOf(deployOf(config), "deploy"), SHIP_STEP_NAME);
    expect(ship.run).toBe(renderShipScript(config));
    expect(Object.keys(ship.env ?? {}).sort()).toEqual(
      [
        "ACTOR",
        "ARTIFACT",
        "DEPLOY_HOSTS",
        "DEPLOY_USER",
        "KNOWN_HOSTS_FILE",
        "RELEASE_ID",
        "SSH_KEY_FILE",
      ].sort(),
    );
    expect(ship.env?.["RELEASE_ID"]).toBe("${{ needs.build.outputs.release_id }}");
  });

  describe("backup before migrations", () => {
    const BACKUP_STEP = "Back up the database (before migrations)";
    const ASSUME_STEP = "Assume the backup role (GitHub OIDC)";
    const stepNames = (config: ReturnType<typeof stagingConfig>) =>
      jobOf(deployOf(config), "deploy").steps?.map((s) => s.name) ?? [];

    it("is off by default outside production-like environments: no backup step, no --backup-taken", () => {
      for (const config of [stagingConfig(), productionConfig({ backup: { beforeMigrations: false } })]) {
        const deploy = jobOf(deployOf(config), "deploy");
        expect(stepNames(config)).not.toContain(BACKUP_STEP);
        expect(stepNamed(deploy, SHIP_STEP_NAME).run).toBe(renderShipScript(config));
        expect(stepNamed(deploy, SHIP_STEP_NAME).run).not.toContain("--backup-taken");
      }
    });

    it("backs up once, just before the ship step, which then deploys with --backup-taken", () => {
      for (const config of [productionConfig(), stagingConfig({ backup: { beforeMigrations: true } })]) {
        const deploy = jobOf(deployOf(config), "deploy");
        const names = stepNames(config);
        expect(names.filter((name) => name === BACKUP_STEP)).toHaveLength(1);
        expect(names.indexOf(SHIP_STEP_NAME) - names.indexOf(BACKUP_STEP)).toBe(1);
        expect(stepNamed(deploy, BACKUP_STEP).run).toBe(renderBackupScript(config));
        const ship = stepNamed(deploy, SHIP_STEP_NAME).run;
        expect(ship).toBe(renderShipScript(config, { backupTaken: true }));
        expect(ship).toContain("--backup-taken");
        expect(names).not.toContain(ASSUME_STEP);
        expect(deploy.permissions).toEqual({});
      }
    });

    it("with app.migrationsUpToDateCommand, leaves the backup to the hosts (they see the release's migrations): no step, no --backup-taken", () => {
      const config = productionConfig({
        app: { name: "storefront", migrationsUpToDateCommand: "npx prisma migrate status" },
      });
      const deploy = jobOf(deployOf(config), "deploy");
      expect(stepNames(config)).not.toContain(BACKUP_STEP);
      expect(stepNamed(deploy, SHIP_STEP_NAME).run).toBe(renderShipScript(config));
      expect(stepNamed(deploy, SHIP_STEP_NAME).run).not.toContain("--backup-taken");
    });

    it("with app.migrationsUpToDateCommand and aws.backupBucket, keeps its step (only it copies the dump off the host)", () => {
      const config = qaConfig({
        app: { name: "storefront", migrationsUpToDateCommand: "npx prisma migrate status" },
        aws: { backupBucket: {} },
        backup: { beforeMigrations: true },
      });
      const deploy = jobOf(deployOf(config), "deploy");
      expect(stepNames(config)).toContain(BACKUP_STEP);
      expect(stepNamed(deploy, SHIP_STEP_NAME).run).toContain("--backup-taken");
    });

    it("with aws.backupBucket, assumes the backup role first (OIDC) and streams the dump to the bucket", () => {
      const config = variantConfig();
      const deploy = jobOf(deployOf(config), "deploy");
      const names = stepNames(config);
      expect(names.slice(names.indexOf(ASSUME_STEP), names.indexOf(SHIP_STEP_NAME) + 1)).toEqual([
        ASSUME_STEP,
        BACKUP_STEP,
        SHIP_STEP_NAME,
      ]);
      expect(deploy.permissions).toEqual({ "id-token": "write" });
      expect(stepNamed(deploy, BACKUP_STEP).env).toMatchObject({
        AWS_BACKUP_BUCKET: "${{ vars.AWS_BACKUP_BUCKET }}",
        AWS_BACKUP_PREFIX: "${{ vars.AWS_BACKUP_PREFIX }}",
      });
    });
  });

  it("writes the key and the pinned known_hosts from the environment, without ssh-keyscan", () => {
    const deploy = jobOf(deployOf(), "deploy");
    const write = stepNamed(deploy, "Write deploy key and pinned known_hosts");
    expect(write.env?.["DEPLOY_SSH_KEY"]).toBe(`\${{ secrets.${ENV_SECRETS.deployKey} }}`);
    expect(write.run).toContain("umask 077");
    const allRuns = deploy.steps?.map((s) => s.run ?? "").join("\n") ?? "";
    expect(allRuns).not.toContain("ssh-keyscan");
    expect(allRuns).toContain("StrictHostKeyChecking=yes");
  });

  it("checks <url><healthPath> with the configured attempts and interval", () => {
    const config = stagingConfig({ deploy: { publicCheckAttempts: 3, publicCheckIntervalSeconds: 2 } });
    const check = stepNamed(jobOf(deployOf(config), "deploy"), "Check the public health URL");
    expect(check.env).toEqual({
      PUBLIC_URL: "https://staging.storefront.example.com",
      HEALTH_PATH: "/health",
    });
    expect(check.run).toContain("$(seq 1 3)");
    expect(check.run).toContain("sleep 2");
  });

  it("always writes a summary table with release, commit, hosts, duration and result", () => {
    const summary = stepNamed(jobOf(deployOf(), "deploy"), "Write job summary");
    expect(summary.if).toBe("always()");
    expect(summary.run).toContain("| Release | Commit | Hosts | Duration | Result |");
    expect(summary.run).toContain("$GITHUB_STEP_SUMMARY");
  });

  it("notifies the chat webhook only when the stack enables it, without failing the deploy", () => {
    const deploy = jobOf(deployOf(qaConfig()), "deploy");
    const notify = stepNamed(deploy, "Notify chat");
    expect(notify.env?.["NOTIFY_WEBHOOK_URL"]).toBe(`\${{ secrets.${REPO_SECRETS.notificationWebhook} }}`);
    expect(notify.run).toContain("::warning::");
    expect(jobOf(deployOf(stagingConfig()), "deploy").steps?.some((s) => s.name === "Notify chat")).toBe(
      false,
    );
  });

  it("reports a failed run as an issue unless turned off", () => {
    const report = jobOf(deployOf(), "report-failure");
    expect(report.needs).toEqual(["ci", "build", "deploy"]);
    expect(report.if).toBe("${{ failure() }}");
    expect(report.steps?.[0]?.env?.["ISSUE_TITLE"]).toBe("Deploy to staging failed");
    expect(Object.keys(deployOf(variantConfig()).jobs)).not.toContain("report-failure");
  });
});
