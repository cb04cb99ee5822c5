// The batch engine of the ship and rollback scripts: hosts in batches (batchPlan.ts), the hosts of a batch in
// parallel as bash background jobs, each host's output prefixed with the host and kept in order per host, one
// OK/FAIL line per host, a per-host table (result, time, the agent's phase timings) on stdout and in
// $GITHUB_STEP_SUMMARY, and a cancel (the runner's SIGINT, then SIGTERM) that stops the hosts in progress.
//
// A script defines, per kind of work (deploy, rollback, restore, health), `<kind>_on <index>` (the agent call for
// host <index>), `<kind>_label <index>` and `<kind>_done <index> <status>` (records the outcome), and
// `on_failure` (what a failed batch or a cancel leads to).
import { singleQuote } from "../../primitives/shellQuote";
import { AGENT_EXIT, DEPLOY_PHASES, PHASE_LINE_SED } from "../agentProtocol";
import { type FleetSettings, planBatches } from "./batchPlan";

/** How often the canary's health is checked during its bake. */
export const CANARY_CHECK_INTERVAL_SECONDS = 5;

/** The rendered plan, checked against $DEPLOY_HOSTS (filled from the same config by the stack). */
export function batchSettings(hostCount: number, fleet: FleetSettings): string[] {
  return [
    `batch_sizes=(${planBatches(hostCount, fleet).join(" ")})`,
    "planned=0",
    'for size in "${batch_sizes[@]}"; do planned=$((planned + size)); done',
    'if [ "$planned" -ne "${#hosts[@]}" ]; then',
    `  echo "error: DEPLOY_HOSTS lists \${#hosts[@]} host(s) but the stack has ${hostCount}: run pulumi up for this stack" >&2`,
    `  exit ${AGENT_EXIT.usage}`,
    "fi",
    'total="${#hosts[@]}"',
    "",
  ];
}

/** Prefixes each line with `[<host>] ` on stdout and keeps the raw lines in a log file. */
function prefixLinesFunction(): string[] {
  return [
    "prefix_lines() {",
    "  local line",
    '  while IFS= read -r line || [ -n "$line" ]; do',
    '    printf \'%s\\n\' "$line" >>"$2"',
    '    printf \'[%s] %s\\n\' "$1" "$line"',
    "  done",
    "}",
    "",
  ];
}

/**
 * `start_host <kind> <index>`: runs `<kind>_on <index>` in the background in a process group of its own (set -m
 * only around the `&`), so that a cancel can stop the host's ssh, and whatever it runs, at once.
 */
function startHostFunctions(): string[] {
  return [
    "run_host() {",
    "  local kind=$1 index=$2 started=$SECONDS status=0",
    '  "${kind}_on" "$index" 2>&1 | prefix_lines "${hosts[$index]}" "$work/$index.$kind.log" || status=$?',
    '  echo "$((SECONDS - started))" >"$work/$index.$kind.seconds"',
    '  return "$status"',
    "}",
    "",
    "start_host() {",
    "  set -m",
    '  run_host "$1" "$2" &',
    "  job_pid[$2]=$!",
    "  set +m",
    "}",
    "",
    "# The exit status of host <index>'s job; 75 (interrupted) when a cancel stopped it.",
    "wait_host() {",
    "  local status=0",
    '  wait "${job_pid[$1]}" || status=$?',
    '  unset "job_pid[$1]"',
    '  return "$status"',
    "}",
    "",
  ];
}

