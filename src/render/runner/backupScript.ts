// The backup call, run verbatim by the migrate and deploy workflows and the tests: the agent dumps the database on
// the first host (the database is shared), keeps a local copy, and with AWS_BACKUP_BUCKET set the dump is copied,
// once and for good, to s3://$AWS_BACKUP_BUCKET/$AWS_BACKUP_PREFIX<backup-id>.dump.
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

/** S3's limit for one PutObject request, the only kind of write the bucket policy allows (backupAccess.ts). */
export const MAX_BACKUP_UPLOAD_BYTES = 5 * 1024 ** 3;

/**
 * The dump goes to a private file on the runner first; only when the agent succeeded is it uploaded, in one
 * conditional write (`--if-none-match '*'`: S3 refuses a key that exists, and the bucket allows no other write)
 * with its SHA-256 in the object's metadata, which a restore checks before it sends the dump to the host. A failed
 * or cut-off dump never reaches S3.
 */
function uploadToS3(call: string): string[] {
  const bucket = `$${AWS_BACKUP_VARS.bucket}`;
  return [
    `key="\${${AWS_BACKUP_VARS.prefix}:-}$backup_id.dump"`,
    `object="s3://${bucket}/$key"`,
    "umask 077",
    'dump="$(mktemp "${RUNNER_TEMP:-/tmp}/backup.XXXXXX")"',
    "trap 'rm -f \"$dump\"' EXIT",
    "status=0",
    `remote "$first" ${call} < /dev/null > "$dump" || status=$?`,
    'if [ "$status" -ne 0 ]; then',
    '  echo "FAIL $first: backup $backup_id: $(explain_exit "$status"); nothing was uploaded"',
    '  exit "$status"',
    "fi",
    `if [ "$(stat -c %s "$dump")" -gt ${MAX_BACKUP_UPLOAD_BYTES} ]; then`,
    '  echo "FAIL upload of backup $backup_id: the dump is larger than 5 GiB, the most S3 takes in one write (the host keeps its local copy)"',
    "  exit 1",
    "fi",
    'sha256="$(sha256sum "$dump" | cut -d " " -f 1)"',
    `if ! aws s3api put-object --bucket "${bucket}" --key "$key" --body "$dump" --if-none-match '*' --metadata "sha256=$sha256" > /dev/null; then`,
    '  echo "FAIL upload of backup $backup_id to $object: refused or failed (an existing backup is never replaced; the host keeps its local copy)"',
    "  exit 1",
    "fi",
    'echo "OK   $first: backup $backup_id, copied to $object (SHA-256 $sha256)"',
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
    ...uploadToS3(call).map((line) => `  ${line}`),
    "else",
    ...keepOnHost(call).map((line) => `  ${line}`),
    "fi",
    `echo "backup_id=$backup_id" >> "\${GITHUB_OUTPUT:-/dev/null}"`,
    "",
  ].join("\n");
}
