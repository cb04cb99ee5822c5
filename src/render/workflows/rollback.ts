// rollback-<env>.yml: switch every host back to an earlier release (symlink switch + pm2 reload, no rebuild).
// The free-text reason and the release id arrive through env: and are validated in bash, never interpolated.
import type { PipelineConfig } from "../../config/types";
import { type RollbackInputs, renderRollbackScript } from "../runner/rollbackScript";
import { BRANCH_GUARD_JOB, branchGuardJob } from "./branchGuard";
import { environmentJob, hostStepsTimeoutMinutes } from "./environmentJob";
import { BASH_DEFAULTS, type Workflow } from "./model";
import { outcomeSteps, recordStartStep } from "./reporting";
import { hostLoopEnv, writeSshFilesStep } from "./sshSteps";

export function rollbackWorkflow(config: PipelineConfig): Workflow {
  const inputs = { TARGET_RELEASE: "${{ inputs.release }}", REASON: "${{ inputs.reason }}" };
  return {
    name: `Rollback ${config.environment}`,
    on: {
      workflow_dispatch: {
        inputs: {
          release: {
            description: "Release id to switch back to (empty = the release before the current one)",
            required: false,
            type: "string",
            default: "",
          },
          reason: {
            description: "Why (kept in the run summary and the notification)",
            required: true,
            type: "string",
          },
        },
      },
    },
    permissions: {},
    defaults: BASH_DEFAULTS,
    jobs: {
      [BRANCH_GUARD_JOB]: branchGuardJob(config),
      rollback: environmentJob(config, {
        name: `rollback ${config.environment}`,
        timeoutMinutes: hostStepsTimeoutMinutes(config),
        steps: [
          recordStartStep(),
          writeSshFilesStep(),
          {
            name: "Roll back each host in turn",
            env: {
              ...hostLoopEnv(),
              ...({
                TARGET_RELEASE: inputs.TARGET_RELEASE,
                ACTOR: "${{ github.actor }}",
              } satisfies RollbackInputs),
            },
            run: renderRollbackScript(config),
          },
          ...outcomeSteps(config, {
            title: `Rollback of ${config.environment}`,
            env: inputs,
            columns: [
              { header: "Target", value: "${TARGET_RELEASE:-previous}" },
              { header: "Reason", value: "${REASON//|//}" },
            ],
            message: `Rollback of ${config.environment} to \${TARGET_RELEASE:-previous}: $JOB_STATUS. Reason: $REASON ($RUN_URL)`,
          }),
        ],
      }),
    },
  };
}
