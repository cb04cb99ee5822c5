// The restore call, run verbatim by the restore workflow and the tests: restores a backup on the first host (the
// database is shared). With AWS_BACKUP_BUCKET set the dump comes from S3: downloaded whole and checked against the
// SHA-256 recorded at backup time first, so a download that fails midway or a changed object never reaches the
// database; without it, the host restores its local copy.
import type { PipelineConfig } from "../../config/types";
import { AGENT_EXIT, BACKUP_ID_PATTERN, agentCall } from "../agentProtocol";
import { AWS_BACKUP_VARS } from "../githubNames";
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

/** What the restore script reads besides the host-loop variables. */
export interface RestoreInputs {
  ACTOR: string;
  BACKUP_ID: string;
  /** "true": restore even though maintenance mode is off (the agent's --confirm). */
  RESTORE_CONFIRM: string;
  AWS_BACKUP_BUCKET?: string;
  AWS_BACKUP_PREFIX?: string;
}

function confirmCases(): string[] {
  const call = (confirm: boolean, stdin: boolean) => {
    const switches = [...(confirm ? ["--confirm" as const] : []), ...(stdin ? ["--stdin" as const] : [])];
    return agentCall("restore", { argument: '"$BACKUP_ID"', switches, actor: '"$ACTOR"' });
  };
  return [
    'case "$RESTORE_CONFIRM:${' + AWS_BACKUP_VARS.bucket + ':+s3}" in',
    `  true:s3) args=(${call(true, true)}) ;;`,
    `  false:s3) args=(${call(false, true)}) ;;`,
    `  true:) args=(${call(true, false)}) ;;`,
    `  false:) args=(${call(false, false)}) ;;`,
    `  *) echo "error: RESTORE_CONFIRM must be true or false, not '$RESTORE_CONFIRM'" >&2; exit ${AGENT_EXIT.usage} ;;`,
    "esac",
    "",
  ];
}

/**
 * The object and its metadata in one request, whole, into a private file; its SHA-256 must be the one the backup
 * step recorded (backupScript.ts) before anything reaches the host.
 */
function downloadFromS3(): string[] {
  const bucket = `$${AWS_BACKUP_VARS.bucket}`;
  return [
    `key="\${${AWS_BACKUP_VARS.prefix}:-}$BACKUP_ID.dump"`,
    `object="s3://${bucket}/$key"`,
    "umask 077",
    'dump="$(mktemp "${RUNNER_TEMP:-/tmp}/restore.XXXXXX")"',
    "trap 'rm -f \"$dump\"' EXIT",
    'echo "Downloading $object"',
    `recorded="$(aws s3api get-object --bucket "${bucket}" --key "$key" --query Metadata.sha256 --output text "$dump")"`,
    'actual="$(sha256sum "$dump" | cut -d " " -f 1)"',
    "if ! [[ $recorded =~ ^[0-9a-f]{64}$ ]]; then",
    '  echo "FAIL $object has no recorded SHA-256 (metadata sha256): not restored, nothing was changed"',
    "  exit 1",
    "fi",
    'if [ "$actual" != "$recorded" ]; then',
    '  echo "FAIL $object has the SHA-256 $actual, the backup recorded $recorded: the object was changed or damaged; not restored, nothing was changed"',
    "  exit 1",
    "fi",
    'echo "SHA-256 $actual verified"',
  ];
}

export function renderRestoreScript(config: Pick<PipelineConfig, "environment">): string {
  return [
    ...scriptHeader(
      `Restores a backup into the database of ${config.environment} on its first host (the database is shared).`,
    ),
    ...requireEnv([...HOST_LOOP_VARIABLES, "ACTOR", "BACKUP_ID", "RESTORE_CONFIRM"]),
    ...requireMatch("BACKUP_ID", BACKUP_ID_PATTERN, "a backup id (YYYYMMDDhhmmss-<release-id>)"),
    ...requireActor(),
    ...confirmCases(),
    ...remoteFunction(),
    ...explainExitFunction(),
    ...readHosts(),
    'first="${hosts[0]}"',
    "dump=/dev/null",
    `if [ -n "\${${AWS_BACKUP_VARS.bucket}:-}" ]; then`,
    ...downloadFromS3().map((line) => `  ${line}`),
    "fi",
    'echo "==> $first: ${args[*]}"',
    "status=0",
    'remote "$first" "${args[@]}" < "$dump" || status=$?',
    'if [ "$status" -ne 0 ]; then',
    '  echo "FAIL $first: $(explain_exit "$status")"',
    '  exit "$status"',
    "fi",
    'echo "OK   $first: restored $BACKUP_ID"',
    "",
  ].join("\n");
}
