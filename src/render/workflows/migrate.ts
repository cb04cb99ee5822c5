// migrate-<env>.yml: run, revert or inspect database migrations through the release agent.
import type { PipelineConfig } from "../../config/types";
import { MIGRATE_ACTIONS, type MigrateInputs, renderMigrateScript } from "../runner/migrateScript";
import { backupBeforeMigrationsSteps, backupJobPermissions, workflowBacksUpFirst } from "./backupSteps";
import { BRANCH_GUARD_JOB, branchGuardJob } from "./branchGuard";
import { environmentJob } from "./environmentJob";
import { BASH_DEFAULTS, type Workflow } from "./model";
import { hostLoopEnv, removeSshFilesStep, writeSshFilesStep } from "./sshSteps";

export function migrateWorkflow(config: PipelineConfig): Workflow {
  return {
    name: `Migrate ${config.environment}`,
    on: {
      workflow_dispatch: {
        inputs: {
          action: {
            description: "migrate: apply pending; rollback: revert the last batch; status: list",
            required: true,
            type: "choice",
            options: Object.keys(MIGRATE_ACTIONS),
            default: "status",
          },
          maintenance: {
            description:
              "Maintenance mode (503 with Retry-After for everything but the health path) while the action runs; off afterwards unless it was on before. migrate and rollback only.",
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
      migrate: environmentJob(config, {
        name: `migrate ${config.environment}`,
        timeoutMinutes: 30,
        permissions: backupJobPermissions(config),
        steps: [
          writeSshFilesStep(),
          ...backupBeforeMigrationsSteps(config, "inputs.action != 'status'"),
          {
            name: "Run the migration action on the first host",
            env: {
              ...hostLoopEnv(),
              ...({
                MIGRATE_ACTION: "${{ inputs.action }}",
                MIGRATE_MAINTENANCE: "${{ inputs.maintenance }}",
                ACTOR: "${{ github.actor }}",
              } satisfies MigrateInputs),
            },
            run: renderMigrateScript(config, { backupTaken: workflowBacksUpFirst(config) }),
          },
          removeSshFilesStep(),
        ],
      }),
    },
  };
}
