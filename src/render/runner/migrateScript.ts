// The migration call, run verbatim by the migrate workflow, the sandbox and the real-host tests.
import type { PipelineConfig } from "../../config/types";
import {
  AGENT_EXIT,
  AGENT_VERBS,
  type AgentSwitch,
  type AgentVerb,
  type AgentVerbName,
  agentCall,
} from "../agentProtocol";
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
  /** "true": maintenance mode around the action (verbs that take --maintenance). */
  MIGRATE_MAINTENANCE: string;
}

export interface MigrateOptions {
  /**
   * The migrate workflow backed the database up in a step of its own just before (backupSteps.ts
   * workflowBacksUpFirst): the verbs that would back up get --backup-taken. Without it (the sandbox, the tests) the
   * agent takes its own backup before migrating.
   */
  backupTaken?: boolean;
}

/**
 * One case per action and maintenance choice ("migrate:true"); the verb gets `--actor` when its contract takes one
 * (it records who ran it), and an action whose verb takes no --maintenance has no ":true" case.
 */
function actionCases(options: MigrateOptions): string[] {
  return Object.entries(MIGRATE_ACTIONS).flatMap(([action, name]) => {
    const verb: AgentVerb = AGENT_VERBS[name];
    const taken: AgentSwitch[] =
      options.backupTaken === true && verb.switches.includes("--backup-taken") ? ["--backup-taken"] : [];
    const plain = `  ${action}:false) args=(${agentCall(name, { switches: taken, actor: '"$ACTOR"' })}) ;;`;
    if (!verb.switches.includes("--maintenance")) return [plain];
    const wrapped = agentCall(name, { switches: ["--maintenance", ...taken], actor: '"$ACTOR"' });
    return [plain, `  ${action}:true) args=(${wrapped}) ;;`];
  });
}

function maintenanceActions(): string[] {
  return Object.entries(MIGRATE_ACTIONS)
    .filter(([, name]) => (AGENT_VERBS[name] as AgentVerb).switches.includes("--maintenance"))
    .map(([action]) => action);
}

/**
 * Migrations change the database, which every host of the environment shares: running them once, on the first
 * host, is the whole job. Running them per host would apply (or revert) the same batch several times.
 */
export function renderMigrateScript(
  config: Pick<PipelineConfig, "environment">,
  options: MigrateOptions = {},
): string {
  return [
    ...scriptHeader(
      `Runs a migration action of ${config.environment} on its first host (the database is shared).`,
    ),
    ...requireEnv([...HOST_LOOP_VARIABLES, "ACTOR", "MIGRATE_ACTION", "MIGRATE_MAINTENANCE"]),
    ...requireActor(),
    'case "$MIGRATE_ACTION:$MIGRATE_MAINTENANCE" in',
    ...actionCases(options),
    `  *:true | *:false) echo "error: action '$MIGRATE_ACTION' cannot run with maintenance $MIGRATE_MAINTENANCE (actions: ${Object.keys(MIGRATE_ACTIONS).join(", ")}; maintenance only with ${maintenanceActions().join(", ")})" >&2; exit ${AGENT_EXIT.usage} ;;`,
    `  *) echo "error: MIGRATE_MAINTENANCE must be true or false, not '$MIGRATE_MAINTENANCE'" >&2; exit ${AGENT_EXIT.usage} ;;`,
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
