// The backup step of the migrate workflow and the restore workflow's script, their run: scripts taken verbatim
// from the rendered workflows, with the real AWS CLI (Debian's awscli) against a local S3-compatible server
// (s3rver). `ssh` is a stand-in that answers like the agent: the current release for `releases`, a dump (or a
// failure after part of one) for `backup`, and it records what `restore` receives. Debian's awscli 2.9 predates
// AWS_ENDPOINT_URL and S3's conditional writes, and s3rver ignores If-None-Match: an `aws` shim adds --endpoint-url,
// does what S3 does with `--if-none-match '*'` (PreconditionFailed when the key exists; the bucket policy allows
// no other write, see backupAccess.ts) and runs the real CLI.
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_EXIT } from "../../../src/render/agentProtocol";
import { renderRestoreScript } from "../../../src/render/runner/restoreScript";
import { renderRepositoryFiles } from "../../../src/render/workflows";
import { jobOf, stepNamed, variantConfig, workflowAt } from "../workflows/fixtures";

const BUCKET = "backups-test";
const PREFIX = "sandbox/";
const RELEASE = "20261122140501-1a2b3c4d5e6f";
const S3RVER_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_REGION: "us-east-1",
};

function backupStepScript(): string {
  const config = variantConfig();
  const workflow = workflowAt(
    renderRepositoryFiles(config),
    `.github/workflows/migrate-${config.environment}.yml`,
  );
  const run = stepNamed(jobOf(workflow, "migrate"), "Back up the database (before migrations)").run;
  if (run === undefined) throw new Error("the backup step has no run: script");
  return run;
}

