// The per-host rollback loop, run verbatim by the rollback workflow, the sandbox and the real-host tests.
// The release id arrives through the environment and is validated in bash, never interpolated.
import type { PipelineConfig } from "../../config/types";
import { singleQuote } from "../../primitives/shellQuote";
import { AGENT_EXIT, RELEASE_ID_PATTERN, agentCall } from "../agentProtocol";
import { HOST_LOOP_VARIABLES } from "./hostLoopEnvironment";
import {
  explainExitFunction,
  forEachHost,
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

export function renderRollbackScript(config: Pick<PipelineConfig, "environment">): string {
  return [
    ...scriptHeader(
      `Switches each host of ${config.environment} to an earlier release, in turn; stops at the first failure.`,
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
    ...resolveTarget(),
    ...forEachHost({
      call: agentCall("rollback", { argument: '"$TARGET_RELEASE"', actor: '"$ACTOR"' }),
      stdin: "/dev/null",
      label: "rollback to $TARGET_RELEASE",
    }),
    'echo "Rolled back $total host(s) to $TARGET_RELEASE."',
    "",
  ].join("\n");
}