/** `run_batch <kind> <index>...`: the hosts in parallel; sets batch_status to the first failure (0: none). */
function runBatchFunction(): string[] {
  return [
    "run_batch() {",
    "  local kind=$1 index status seconds",
    "  shift",
    "  batch_status=0",
    '  for index in "$@"; do',
    '    echo "==> [$((index + 1))/$total] ${hosts[$index]}: $("${kind}_label" "$index")"',
    '    start_host "$kind" "$index"',
    "  done",
    '  for index in "$@"; do',
    "    status=0",
    '    wait_host "$index" || status=$?',
    '    seconds="?"',
    '    read -r seconds 2>/dev/null <"$work/$index.$kind.seconds" || true',
    '    if [ "$status" -eq 0 ]; then',
    '      echo "OK   [$((index + 1))/$total] ${hosts[$index]}: $("${kind}_label" "$index") in ${seconds}s"',
    "    else",
    '      echo "FAIL [$((index + 1))/$total] ${hosts[$index]}: $(explain_exit "$status") after ${seconds}s"',
    '      if [ "$batch_status" -eq 0 ]; then batch_status=$status; fi',
    "    fi",
    '    "${kind}_done" "$index" "$status"',
    "  done",
    "}",
    "",
  ];
}

/**
 * `run_batches <kind> <canary yes|no>`: every batch of the plan in turn; stops after the first batch with a failure.
 * Sets failed (0: none) and next_host (the first host not started).
 */
function runBatchesFunction(): string[] {
  return [
    "run_batches() {",
    "  local kind=$1 with_canary=$2 number size indexes",
    "  failed=0",
    "  next_host=0",
    '  for number in "${!batch_sizes[@]}"; do',
    "    size=${batch_sizes[$number]}",
    '    mapfile -t indexes < <(seq "$next_host" "$((next_host + size - 1))")',
    '    run_batch "$kind" "${indexes[@]}"',
    "    next_host=$((next_host + size))",
    '    if [ "$batch_status" -ne 0 ]; then',
    "      failed=$batch_status",
    "      return 0",
    "    fi",
    '    if [ "$with_canary" = yes ] && [ "$number" -eq 0 ] && [ "$total" -gt 1 ]; then',
    "      bake_canary 0 || { failed=$?; return 0; }",
    "    fi",
    "  done",
    "}",
    "",
  ];
}

/** `bake_canary <index>`: the agent's health verb every few seconds for $canary_bake_seconds. */
function bakeCanaryFunction(): string[] {
  return [
    'health_on() { remote "${hosts[$1]}" health </dev/null >/dev/null; }',
    "",
    "bake_canary() {",
    "  local index=$1 deadline=$((SECONDS + canary_bake_seconds)) checks=0 status pause",
    '  if [ "$canary_bake_seconds" -eq 0 ]; then return 0; fi',
    '  echo "==> canary ${hosts[$index]}: health checks for ${canary_bake_seconds}s before the other hosts"',
    '  while [ "$SECONDS" -lt "$deadline" ]; do',
    "    status=0",
    '    start_host health "$index"',
    '    wait_host "$index" || status=$?',
    '    if [ "$status" -ne 0 ]; then',
    '      echo "FAIL canary ${hosts[$index]}: unhealthy after $checks good check(s) ($(explain_exit "$status"))"',
    '      outcome[index]="unhealthy in the canary bake"',
    `      return ${AGENT_EXIT.unhealthy}`,
    "    fi",
    "    checks=$((checks + 1))",
    "    # In the background: a cancel interrupts wait at once, never a sleep.",
    `    pause=$((deadline - SECONDS < ${CANARY_CHECK_INTERVAL_SECONDS} ? deadline - SECONDS : ${CANARY_CHECK_INTERVAL_SECONDS}))`,
    '    if [ "$pause" -le 0 ]; then break; fi',
    '    sleep "$pause" &',
    '    wait "$!"',
    "  done",
    '  echo "OK   canary ${hosts[$index]}: $checks health check(s) in ${canary_bake_seconds}s"',
    "}",
    "",
  ];
}

/**
 * The runner sends SIGINT on cancel, SIGTERM 7.5 s later and kills the process tree 2.5 s after that (GitHub's
 * workflow cancellation reference): stop the hosts in progress at once (each agent undoes its half-done work when
 * its connection goes), then on_failure; a second signal changes nothing.
 */