describe("the backup step streams the dump to S3 (real AWS CLI, local S3 server)", () => {
  const dir = mkdtempSync(join(tmpdir(), "backup-stream-"));
  const bin = join(dir, "bin");
  let server: S3rver;
  let endpoint = "";

  beforeAll(async () => {
    server = new S3rver({
      address: "127.0.0.1",
      port: 0,
      silent: true,
      directory: join(dir, "s3"),
      configureBuckets: [{ name: BUCKET, configs: [] }],
    });
    const address = await server.run();
    endpoint = `http://127.0.0.1:${address.port}`;
    spawnSync("mkdir", ["-p", bin]);
    writeFileSync(
      join(bin, "aws"),
      [
        "#!/bin/bash",
        "args=() condition='' bucket='' key=''",
        'while [ "$#" -gt 0 ]; do',
        '  case "$1" in',
        "    --if-none-match) condition=$2; shift 2; continue ;;",
        "    --bucket) bucket=$2 ;;",
        "    --key) key=$2 ;;",
        "  esac",
        '  args+=("$1"); shift',
        "done",
        'real=(/usr/bin/aws --endpoint-url "$TEST_S3_ENDPOINT")',
        'if [ -n "$condition" ]; then',
        '  echo "$condition" >> "$TEST_DIR/conditions"',
        '  if "${real[@]}" s3api head-object --bucket "$bucket" --key "$key" > /dev/null 2>&1; then',
        '    echo "An error occurred (PreconditionFailed) when calling the PutObject operation: At least one of the pre-conditions you specified did not hold" >&2',
        "    exit 254",
        "  fi",
        "fi",
        'exec "${real[@]}" "${args[@]}"',
      ].join("\n"),
      { mode: 0o755 },
    );
    // The backup id's time, fixed when a test sets TEST_NOW.
    writeFileSync(
      join(bin, "date"),
      '#!/bin/bash\nif [ -n "${TEST_NOW:-}" ]; then echo "$TEST_NOW"; else exec /bin/date "$@"; fi\n',
      { mode: 0o755 },
    );
    // ssh ... <host> <verb> [args]: the verb is the first word after user@host.
    writeFileSync(
      join(bin, "ssh"),
      [
        "#!/bin/bash",
        'while [ "$#" -gt 0 ] && [[ $1 != *@* ]]; do shift; done',
        "shift",
        'case "$1" in',
        `  releases) printf '* %s\\n  20261121100000-0a1b2c3\\n' ${RELEASE} ;;`,
        '  backup) echo "$2" > "$TEST_DIR/backup-id"; cat "$TEST_DUMP"; exit "${TEST_BACKUP_EXIT:-0}" ;;',
        '  restore) echo "$*" > "$TEST_DIR/restore-call"; cat > "$TEST_DIR/restored" ;;',
        "  *) exit 64 ;;",
        "esac",
      ].join("\n"),
      { mode: 0o755 },
    );
  });

  /** A command with its output, without blocking the event loop. */
  async function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}) {
    try {
      const { stdout, stderr } = await promisify(execFile)(command, args, { ...options, encoding: "utf8" });
      return { status: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { status: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
    }
  }

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Async: the S3 server answers from this process's event loop, which a synchronous child would block. */
  async function runScript(
    script: string,
    env: Record<string, string>,
  ): Promise<{ status: number; stdout: string; stderr: string }> {
    const child = promisify(execFile)("bash", ["-eo", "pipefail", "-c", script], {
      encoding: "utf8",
      timeout: 120_000,
      maxBuffer: 1 << 20,
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        HOME: dir,
        RUNNER_TEMP: dir,
        DEPLOY_HOSTS: "10.0.0.1:22",
        DEPLOY_USER: "deploy",
        SSH_KEY_FILE: join(dir, "key"),
        KNOWN_HOSTS_FILE: join(dir, "known_hosts"),
        ACTOR: "octocat",
        AWS_BACKUP_BUCKET: BUCKET,
        AWS_BACKUP_PREFIX: PREFIX,
        ...S3RVER_CREDENTIALS,
        AWS_EC2_METADATA_DISABLED: "true",
        TEST_S3_ENDPOINT: endpoint,
        TEST_DIR: dir,
        ...env,
      },
    });
    try {
      const { stdout, stderr } = await child;
      return { status: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { status: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
    }
  }

  /** The backup step with `dump` as what the agent sends; with `now`, the backup id's time. */
  async function runStep(dump: Buffer, backupExit = 0, now = "") {
    const dumpFile = join(dir, "dump");
    writeFileSync(dumpFile, dump);
    rmSync(join(dir, "backup-id"), { force: true });
    return runScript(backupStepScript(), {
      TEST_DUMP: dumpFile,
      TEST_BACKUP_EXIT: String(backupExit),
      TEST_NOW: now,
    });
  }

  /** The restore workflow's script for `backupId`; what reached the host is in restored(). */
  async function runRestore(backupId: string) {
    rmSync(join(dir, "restored"), { force: true });
    rmSync(join(dir, "restore-call"), { force: true });
    return runScript(renderRestoreScript(variantConfig()), { BACKUP_ID: backupId, RESTORE_CONFIRM: "true" });
  }

  const restored = (): Buffer | undefined =>
    existsSync(join(dir, "restored")) ? readFileSync(join(dir, "restored")) : undefined;

  /** Writes an object directly, unconditionally (what the role's policy denies): a changed or damaged backup. */
  async function putObject(key: string, body: Buffer, metadata?: string): Promise<void> {
    const file = join(dir, "body");
    writeFileSync(file, body);
    const put = await run(
      "/usr/bin/aws",
      [
        ...["--endpoint-url", endpoint, "s3api", "put-object", "--bucket", BUCKET, "--key", key],
        ...["--body", file, ...(metadata === undefined ? [] : ["--metadata", metadata])],
      ],
      { env: { ...process.env, ...S3RVER_CREDENTIALS } },
    );
    expect(put.status, put.stderr).toBe(0);
  }

  async function listObjects(): Promise<string[]> {
    const listing = await run(
      "/usr/bin/aws",
      [
        "--endpoint-url",
        endpoint,
        "s3api",
        "list-objects-v2",
        "--bucket",
        BUCKET,
        "--query",
        "Contents[].Key",
        "--output",
        "text",
      ],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "S3RVER",
          AWS_SECRET_ACCESS_KEY: "S3RVER",
          AWS_REGION: "us-east-1",
        },
      },
    );
    expect(listing.status, listing.stderr).toBe(0);
    return listing.stdout.trim() === "None" ? [] : listing.stdout.trim().split(/\s+/).filter(Boolean);
  }

  async function getObject(key: string): Promise<Buffer> {
    const target = join(dir, "downloaded");
    const copy = await run(
      "/usr/bin/aws",
      ["--endpoint-url", endpoint, "s3", "cp", `s3://${BUCKET}/${key}`, target],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "S3RVER",
          AWS_SECRET_ACCESS_KEY: "S3RVER",
          AWS_REGION: "us-east-1",
        },
      },
    );
    expect(copy.status, copy.stderr).toBe(0);
    return readFileSync(target);
  }

  async function metadataOf(key: string): Promise<Record<string, string>> {
    const head = await run(
      "/usr/bin/aws",
      ["--endpoint-url", endpoint, "s3api", "head-object", "--bucket", BUCKET, "--key", key],
      { env: { ...process.env, ...S3RVER_CREDENTIALS } },
    );
    expect(head.status, head.stderr).toBe(0);
    return (JSON.parse(head.stdout) as { Metadata: Record<string, string> }).Metadata;
  }

  it("uploads the dump byte for byte to <prefix><backup-id>.dump, the id naming the current release", async () => {
    const dump = randomBytes(20 * 1024 * 1024 + 123); // in one write: the role may make no multipart upload
    const result = await runStep(dump);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const id = spawnSync("cat", [join(dir, "backup-id")], { encoding: "utf8" }).stdout.trim();
    expect(id).toMatch(new RegExp(`^[0-9]{14}-${RELEASE}$`));
    expect(await listObjects()).toContain(`${PREFIX}${id}.dump`);
    expect((await getObject(`${PREFIX}${id}.dump`)).equals(dump)).toBe(true);
  });

  it("fails the step and leaves no object when the dump fails, even after part of it was sent", async () => {
    const before = await listObjects();
    for (const size of [0, 1024, 9 * 1024 * 1024]) {
      const result = await runStep(randomBytes(size), AGENT_EXIT.backupFailed);
      expect(result.status, result.stdout + result.stderr).toBe(AGENT_EXIT.backupFailed);
      expect(result.stdout).toContain("nothing was uploaded");
      expect(await listObjects()).toEqual(before);
    }
  });

  it("writes each backup once, with --if-none-match '*' and its SHA-256 in the object's metadata", async () => {
    rmSync(join(dir, "conditions"), { force: true });
    const dump = randomBytes(4096);
    const first = await runStep(dump, 0, "20261201000000");
    expect(first.status, first.stdout + first.stderr).toBe(0);
    const key = `${PREFIX}20261201000000-${RELEASE}.dump`;
    const sha256 = createHash("sha256").update(dump).digest("hex");
    expect(first.stdout).toContain(`(SHA-256 ${sha256})`);
    expect(await metadataOf(key)).toEqual({ sha256 });

    const again = await runStep(randomBytes(4096), 0, "20261201000000");
    expect(again.status).toBe(1);
    expect(again.stdout).toContain("an existing backup is never replaced");
    expect(again.stderr).toContain("PreconditionFailed");
    expect((await getObject(key)).equals(dump)).toBe(true);
    expect(readFileSync(join(dir, "conditions"), "utf8")).toBe("*\n*\n");
  });

  it("restores a backup from S3: downloaded whole, its SHA-256 checked, the same bytes sent to the host", async () => {
    const dump = randomBytes(9 * 1024 * 1024);
    expect((await runStep(dump, 0, "20261202000000")).status).toBe(0);
    const result = await runRestore(`20261202000000-${RELEASE}`);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("SHA-256");
    expect(restored()?.equals(dump)).toBe(true);
    expect(readFileSync(join(dir, "restore-call"), "utf8")).toContain(`restore 20261202000000-${RELEASE}`);
  });

  it("refuses a changed object before the host is asked to restore anything", async () => {
    const dump = randomBytes(4096);
    expect((await runStep(dump, 0, "20261203000000")).status).toBe(0);
    const key = `${PREFIX}20261203000000-${RELEASE}.dump`;
    const recorded = createHash("sha256").update(dump).digest("hex");
    const tampered = Buffer.concat([dump.subarray(0, 4095), Buffer.from([(dump[4095] ?? 0) ^ 1])]);
    await putObject(key, tampered, `sha256=${recorded}`);
    const result = await runRestore(`20261203000000-${RELEASE}`);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(
      `has the SHA-256 ${createHash("sha256").update(tampered).digest("hex")}, the backup recorded ${recorded}`,
    );
    expect(restored()).toBeUndefined();
    expect(existsSync(join(dir, "restore-call"))).toBe(false);
  });

  it("refuses an object without a recorded SHA-256", async () => {
    await putObject(`${PREFIX}20261204000000-${RELEASE}.dump`, randomBytes(100));
    const result = await runRestore(`20261204000000-${RELEASE}`);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("has no recorded SHA-256");
    expect(existsSync(join(dir, "restore-call"))).toBe(false);
  });
});
