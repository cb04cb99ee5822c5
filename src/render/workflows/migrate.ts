// migrate-<env>.yml: run, revert or inspect database migrations through the release agent.
import type { PipelineConfig } from "../../config/types";
import { AGENT_EXIT, type AgentVerbName } from "../agentProtocol";
import { environmentJob } from "./environmentJob";
import {
  explainExitFunction,
  readHosts,
  remoteFunction,
  requireActor,
  requireEnv,
  scriptHeader,
} from "./hostLoop";
import { BASH_DEFAULTS, type Workflow } from "./model";
import { hostLoopEnv, removeSshFilesStep, writeSshFilesStep } from "./ssh";

/** Workflow input value -> agent verb, and whether the verb records who ran it. */
export const MIGRATE_ACTIONS = {
  migrate: { verb: "migrate", audited: true },
  rollback: { verb: "migrate-rollback", audited: true },
  status: { verb: "migrate-status", audited: false },
} as const satisfies Record<string, { verb: AgentVerbName; audited: boolean }>;

function actionCases(): string[] {
  return Object.entries(MIGRATE_ACTIONS).map(
    ([action, { verb, audited }]) => `  ${action}) args=(${verb}${audited ? ' --actor "$ACTOR"' : ""}) ;;`,
  );
}

/**
 * Migrations change the database, which every host of the environment shares: running them once, on the first
 * host, is the whole job. Running them per host would apply (or revert) the same batch several times.
 */
export function renderMigrateScript(config: Pick<PipelineConfig, "environment">): string {
  return [
    ...scriptHeader(
      `Runs a migration action of ${config.environment} on its first host (the database is shared).`,
    ),
    ...requireEnv([
      "DEPLOY_HOSTS",
      "DEPLOY_USER",
      "SSH_KEY_FILE",
      "KNOWN_HOSTS_FILE",
      "ACTOR",
      "MIGRATE_ACTION",
    ]),
    ...requireActor(),
    'case "$MIGRATE_ACTION" in',
    ...actionCases(),
    `  *) echo "error: unknown action '$MIGRATE_ACTION' (use one of ${Object.keys(MIGRATE_ACTIONS).join(", ")})" >&2; exit ${AGENT_EXIT.usage} ;;`,
    "esac",
    "",
    ...remoteFunction(),
    ...explainExitFunction(),
    ...readHosts(),
    'first="${hosts[0]}"',
    'echo "==> $first: ${args[*]}"',
    "status=0",
    'remote "$first" "${args[@]}" < /dev/null || status=$?',
    'if [ "$status" -ne 0 ]; then',
    '  echo "FAIL $first: $(explain_exit "$status")"',
    '  exit "$status"',
    "fi",
    'echo "OK   $first: ${args[0]}"',
    "",
  ].join("\n");
}

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
        },
      },
    },
    permissions: {},
    defaults: BASH_DEFAULTS,
    jobs: {
      migrate: environmentJob(config, {
        name: `migrate ${config.environment}`,
        timeoutMinutes: 30,
        steps: [
          writeSshFilesStep(),
          {
            name: "Run the migration action on the first host",
            env: { ...hostLoopEnv(), MIGRATE_ACTION: "${{ inputs.action }}", ACTOR: "${{ github.actor }}" },
            run: renderMigrateScript(config),
          },
          removeSshFilesStep(),
        ],
      }),
    },
  };
}