function cancelFunctions(): string[] {
  return [
    "stop_running_hosts() {",
    "  local index",
    '  for index in "${!job_pid[@]}"; do kill -TERM -- "-${job_pid[$index]}" 2>/dev/null || true; done',
    '  for index in "${!job_pid[@]}"; do',
    '    wait "${job_pid[$index]}" 2>/dev/null || true',
    '    outcome[index]="interrupted (the agent keeps or restores its previous release)"',
    '    unset "job_pid[$index]"',
    "  done",
    "}",
    "",
    "on_runner_signal() {",
    "  trap '' INT TERM HUP",
    '  echo "Cancelled (SIG$1): stopping the hosts in progress"',
    "  stop_running_hosts",
    "  on_failure",
    `  exit ${AGENT_EXIT.interrupted}`,
    "}",
    "",
  ];
}

/**
 * The per-host table: on stdout, and appended to $GITHUB_STEP_SUMMARY when set (the job summary). Rendered once,
 * reading each host's log once: its cost grows with the hosts, not with hosts times phases.
 */
function summaryFunctions(kind: string): string[] {
  return [
    "# host_row <index>: the host's row; the last line of a phase counts (a failed phase prints its line last).",
    "host_row() {",
    `  local index=$1 name value phase seconds=- row`,
    "  local -A phase_time=()",
    `  if [ -f "$work/$index.${kind}.log" ]; then`,
    '    while read -r name value; do if [ -n "$name" ]; then phase_time[$name]=$value; fi; done < <(',
    `      sed -n ${singleQuote(`s/${PHASE_LINE_SED}/\\1 \\2\\3/p`)} "$work/$index.${kind}.log"`,
    "    )",
    "  fi",
    `  if [ -f "$work/$index.${kind}.seconds" ]; then read -r seconds <"$work/$index.${kind}.seconds" && seconds="\${seconds}s"; fi`,
    '  row="| ${hosts[$index]} | ${outcome[$index]:-not touched} | $seconds |"',
    `  for phase in ${DEPLOY_PHASES.join(" ")}; do row="$row \${phase_time[$phase]:--} |"; done`,
    "  printf '%s\\n' \"$row\"",
    "}",
    "",
    "host_table() {",
    "  local index",
    `  echo "| Host | Result | Time | ${DEPLOY_PHASES.join(" | ")} |"`,
    `  echo "| --- | --- | --- |${DEPLOY_PHASES.map(() => " --- |").join("")}"`,
    '  for index in "${!hosts[@]}"; do host_row "$index"; done',
    "}",
    "",
    "finish() {",
    "  local status=$? table",
    "  trap - EXIT",
    "  set +e",
    '  if [ -n "${work:-}" ] && [ -d "$work" ]; then',
    "    table=$(host_table)",
    "    printf '\\n%s\\n' \"$table\"",
    '    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then',
    '      printf \'#### Hosts\\n\\n%s\\n\\n\' "$table" >>"$GITHUB_STEP_SUMMARY" || true',
    "    fi",
    '    rm -rf "$work"',
    "  fi",
    '  exit "$status"',
    "}",
    "",
  ];
}

/**
 * The functions of the batch engine, and the traps: the per-host table on exit, stop-and-on_failure on a signal.
 * `kind` is the main kind of work, whose timings the table shows.
 */
export function fleetFunctions(kind: string): string[] {
  return [
    ...prefixLinesFunction(),
    ...startHostFunctions(),
    ...runBatchFunction(),
    ...runBatchesFunction(),
    ...bakeCanaryFunction(),
    ...cancelFunctions(),
    ...summaryFunctions(kind),
  ];
}

/** Starts the engine: work directory, the arrays, the traps. */
export function fleetStart(): string[] {
  return [
    "job_pid=()",
    "outcome=()",
    'work="$(mktemp -d)"',
    "trap finish EXIT",
    "trap 'on_runner_signal INT' INT",
    "trap 'on_runner_signal TERM' TERM",
    "trap 'on_runner_signal HUP' HUP",
    "",
  ];
}

/** "SKIP <hosts>: not touched" for the hosts after the failed batch. */
export function reportSkipped(): string[] {
  return [
    'skipped=("${hosts[@]:next_host}")',
    'if [ "${#skipped[@]}" -gt 0 ]; then echo "SKIP ${skipped[*]}: not touched"; fi',
  ];
}
