// A CPU-light stand-in for the release agent, for the fleet benchmark's stand-in hosts (standInHosts.ts): the same
// forced command, verbs, exit codes and progress lines as the real agent (agentProtocol.ts), but a deploy only
// drains the artifact from stdin and then sleeps a fixed time per phase. Eight stand-ins on two cores then show what
// the runner's batches cost by themselves, as on eight servers that each bring their own CPU.
import { quote } from "../src/primitives/shellQuote";
import {
  AGENT_EXIT,
  AGENT_VERB_NAMES,
  DEPLOY_PHASES,
  type DeployPhase,
  RELEASE_ID_PATTERN,
} from "../src/render/agentProtocol";

/** The phases that are slept; `upload` is the real time it takes to drain the artifact. */
export type SleptPhase = Exclude<DeployPhase, "upload">;
export type PhaseSeconds = Record<SleptPhase, number>;

/**
 * A constant near a real host's unchanged-lockfile deploy of the example app (install from the package store,
 * no migration script, the new release started beside the old one, its first healthy answer, the proxy switch): 2 s in all.
 */
export const STAND_IN_PHASE_SECONDS: PhaseSeconds = {
  install: 1,
  migrate: 0.2,
  start: 0.3,
  health: 0.4,
  switch: 0.1,
};

export interface StandInAgentOptions {
  /** A directory the deploy user owns: the stand-in keeps its release list there (`stand-in-releases`, current last). */
  stateDir: string;
  phaseSeconds?: PhaseSeconds;
}

/** The sleeps in the phases' order, upload (drained, not slept) left out. */
function sleptPhases(seconds: PhaseSeconds): [SleptPhase, number][] {
  return DEPLOY_PHASES.filter((phase): phase is SleptPhase => phase !== "upload").map((phase) => [
    phase,
    seconds[phase],
  ]);
}

function exitCode(name: keyof typeof AGENT_EXIT): string {
  return String(AGENT_EXIT[name]);
}

function settings(options: StandInAgentOptions): string[] {
  return [
    `readonly RELEASE_ID_PATTERN=${quote(RELEASE_ID_PATTERN)}`,
    `readonly RELEASES_FILE=${quote(`${options.stateDir}/stand-in-releases`)}`,
    `readonly CONTRACT_VERBS=${quote(` ${AGENT_VERB_NAMES.join(" ")} `)}`,
    `readonly SAFE_COMMAND_PATTERN=${quote("^[][A-Za-z0-9 ._-]*$")}`,
  ];
}

/** Progress lines in the real agent's format (agent/core.sh phase_done; PHASE_LINE_SED reads them). */
const HELPERS = [
  "log() { printf 'release-agent: %s\\n' \"$*\" >&2; }",
  "fail() {",
  "  local code=$1",
  "  shift",
  '  log "error: $*"',
  '  exit "$code"',
  "}",
  "phase_line() {",
  "  local elapsed=$((${EPOCHREALTIME/./} - $2))",
  '  log "$(printf \'phase %s %d.%02ds\' "$1" $((elapsed / 1000000)) $((elapsed % 1000000 / 10000)))"',
  "}",
  "slept_phase() {",
  "  local started=${EPOCHREALTIME/./}",
  '  sleep "$2"',
  '  phase_line "$1" "$started"',
  "}",
  'current_release() { if [ -s "$RELEASES_FILE" ]; then tail -n 1 "$RELEASES_FILE"; fi; }',
  "release_id_or_fail() {",
  `  [[ $1 =~ $RELEASE_ID_PATTERN ]] || fail ${exitCode("badReleaseId")} "not a release id: $1"`,
  "}",
];

function deployVerb(seconds: PhaseSeconds): string[] {
  return [
    "stand_in_deploy() {",
    "  local release=$1 started bytes previous",
    '  release_id_or_fail "$release"',
    "  started=${EPOCHREALTIME/./}",
    "  bytes=$(wc -c)",
    '  phase_line upload "$started"',
    `  [ "$bytes" -gt 0 ] || fail ${exitCode("badArtifact")} "no artifact arrived on stdin"`,
    '  log "stand-in received $bytes bytes"',
    "  previous=$(current_release)",
    '  log "replacing ${previous:-none}"',
    ...sleptPhases(seconds).flatMap(([phase, value]) => [
      ...(phase === "switch" ? ['  printf \'%s\\n\' "$release" >>"$RELEASES_FILE"'] : []),
      `  slept_phase ${phase} ${value}`,
    ]),
    '  log "release $release is live"',
    "}",
  ];
}

