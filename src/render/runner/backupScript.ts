// The backup call, run verbatim by the migrate and deploy workflows and the tests: the agent dumps the database on
// the first host (the database is shared), keeps a local copy, and with AWS_BACKUP_BUCKET set the dump is streamed
// to s3://$AWS_BACKUP_BUCKET/$AWS_BACKUP_PREFIX<backup-id>.dump.
import type { PipelineConfig } from "../../config/types";
import { singleQuote } from "../../primitives/shellQuote";
import { RELEASE_ID_PATTERN, agentCall } from "../agentProtocol";
import { AWS_BACKUP_VARS } from "../githubNames";
import { HOST_LOOP_VARIABLES } from "./hostLoopEnvironment";
import {
  explainExitFunction,
  readHosts,
  remoteFunction,
  requireActor,
  requireEnv,
  scriptHeader,
} from "./hostLoop";

/** What the backup script reads besides the host-loop variables; without the bucket the dump stays on the host. */
export interface BackupInputs {
  ACTOR: string;
  AWS_BACKUP_BUCKET?: string;
  AWS_BACKUP_PREFIX?: string;
}

const RELEASE_ID_WORD = RELEASE_ID_PATTERN.slice(1, -1);

/** The backup id names the release current on the first host: read it from `releases` (the line marked '*'). */
function currentReleaseOfFirstHost(): string[] {
  return [
    `listing="$(remote "$first" ${agentCall("releases")} < /dev/null)"`,
    `current="$(grep -E '^\\* ' <<< "$listing" | grep -oE ${singleQuote(RELEASE_ID_WORD)} || true)"`,
    'if [ -z "$current" ]; then',
    '  echo "No release is live on $first yet: nothing to back up."',
    "  exit 0",
    "fi",
    'backup_id="$(date -u +%Y%m%d%H%M%S)-$current"',
    "",
  ];
}

/**
 * The dump goes to `aws s3 cp -` through a FIFO that this script holds open: the upload sees the end of its input
 * only after the agent succeeded. When the agent or ssh fails, the upload is killed before that end, so S3 never
 * completes an object from a failed or cut-off dump (an upload from stdin completes at EOF, whatever came before).
 */
function streamToS3(call: string): string[] {
  return [
    `object="s3://$${AWS_BACKUP_VARS.bucket}/\${${AWS_BACKUP_VARS.prefix}:-}$backup_id.dump"`,
    'fifo_dir="$(mktemp -d)"',
    "trap 'rm -rf \"$fifo_dir\"' EXIT",
    'mkfifo "$fifo_dir/dump"',
    'aws s3 cp --only-show-errors - "$object" < "$fifo_dir/dump" &',
    "upload=$!",
    'exec 3> "$fifo_dir/dump"',
    "status=0",
    `remote "$first" ${call} < /dev/null >&3 || status=$?`,
    'if [ "$status" -ne 0 ]; then',
    '  kill "$upload" 2> /dev/null || true',
    '  wait "$upload" 2> /dev/null || true',
    "  exec 3>&-",
    '  echo "FAIL $first: backup $backup_id: $(explain_exit "$status"); nothing was uploaded"',
    '  exit "$status"',
    "fi",
    "exec 3>&-",
    'if ! wait "$upload"; then',
    '  echo "FAIL upload of backup $backup_id to $object (the host keeps its local copy)"',
    "  exit 1",
    "fi",
    'echo "OK   $first: backup $backup_id, copied to $object"',
  ];
}

function keepOnHost(call: string): string[] {
  return [
    "status=0",
    `remote "$first" ${call} < /dev/null > /dev/null || status=$?`,
    'if [ "$status" -ne 0 ]; then',
    '  echo "FAIL $first: backup $backup_id: $(explain_exit "$status")"',
    '  exit "$status"',
    "fi",
    'echo "OK   $first: backup $backup_id (kept on the host only: no aws.backupBucket)"',
  ];
}

export function renderBackupScript(config: Pick<PipelineConfig, "environment">): string {
  const call = agentCall("backup", { argument: '"$backup_id"', actor: '"$ACTOR"' });
  return [
    ...scriptHeader(
      `Backs up the database of ${config.environment} on its first host (the database is shared); with ${AWS_BACKUP_VARS.bucket} set, also to S3.`,
    ),
    ...requireEnv([...HOST_LOOP_VARIABLES, "ACTOR"]),
    ...requireActor(),
    "",
    ...remoteFunction(),
    ...explainExitFunction(),
    ...readHosts(),
    'first="${hosts[0]}"',
    ...currentReleaseOfFirstHost(),
    `echo "==> $first: backup $backup_id"`,
    `if [ -n "\${${AWS_BACKUP_VARS.bucket}:-}" ]; then`,
    ...streamToS3(call).map((line) => `  ${line}`),
    "else",
    ...keepOnHost(call).map((line) => `  ${line}`),
    "fi",
    `echo "backup_id=$backup_id" >> "\${GITHUB_OUTPUT:-/dev/null}"`,
    "",
  ].join("\n");
}
