// Database backups against a real PostgreSQL (Debian's package) on the host: provisioning installs the client
// (pg_dump) on a stock host, a deploy whose release has migrations dumps the database first (0600, the deploy
// user's) without the password on any command line, a dump that fails stops the deploy before anything changes,
// and a restore replaces the database only in maintenance mode or when confirmed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quote } from "../../src/primitives/shellQuote";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { hostLayout } from "../../src/render/hostLayout";
import { EXAMPLE_APP, callAgent } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  APP_ENV,
  HostPool,
  type Stack,
  agentReleases,
  asRoot,
  eventually,
  auditEntries,
  currentRelease,
  deploy,
  deployOk,
  makeRelease,
  provisionedStack,
  servedBuilds,
} from "./support";

const pool = new HostPool("host-tests-backup");
const ROLE = "orders";
const PASSWORD = "orders-secret";
const DATABASE_URL = `postgres://${ROLE}:${PASSWORD}@127.0.0.1/${ROLE}`;

/** The app's migration: creates the table it needs, through the app's own DATABASE_URL. */
const MIGRATE_COMMAND = `psql -X -v ON_ERROR_STOP=1 "$DATABASE_URL" -c 'CREATE TABLE IF NOT EXISTS notes (body text NOT NULL)'`;

/** Installs Debian's PostgreSQL server, starts its cluster without systemd and creates the app's role and database. */
async function installPostgres(host: HostHandle): Promise<void> {
  await asRoot(
    host,
    "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q --no-install-recommends postgresql",
  );
  const version = (await asRoot(host, "ls /etc/postgresql")).trim();
  expect(version).toMatch(/^\d+$/);
  await asRoot(host, `pg_ctlcluster ${version} main status || pg_ctlcluster ${version} main start`);
  const asPostgres = (sql: string) =>
    asRoot(host, `cd / && runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -c ${quote(sql)}`);
  await asPostgres(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
  await asPostgres(`CREATE DATABASE ${ROLE} OWNER ${ROLE}`);
}

describe("database backups and restore (PostgreSQL on the host)", () => {
  let stack: Stack;
  let host: HostHandle;
  let backupId: string;
  let clientAfterProvisioning: string;

  const agent = (command: string) => callAgent(host, stack.config.deployUser, stack.files, command);
  const sql = (statement: string) =>
    asRoot(host, `psql -X -tA -v ON_ERROR_STOP=1 ${quote(DATABASE_URL)} -c ${quote(statement)}`);
  const notes = async () => (await sql("SELECT body FROM notes ORDER BY body")).split("\n").filter(Boolean);
  const backups = async () => {
    const listed = await agent("backups");
    expect(listed.code, listed.stderr).toBe(0);
    return listed.stdout.split("\n").filter(Boolean);
  };
  const backupsDir = () => hostLayout(stack.config).backups;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    stack = await provisionedStack(
      [host],
      {
        app: { ...EXAMPLE_APP, services: [], migrateCommand: MIGRATE_COMMAND },
        backup: { beforeMigrations: true, keep: 3 },
        deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 30 },
      },
      `${APP_ENV}DATABASE_URL=${DATABASE_URL}\n`,
    );
    clientAfterProvisioning = await asRoot(host, "command -v pg_dump pg_restore || true");
    await installPostgres(host);
    await deployOk(stack, makeRelease(stack.config));
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("has pg_dump and pg_restore from provisioning alone, before the database server is installed", () => {
    expect(clientAfterProvisioning).toBe("/usr/bin/pg_dump\n/usr/bin/pg_restore\n");
  });

  it("takes no backup before the first deploy (no release was live), whose migration created the table", async () => {
    expect(await backups()).toEqual([]);
    expect(await notes()).toEqual([]);
  });

  it("dumps the database before a deploy's migrations, into a 0600 file of the deploy user's that holds the rows", async () => {
    await sql("INSERT INTO notes VALUES ('written before the deploy')");
    const previous = await currentRelease(host, stack.config);
    const release = makeRelease(stack.config);
    await deployOk(stack, release);
    expect(await currentRelease(host, stack.config)).toBe(release.id);

    const listed = await backups();
    expect(listed).toHaveLength(1);
    const [id = "", size = ""] = (listed[0] ?? "").split(" ");
    expect(id).toMatch(new RegExp(`^\\d{14}-${previous}$`));
    backupId = id;
    const file = `${backupsDir()}/${backupId}.dump`;
    expect(await asRoot(host, `stat -c '%U %a %s' ${file}`)).toBe(`deploy 600 ${size}\n`);
    expect(await asRoot(host, `stat -c '%U %a' ${backupsDir()}`)).toBe("deploy 700\n");
    expect(await asRoot(host, `pg_restore --list ${file}`)).toMatch(/TABLE public notes /);
    expect(await asRoot(host, `pg_restore --data-only --file - ${file}`)).toContain(
      "written before the deploy",
    );
  });

  it("keeps the database password out of every process's command line while a dump runs", async () => {
    const asPostgres = (statement: string) =>
      asRoot(host, `cd / && runuser -u postgres -- psql -X -tA -d ${ROLE} -c ${quote(statement)}`);
    const locksOnNotes = (granted: boolean) =>
      `SELECT count(*) FROM pg_locks WHERE relation = 'notes'::regclass AND ${granted ? "" : "NOT "}granted`;
    // A session holding an exclusive lock on the table makes pg_dump wait, visibly, until the session ends.
    const holder = "test-holds-notes";
    await asRoot(
      host,
      `cd /; setsid runuser -u postgres -- env PGAPPNAME=${holder} psql -X -d ${ROLE} -c ${quote("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600)")} > /dev/null 2>&1 < /dev/null &`,
    );
    const releaseLock = () =>
      asPostgres(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${holder}'`,
      );
    let processList: string;
    let commandLines: string;
    let backup: ReturnType<typeof agent>;
    try {
      await eventually(
        "the lock on notes is held",
        async () => (await asPostgres(locksOnNotes(true))).trim() !== "0",
      );
      backup = agent("backup --actor octocat");
      await eventually(
        "pg_dump waits for the lock",
        async () => (await asPostgres(locksOnNotes(false))).trim() !== "0",
        300,
      );
      const asNobody = (command: string) =>
        asRoot(host, `cd / && runuser -u nobody -- bash -c ${quote(command)}`);
      processList = await asNobody("ps -eo args");
      commandLines = await asNobody(
        "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; done 2> /dev/null || true",
      );
    } finally {
      await releaseLock();
    }
    const result = await backup;
    // The later tests expect only the first backup on the host.
    const taken = (await backups()).map((line) => line.split(" ")[0]).filter((id) => id !== backupId);
    for (const id of taken) await asRoot(host, `rm ${backupsDir()}/${id}.dump`);
    expect(result.code, result.stderr).toBe(0);
    expect(taken).toHaveLength(1);
    // Debian's pg_dump wrapper execs /usr/lib/postgresql/<major>/bin/pg_dump with the same arguments.
    expect(processList).toMatch(/^\S*pg_dump --format=custom$/m);
    expect(commandLines).toMatch(/^\S*pg_dump --format=custom $/m);
    expect(processList).not.toContain(PASSWORD);
    expect(commandLines).not.toContain(PASSWORD);
  });

  it("stops a deploy whose backup fails (bad database credentials) before anything changes: the previous release keeps serving", async () => {
    const before = await agentReleases(stack, host);
    const listedBefore = await backups();
    await asRoot(
      host,
      `cd / && runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -c ${quote(`ALTER ROLE ${ROLE} PASSWORD 'changed'`)}`,
    );
    try {
      const failed = await deploy(stack, makeRelease(stack.config));
      expect(failed.code, failed.stdout + failed.stderr).toBe(AGENT_EXIT.backupFailed);
      expect(failed.stdout + failed.stderr).toContain("backup.dumpCommand");
    } finally {
      await asRoot(
        host,
        `cd / && runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -c ${quote(`ALTER ROLE ${ROLE} PASSWORD '${PASSWORD}'`)}`,
      );
    }
    expect(await agentReleases(stack, host)).toEqual(before);
    expect(await servedBuilds(host, stack.config)).toEqual([before.current]);
    expect(await backups()).toEqual(listedBefore);
    expect(await asRoot(host, `ls -A ${backupsDir()}`)).toBe(`${backupId}.dump\n`);
  });

  it("refuses a restore without maintenance mode or --confirm, and changes nothing", async () => {
    await sql("DELETE FROM notes");
    const refused = await agent(`restore ${backupId} --actor octocat`);
    expect(refused.code, refused.stderr).toBe(AGENT_EXIT.restoreRefused);
    expect(refused.stderr).toContain("maintenance on");
    expect(await notes()).toEqual([]);
    expect((await auditEntries(host, stack.config)).at(-1)).toMatchObject({
      actor: "octocat",
      verb: "restore",
      release: backupId,
      result: "restoreRefused",
    });
  });

  it("restores the backup in maintenance mode: the deleted row is back", async () => {
    expect((await agent("maintenance on --actor octocat")).code).toBe(0);
    try {
      const restored = await agent(`restore ${backupId} --actor octocat`);
      expect(restored.code, restored.stderr).toBe(0);
    } finally {
      expect((await agent("maintenance off --actor octocat")).code).toBe(0);
    }
    expect(await notes()).toEqual(["written before the deploy"]);
    const audited = (await auditEntries(host, stack.config)).slice(-3);
    expect(audited.map(({ verb, release, result }) => `${verb} ${release} ${result}`)).toEqual([
      "maintenance - ok",
      `restore ${backupId} ok`,
      "maintenance - ok",
    ]);
  });
});