/** To the given release, or to the one before current; the real rollback's switch and health gate, slept. */
function rollbackVerb(seconds: PhaseSeconds): string[] {
  return [
    "stand_in_rollback() {",
    "  local target=${1-} current",
    "  current=$(current_release)",
    '  if [ -z "$target" ]; then',
    '    target=$(grep -vxF -- "$current" "$RELEASES_FILE" 2>/dev/null | tail -n 1 || true)',
    `    [ -n "$target" ] || fail ${exitCode("noRollbackTarget")} "no release before \${current:-none}"`,
    "  fi",
    '  release_id_or_fail "$target"',
    `  grep -qxF -- "$target" "$RELEASES_FILE" 2>/dev/null || fail ${exitCode("releaseNotFound")} "no release $target"`,
    '  log "replacing ${current:-none}"',
    '  { grep -vxF -- "$target" "$RELEASES_FILE" || true; printf \'%s\\n\' "$target"; } >"$RELEASES_FILE.new"',
    '  mv -f "$RELEASES_FILE.new" "$RELEASES_FILE"',
    `  slept_phase switch ${seconds.switch}`,
    `  slept_phase health ${seconds.health}`,
    '  log "release $target is live"',
    "}",
  ];
}

/** Newest first, current marked with '*' (the real `releases` listing). */
const RELEASES_VERB = [
  "stand_in_releases() {",
  "  local current release",
  "  current=$(current_release)",
  '  if [ ! -s "$RELEASES_FILE" ]; then return 0; fi',
  "  while IFS= read -r release; do",
  '    if [ "$release" = "$current" ]; then echo "* $release"; else echo "  $release"; fi',
  '  done < <(sort -r "$RELEASES_FILE")',
  "}",
];

/** The command line: the deploy key's `--key <id>` with the verb in $SSH_ORIGINAL_COMMAND, or argv. */
const DISPATCH = [
  'if [ "${1-}" = --key ]; then',
  `  [ -n "\${SSH_ORIGINAL_COMMAND-}" ] || fail ${exitCode("usage")} "no command given"`,
  `  [[ $SSH_ORIGINAL_COMMAND =~ $SAFE_COMMAND_PATTERN ]] || fail ${exitCode("usage")} "the command may only contain letters, digits, spaces and . _ - [ ]"`,
  '  read -r -a words <<<"$SSH_ORIGINAL_COMMAND"',
  "else",
  '  words=("$@")',
  "fi",
  `[ "\${#words[@]}" -gt 0 ] || fail ${exitCode("usage")} "no verb given"`,
  "verb=${words[0]}",
  "positional=()",
  "index=1",
  'while [ "$index" -lt "${#words[@]}" ]; do',
  "  case ${words[$index]} in",
  "    --actor) index=$((index + 2)) ;;",
  "    -*) index=$((index + 1)) ;;",
  '    *) positional+=("${words[$index]}"); index=$((index + 1)) ;;',
  "  esac",
  "done",
  "case $verb in",
  `  deploy) [ "\${#positional[@]}" -eq 1 ] || fail ${exitCode("usage")} "deploy takes one release id"; stand_in_deploy "\${positional[0]}" ;;`,
  '  rollback) stand_in_rollback "${positional[0]-}" ;;',
  "  releases) stand_in_releases ;;",
  "  health) ;;",
  "  *)",
  `    if [[ $CONTRACT_VERBS == *" $verb "* ]]; then fail ${exitCode("usage")} "the stand-in agent does not play $verb"; fi`,
  `    fail ${exitCode("usage")} "unknown verb"`,
  "    ;;",
  "esac",
];

export function renderStandInAgent(options: StandInAgentOptions): string {
  const seconds = options.phaseSeconds ?? STAND_IN_PHASE_SECONDS;
  return [
    "#!/bin/bash",
    "# Stand-in release agent of the fleet benchmark (bench/standInAgent.ts): CPU-light, fixed sleeps for the",
    "# real agent's phases, the real agent's verbs, exit codes and progress lines.",
    "set -euo pipefail",
    ...settings(options),
    ...HELPERS,
    ...deployVerb(seconds),
    ...rollbackVerb(seconds),
    ...RELEASES_VERB,
    ...DISPATCH,
    "",
  ].join("\n");
}
