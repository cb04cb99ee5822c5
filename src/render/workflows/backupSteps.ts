// Steps that reach the stack's backup bucket: the role is assumed through GitHub's OIDC provider (no AWS keys
// anywhere), and the bucket and prefix come from the environment's variables (set only with aws.backupBucket).
import { backupBeforeMigrations } from "../../config/backupSchema";
import type { PipelineConfig } from "../../config/types";
import { AWS_BACKUP_VARS } from "../githubNames";
import { type BackupInputs, renderBackupScript } from "../runner/backupScript";
import { ACTIONS, actionRef } from "./actions";
import type { Permissions, Step } from "./model";
import { hostLoopEnv, varExpr } from "./sshSteps";

type BackupConfig = Pick<PipelineConfig, "environment" | "aws" | "backup"> & {
  app: Pick<PipelineConfig["app"], "migrationsUpToDateCommand">;
};

export function usesBackupBucket(config: Pick<PipelineConfig, "aws">): boolean {
  return config.aws?.backupBucket !== undefined;
}

/** The job's token may request an OIDC token only when it has a bucket to reach. */
export function backupJobPermissions(config: Pick<PipelineConfig, "aws">): Permissions {
  return usesBackupBucket(config) ? { "id-token": "write" } : {};
}

/** Bucket and prefix for the runner-side scripts; nothing without a bucket (the scripts then stay on the host). */
export function backupBucketEnv(
  config: Pick<PipelineConfig, "aws">,
): Pick<BackupInputs, "AWS_BACKUP_BUCKET" | "AWS_BACKUP_PREFIX"> {
  if (!usesBackupBucket(config)) return {};
  return {
    AWS_BACKUP_BUCKET: varExpr(AWS_BACKUP_VARS.bucket),
    AWS_BACKUP_PREFIX: varExpr(AWS_BACKUP_VARS.prefix),
  };
}

export function awsCredentialsSteps(config: Pick<PipelineConfig, "aws">, condition?: string): Step[] {
  if (!usesBackupBucket(config)) return [];
  return [
    {
      name: "Assume the backup role (GitHub OIDC)",
      ...(condition === undefined ? {} : { if: condition }),
      uses: actionRef(ACTIONS.configureAwsCredentials),
      with: {
        "role-to-assume": varExpr(AWS_BACKUP_VARS.roleArn),
        "aws-region": varExpr(AWS_BACKUP_VARS.region),
      },
    },
  ];
}

/**
 * Whether the deploy and migrate workflows back up in a step of their own before the hosts migrate (and then call
 * the agent with --backup-taken). Only the host can tell whether a release has migrations to run
 * (app.migrationsUpToDateCommand runs in the unpacked release), so with that command the hosts decide, unless the
 * backup must reach the bucket (aws.backupBucket): only the workflow's step copies a dump off the host.
 */
export function workflowBacksUpFirst(config: BackupConfig): boolean {
  if (!backupBeforeMigrations(config)) return false;
  return config.app.migrationsUpToDateCommand === "" || usesBackupBucket(config);
}

/**
 * With workflowBacksUpFirst: the database is backed up on the first host before the job migrates (and copied to
 * S3 with aws.backupBucket); a failed backup fails the job before anything changes. `condition` limits it (e.g. the
 * migrate workflow's status action needs none).
 */
export function backupBeforeMigrationsSteps(config: BackupConfig, condition?: string): Step[] {
  if (!workflowBacksUpFirst(config)) return [];
  return [
    ...awsCredentialsSteps(config, condition),
    {
      name: "Back up the database (before migrations)",
      ...(condition === undefined ? {} : { if: condition }),
      env: {
        ...hostLoopEnv(),
        ...({ ACTOR: "${{ github.actor }}", ...backupBucketEnv(config) } satisfies BackupInputs),
      },
      run: renderBackupScript(config),
    },
  ];
}
