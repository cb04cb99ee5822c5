// The backup step of the migrate workflow, its run: script taken verbatim from the rendered workflow, with the real
// AWS CLI (Debian's awscli) against a local S3-compatible server (s3rver). `ssh` is a stand-in that answers like the
// agent: the current release for `releases`, a dump (or a failure after part of one) for `backup`. Debian's
// awscli 2.9 predates AWS_ENDPOINT_URL, so an `aws` shim adds --endpoint-url and runs the real CLI.
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_EXIT } from "../../../src/render/agentProtocol";
import { renderRepositoryFiles } from "../../../src/render/workflows";
import { jobOf, stepNamed, variantConfig, workflowAt } from "../workflows/fixtures";

const BUCKET = "backups-test";
const PREFIX = "sandbox/";
const RELEASE = "20261122140501-1a2b3c4d5e6f";

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
      `#!/bin/bash\nexec /usr/bin/aws --endpoint-url "$TEST_S3_ENDPOINT" "$@"\n`,
      {
        mode: 0o755,
      },
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
  async function runStep(
    dump: Buffer,
    backupExit = 0,
  ): Promise<{ status: number; stdout: string; stderr: string }> {
    const dumpFile = join(dir, "dump");
    writeFileSync(dumpFile, dump);
    rmSync(join(dir, "backup-id"), { force: true });
    const child = promisify(execFile)("bash", ["-eo", "pipefail", "-c", backupStepScript()], {
      encoding: "utf8",
      timeout: 120_000,
      maxBuffer: 1 << 20,
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        HOME: dir,
        DEPLOY_HOSTS: "10.0.0.1:22",
        DEPLOY_USER: "deploy",
        SSH_KEY_FILE: join(dir, "key"),
        KNOWN_HOSTS_FILE: join(dir, "known_hosts"),
        ACTOR: "octocat",
        AWS_BACKUP_BUCKET: BUCKET,
        AWS_BACKUP_PREFIX: PREFIX,
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_REGION: "us-east-1",
        AWS_EC2_METADATA_DISABLED: "true",
        TEST_S3_ENDPOINT: endpoint,
        TEST_DIR: dir,
        TEST_DUMP: dumpFile,
        TEST_BACKUP_EXIT: String(backupExit),
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

  it("uploads the dump byte for byte to <prefix><backup-id>.dump, the id naming the current release", async () => {
    const dump = randomBytes(20 * 1024 * 1024 + 123); // above the CLI's 8 MiB multipart threshold
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
});
