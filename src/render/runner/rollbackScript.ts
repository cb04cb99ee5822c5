// The per-host rollback loop, run verbatim by the rollback workflow, the sandbox and the real-host tests.
// The release id arrives through the environment and is validated in bash, never interpolated.
import { type PipelineConfig, hostCount } from "../../config/types";
import { singleQuote } from "../../primitives/shellQuote";
import { AGENT_EXIT, RELEASE_ID_PATTERN, agentCall } from "../agentProtocol";
import { HOST_LOOP_VARIABLES } from "./hostLoopEnvironment";
import { batchSettings, fleetFunctions, fleetStart, reportSkipped } from "./fleetLoop";
import {
  explainExitFunction,
  readHosts,
  remoteFunction,
  requireActor,
  requireEnv,
  requireMatch,
  scriptHeader,
} from "./hostLoop";

/** What the rollback script reads besides the host-loop variables; an empty TARGET_RELEASE means "one back". */
export interface RollbackInputs {
  ACTOR: string;
  TARGET_RELEASE?: string;
}

const RELEASE_ID_WORD = RELEASE_ID_PATTERN.slice(1, -1);

/**
 * Without TARGET_RELEASE, the target is the release before the first host's current one, and every host is
 * switched to that same id: hosts left in different states by a failed deploy must not each go "one back".
 */
function resolveTarget(): string[] {
  return [
    'if [ -z "${TARGET_RELEASE:-}" ]; then',
    `  listing="$(remote "\${hosts[0]}" ${agentCall("releases")} < /dev/null)"`,
    '  current=""',
    "  while read -r line; do",
    `    id="$(grep -oE ${singleQuote(RELEASE_ID_WORD)} <<< "$line" || true)"`,
    '    if [ -z "$id" ]; then continue; fi',
    '    if [ -n "$current" ]; then TARGET_RELEASE="$id"; break; fi',
    '    if [[ "$line" == *\'*\'* ]]; then current="$id"; fi',
    '  done <<< "$listing"',
    '  if [ -z "${TARGET_RELEASE:-}" ]; then',
    '    echo "error: no release before the current one on ${hosts[0]}; pass a release id" >&2',
    `    exit ${AGENT_EXIT.noRollbackTarget}`,
    "  fi",
    '  echo "Rolling back to $TARGET_RELEASE (the release before the current one on ${hosts[0]})"',
    "fi",
    "",
  ];
}

/** Every host to $TARGET_RELEASE; a host that fails stays on (or goes back to) what it ran. */
function rollbackKind(): string[] {
  return [
    'rollback_label() { echo "rollback to $TARGET_RELEASE"; }',
    "rollback_on() {",
    `  remote "\${hosts[$1]}" ${agentCall("rollback", { argument: '"$TARGET_RELEASE"', actor: '"$ACTOR"' })} </dev/null`,
    "}",
    "rollback_done() {",
    '  if [ "$2" -eq 0 ]; then outcome[$1]="on $TARGET_RELEASE"; else outcome[$1]="failed: $(explain_exit "$2")"; fi',
    "}",
    "on_failure() { :; }",
    "",
  ];
}

type RollbackConfig = Pick<PipelineConfig, "environment" | "hosts" | "aws" | "deploy">;

/** In the batches of deploy.batchSize, without a canary (a rollback is the way back, not a trial). */
export function renderRollbackScript(config: RollbackConfig): string {
  return [
    ...scriptHeader(
      `Switches the hosts of ${config.environment} to an earlier release, batch after batch; stops after a failed batch.`,
    ),
    ...requireEnv([...HOST_LOOP_VARIABLES, "ACTOR"]),
    'if [ -n "${TARGET_RELEASE:-}" ]; then',
    ...requireMatch("TARGET_RELEASE", RELEASE_ID_PATTERN, "a release id (YYYYMMDDhhmmss-<commit>)").map(
      (l) => `  ${l}`,
    ),
    "fi",
    ...requireActor(),
    "",
    ...remoteFunction(),
    ...explainExitFunction(),
    ...readHosts(),
    ...batchSettings(hostCount(config), { batchSize: config.deploy.batchSize, canary: false }),
    "canary_bake_seconds=0",
    ...resolveTarget(),
    ...rollbackKind(),
    ...fleetFunctions("rollback"),
    ...fleetStart(),
    "run_batches rollback no",
    'if [ "$failed" -ne 0 ]; then',
    ...reportSkipped().map((l) => `  ${l}`),
    '  exit "$failed"',
    "fi",
    'echo "Rolled back $total host(s) to $TARGET_RELEASE."',
    "",
  ].join("\n");
}
