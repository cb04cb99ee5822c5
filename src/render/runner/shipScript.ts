// The deploy loop, run verbatim by the deploy workflow, the sandbox and the real-host tests.
import { type PipelineConfig, hostCount } from "../../config/types";
import { singleQuote } from "../../primitives/shellQuote";
import {
  AGENT_EXIT,
  type AgentSwitch,
  RELEASE_ID_PATTERN,
  REPLACING_LINE_SED,
  agentCall,
} from "../agentProtocol";
import { HOST_LOOP_VARIABLES } from "./hostLoopEnvironment";
import {
  explainExitFunction,
  readHosts,
  remoteFunction,
  requireActor,
  requireEnv,
  requireMatch,
  scriptHeader,
} from "./hostLoop";
import { hostsPerBatch } from "./batchPlan";
import { batchSettings, fleetFunctions, fleetStart, reportSkipped } from "./fleetLoop";

/** What the ship script reads besides the host-loop variables. */
export const SHIP_INPUTS = ["ARTIFACT", "RELEASE_ID", "ACTOR"] as const;
export type ShipInputs = Record<(typeof SHIP_INPUTS)[number], string>;

type ShipConfig = Pick<PipelineConfig, "environment" | "hosts" | "aws" | "deploy">;

export interface ShipOptions {
  /**
   * The deploy workflow backed the database up in a step of its own just before (backup.beforeMigrations): each
   * host deploys with --backup-taken instead of dumping the shared database again. Without it (the sandbox, the
   * tests) the agent takes its own backup before the migrations.
   */
  backupTaken?: boolean;
}

/**
 * Per host: the deploy, which names the release it replaces (what a rollback-all puts back) in its log. `switched`
 * marks the hosts this run switched to the new release.
 */
function deployKind(fleet: ShipConfig["deploy"], options: ShipOptions): string[] {
  const switches: AgentSwitch[] = [
    ...(fleet.maintenanceDuringMigrations ? (["--maintenance"] as const) : []),
    ...(options.backupTaken === true ? (["--backup-taken"] as const) : []),
  ];
  return [
    'deploy_label() { echo "deploy $RELEASE_ID"; }',
    "deploy_on() {",
    `  remote "\${hosts[$1]}" ${agentCall("deploy", {
      argument: '"$RELEASE_ID"',
      switches,
      actor: '"$ACTOR"',
    })} <"$ARTIFACT"`,
    "}",
    "deploy_done() {",
    '  if [ "$2" -eq 0 ]; then',
    "    switched[$1]=yes",
    '    outcome[$1]="deployed"',
    "  else",
    '    outcome[$1]="failed: $(explain_exit "$2")"',
    "  fi",
    "}",
    "",
  ];
}

/** rollback-all: each switched host back to the release it ran before this deploy, in batches of batchSize. */
function restoreKind(): string[] {
  return [
    "# The release host <index> ran before this deploy, from the agent's line in the host's log (\"\" if none).",
    "previous_of() {",
    `  local id release_id_pattern=${singleQuote(RELEASE_ID_PATTERN)}`,
    `  id="$(sed -n ${singleQuote(`s/${REPLACING_LINE_SED}/\\1/p`)} "$work/$1.deploy.log" 2>/dev/null | tail -n 1)"`,
    "  if [[ $id =~ $release_id_pattern ]]; then printf '%s\\n' \"$id\"; fi",
    "}",
    'restore_label() { echo "back to $(previous_of "$1")"; }',
    "restore_on() {",
    "  local previous",
    '  previous="$(previous_of "$1")"',
    '  if [ -z "$previous" ]; then',
    '    echo "no release ran here before $RELEASE_ID: nothing to go back to"',
    `    return ${AGENT_EXIT.noRollbackTarget}`,
    "  fi",
    `  remote "\${hosts[$1]}" ${agentCall("rollback", { argument: '"$previous"', actor: '"$ACTOR"' })} </dev/null`,
    "}",
    "restore_done() {",
    '  if [ "$2" -eq 0 ]; then',
    '    outcome[$1]="deployed, then back to $(previous_of "$1") (rollback-all)"',
    "  else",
    '    outcome[$1]="deployed; going back failed: $(explain_exit "$2")"',
    "  fi",
    "}",
    "",
    "restore_switched() {",
    "  local index start=0 switched_hosts=()",
    '  for index in "${!switched[@]}"; do switched_hosts+=("$index"); done',
    '  if [ "${#switched_hosts[@]}" -eq 0 ]; then return 0; fi',
    '  echo "Putting back the ${#switched_hosts[@]} host(s) this deploy switched (deploy.onFailure rollback-all)"',
    '  while [ "$start" -lt "${#switched_hosts[@]}" ]; do',
    '    run_batch restore "${switched_hosts[@]:start:batch_size}"',
    "    start=$((start + batch_size))",
    "  done",
    "}",
    "",
  ];
}

function onFailure(fleet: ShipConfig["deploy"]): string[] {
  const action =
    fleet.onFailure === "rollback-all"
      ? ["  restore_switched"]
      : [
          '  if [ "${#switched[@]}" -gt 0 ]; then',
          '    echo "STOP: ${#switched[@]} host(s) keep $RELEASE_ID (deploy.onFailure stop)"',
          "  fi",
        ];
  return ["on_failure() {", ...action, "}", ""];
}

/**
 * Ships $ARTIFACT to the hosts of $DEPLOY_HOSTS ("host[:port] ...") with `deploy <release-id> --actor <login>`,
 * in the batches of deploy.batchSize (the canary alone first, then its bake, with deploy.canary). After a failed
 * batch no further host is touched; deploy.onFailure decides what happens to the hosts already switched. Exits with
 * the first failing host's exit code.
 */
export function renderShipScript(config: ShipConfig, options: ShipOptions = {}): string {
  return [
    ...scriptHeader(
      `Deploys one release artifact to the hosts of ${config.environment}, batch after batch; stops after a failed batch.`,
    ),
    ...requireEnv([...HOST_LOOP_VARIABLES, ...SHIP_INPUTS]),
    ...requireMatch("RELEASE_ID", RELEASE_ID_PATTERN, "a release id (YYYYMMDDhhmmss-<commit>)"),
    ...requireActor(),
    'if [ ! -s "$ARTIFACT" ]; then',
    '  echo "error: artifact $ARTIFACT is missing or empty" >&2',
    `  exit ${AGENT_EXIT.usage}`,
    "fi",
    "",
    ...remoteFunction(),
    ...explainExitFunction(),
    ...readHosts(),
    ...batchSettings(hostCount(config), config.deploy),
    `batch_size=${hostsPerBatch(hostCount(config), config.deploy.batchSize)}`,
    `canary_bake_seconds=${config.deploy.canaryBakeSeconds}`,
    "switched=()",
    ...deployKind(config.deploy, options),
    ...restoreKind(),
    ...onFailure(config.deploy),
    ...fleetFunctions("deploy"),
    ...fleetStart(),
    `run_batches deploy ${config.deploy.canary ? "yes" : "no"}`,
    'if [ "$failed" -ne 0 ]; then',
    ...reportSkipped().map((l) => `  ${l}`),
    "  on_failure",
    '  exit "$failed"',
    "fi",
    'echo "Deployed $RELEASE_ID to $total host(s)."',
    "",
  ].join("\n");
}
