// The migration call, run verbatim by the migrate workflow, the sandbox and the real-host tests.
import type { PipelineConfig } from "../../config/types";
import { AGENT_EXIT, type AgentVerbName, agentCall } from "../agentProtocol";
import { HOST_LOOP_VARIABLES } from "./hostLoopEnvironment";
import {
  explainExitFunction,
  readHosts,
  remoteFunction,
  requireActor,
  requireEnv,
  scriptHeader,
} from "./hostLoop";

/** Workflow input value -> agent verb. */
export const MIGRATE_ACTIONS = {
  migrate: "migrate",
  rollback: "migrate-rollback",
  status: "migrate-status",
} as const satisfies Record<string, AgentVerbName>;

/** What the migrate script reads besides the host-loop variables. */
export interface MigrateInputs {
  ACTOR: string;
  MIGRATE_ACTION: string;
}

/** The verb gets `--actor` when its contract takes one (it records who ran it). */
function actionCases(): string[] {
  return Object.entries(MIGRATE_ACTIONS).map(
    ([action, verb]) => `  ${action}) args=(${agentCall(verb, { actor: '"$ACTOR"' })}) ;;`,
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
    ...requireEnv([...HOST_LOOP_VARIABLES, "ACTOR", "MIGRATE_ACTION"]),
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
