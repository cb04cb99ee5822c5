// restore-<env>.yml: restore a database backup on the environment's first host (the database is shared), after the
// environment's approval. The dump comes from S3 with aws.backupBucket, else from the host's local copy. The agent
// refuses unless maintenance mode is on or the confirm input is set. Inputs travel through env: only.
import type { PipelineConfig } from "../../config/types";
import { type RestoreInputs, renderRestoreScript } from "../runner/restoreScript";
import { awsCredentialsSteps, backupBucketEnv, backupJobPermissions } from "./backupSteps";
import { BRANCH_GUARD_JOB, branchGuardJob } from "./branchGuard";
import { environmentJob } from "./environmentJob";
import { BASH_DEFAULTS, type Workflow } from "./model";
import { outcomeSteps, recordStartStep } from "./reporting";
import { hostLoopEnv, removeSshFilesStep, writeSshFilesStep } from "./sshSteps";

export function restoreWorkflow(config: PipelineConfig): Workflow {
  const inputs = { BACKUP_ID: "${{ inputs.backup }}", REASON: "${{ inputs.reason }}" };
  return {
    name: `Restore ${config.environment}`,
    on: {
      workflow_dispatch: {
        inputs: {
          backup: {
            description:
              "Backup id to restore (YYYYMMDDhhmmss-<release-id>; the agent's backups verb lists them)",
            required: true,
            type: "string",
          },
          reason: {
            description: "Why (kept in the run summary and the notification)",
            required: true,
            type: "string",
          },
          confirm: {
            description:
              "Restore even though maintenance mode is off (the app keeps serving while its database is replaced). Otherwise switch maintenance on first.",
            required: false,
            type: "boolean",
            default: false,
          },
        },
      },
    },
    permissions: {},
    defaults: BASH_DEFAULTS,
    jobs: {
      [BRANCH_GUARD_JOB]: branchGuardJob(config),
      restore: environmentJob(config, {
        name: `restore ${config.environment}`,
        timeoutMinutes: 60,
        permissions: backupJobPermissions(config),
        steps: [
          recordStartStep(),
          writeSshFilesStep(),
          ...awsCredentialsSteps(config),
          {
            name: "Restore the backup on the first host",
            env: {
              ...hostLoopEnv(),
              ...({
                BACKUP_ID: inputs.BACKUP_ID,
                RESTORE_CONFIRM: "${{ inputs.confirm }}",
                ACTOR: "${{ github.actor }}",
                ...backupBucketEnv(config),
              } satisfies RestoreInputs),
            },
            run: renderRestoreScript(config),
          },
          removeSshFilesStep(),
          ...outcomeSteps(config, {
            title: `Restore of ${config.environment}`,
            env: inputs,
            columns: [
              { header: "Backup", value: "$BACKUP_ID" },
              { header: "Reason", value: "${REASON//|//}" },
            ],
            message: `Restore of ${config.environment} from $BACKUP_ID: $JOB_STATUS. Reason: $REASON ($RUN_URL)`,
          }),
        ],
      }),
    },
  };
}
