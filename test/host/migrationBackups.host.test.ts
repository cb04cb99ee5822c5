// The whole cycle of backups around schema changes on a real host, through the deploy key: an app whose releases
// carry a migrations/ directory and say whether they have migrations to run (app.migrationsUpToDateCommand), a
// database that is a file of applied migration names (so the cycle needs no database server; backup.host.test.ts
// runs the real pg_dump). Deploys without migrations take no backup, the one before a schema change is marked and
// outlives backup.keep, a rollback behind a migration warns and still switches, the order it names works, and a
// deploy that switches back by itself after migrating names the migrations it left applied and the backup before them.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_EXIT } from "../../src/render/agentProtocol";
import { hostLayout } from "../../src/render/hostLayout";
import { EXAMPLE_APP, callAgent } from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import {
  APP_ENV,
  HostPool,
  type Release,
  type Stack,
  asRoot,
  currentRelease,
  deploy,
  deployOk,
  makeRelease,
  provisionedStack,
} from "./support";

const pool = new HostPool("host-tests-migration-backups");
const DATABASE_FILE = "/home/deploy/apps/example-app/shared/database";

/** Applies each migration file of the release whose name the database does not hold yet, in order. */
const MIGRATE = `touch "$DATABASE_FILE"; for f in migrations/*; do [ -f "$f" ] || continue; grep -qxF "\${f##*/}" "$DATABASE_FILE" || echo "\${f##*/}" >> "$DATABASE_FILE"; done`;
/** Reverts the last applied migration, which needs its file in this release (as knex and node-pg-migrate do). */
const MIGRATE_DOWN = `last="$(tail -n 1 "$DATABASE_FILE")"; [ -f "migrations/$last" ] || { echo "migration file $last is missing" >&2; exit 1; }; sed -i '$d' "$DATABASE_FILE"`;
/** Exits 0 only when every migration file of the release is applied. */
const UP_TO_DATE = `for f in migrations/*; do [ -f "$f" ] || continue; grep -qxF "\${f##*/}" "$DATABASE_FILE" 2>/dev/null || exit 1; done`;

/** A release of the example app whose artifact also holds migrations/<name> for each name. */
function releaseWithMigrations(stack: Stack, names: readonly string[], healthy = true): Release {
  const release = makeRelease(stack.config, healthy);
  const work = mkdtempSync(join(tmpdir(), "migrations-artifact-"));
  try {
    execFileSync("tar", ["-xzf", release.artifact, "-C", work]);
    mkdirSync(join(work, "migrations"));
    for (const name of names) writeFileSync(join(work, "migrations", name), `-- ${name}\n`);
    execFileSync("tar", ["-czf", release.artifact, "-C", work, "."]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return release;
}

describe("backups around schema changes, and rollbacks behind them (real host)", () => {
  let stack: Stack;
  let host: HostHandle;
  const releases: Record<string, Release> = {};

  const agent = (command: string) => callAgent(host, stack.config.deployUser, stack.files, command);
  const database = async () => (await asRoot(host, `cat ${DATABASE_FILE}`)).split("\n").filter(Boolean);
  const backups = async () => {
    const listed = await agent("backups");
    expect(listed.code, listed.stderr).toBe(0);
    return listed.stdout.split("\n").filter(Boolean);
  };

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    stack = await provisionedStack(
      [host],
      {
        app: {
          ...EXAMPLE_APP,
          services: [],
          migrateCommand: MIGRATE,
          migrateRollbackCommand: MIGRATE_DOWN,
          migrationsUpToDateCommand: UP_TO_DATE,
        },
        backup: {
          beforeMigrations: true,
          keep: 2,
          dumpCommand: 'cat "$DATABASE_FILE"',
          restoreCommand: 'cat > "$DATABASE_FILE"',
        },
      },
      `${APP_ENV}DATABASE_FILE=${DATABASE_FILE}\n`,
    );
    expect(DATABASE_FILE.startsWith(`${hostLayout(stack.config).appRoot}/shared/`)).toBe(true);
    releases.first = releaseWithMigrations(stack, ["001_users.sql"]);
    await deployOk(stack, releases.first);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("takes no backup for a deploy whose release has no migrations to run (the command exits 0)", async () => {
    releases.same = releaseWithMigrations(stack, ["001_users.sql"]);
    const result = await deployOk(stack, releases.same);
    expect(result.stdout + result.stderr).toContain(
      "no migrations to run (app.migrationsUpToDateCommand exited 0)",
    );
    expect(await backups()).toEqual([]);
    expect(await database()).toEqual(["001_users.sql"]);
  });

  it("backs up before a schema change and marks that backup", async () => {
    releases.orders = releaseWithMigrations(stack, ["001_users.sql", "002_orders.sql"]);
    await deployOk(stack, releases.orders);
    expect(await database()).toEqual(["001_users.sql", "002_orders.sql"]);
    const listed = await backups();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatch(new RegExp(`^\\d{14}-${releases.same?.id} \\d+ before-migrations$`));
  });

  it("keeps that backup while later backups without a schema change exceed backup.keep", async () => {
    const marked = (await backups())[0]?.split(" ")[0];
    const current = await currentRelease(host, stack.config);
    for (const stamp of ["20990101000001", "20990101000002", "20990101000003"]) {
      const taken = await agent(`backup ${stamp}-${current}`);
      expect(taken.code, taken.stderr).toBe(0);
    }
    expect((await backups()).map((line) => line.split(" ")[0])).toEqual([
      `20990101000003-${current}`,
      `20990101000002-${current}`,
      marked,
    ]);
  });

  it("warns before a rollback behind a migration, names it and the order that works, and still switches", async () => {
    const result = await agent(`rollback ${releases.same?.id}`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `release-agent: warning: ${releases.same?.id} lacks migrations of ${releases.orders?.id} (migrations/): 002_orders.sql`,
    );
    expect(result.stderr).toContain(
      `release-agent: warning: the order that works: revert them first with ${releases.orders?.id} current`,
    );
    expect(await currentRelease(host, stack.config)).toBe(releases.same?.id);
  });

  it("cannot revert the migration from the older release, and backs up (marked) before trying", async () => {
    const before = await backups();
    const result = await agent("migrate-rollback");
    expect(result.code).toBe(AGENT_EXIT.migrationFailed);
    expect(result.stderr).toContain("migration file 002_orders.sql is missing");
    expect(await database()).toEqual(["001_users.sql", "002_orders.sql"]);
    const added = (await backups()).filter((line) => !before.includes(line));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(new RegExp(`^\\d{14}-${releases.same?.id} \\d+ before-migrations$`));
  });

  it("the order it names works: back to the newer release, migrate down there, then roll back", async () => {
    expect((await agent(`rollback ${releases.orders?.id}`)).code).toBe(0);
    const down = await agent("migrate-rollback");
    expect(down.code, down.stderr).toBe(0);
    expect(await database()).toEqual(["001_users.sql"]);
    expect((await agent(`rollback ${releases.same?.id}`)).code).toBe(0);
    expect(await currentRelease(host, stack.config)).toBe(releases.same?.id);
  });

  it("a deploy that migrates and then fails its health gate names what it left applied", async () => {
    const broken = releaseWithMigrations(stack, ["001_users.sql", "003_refunds.sql"], false);
    const result = await deploy(stack, broken);
    expect(result.code).toBe(AGENT_EXIT.unhealthy);
    expect(await currentRelease(host, stack.config)).toBe(releases.same?.id);
    expect(await database()).toEqual(["001_users.sql", "003_refunds.sql"]);
    const output = result.stdout + result.stderr;
    expect(output).toContain(
      `release-agent: warning: the migrations ${broken.id} added stay applied though ${broken.id} never served (migrations/): 003_refunds.sql; ${releases.same?.id} runs with a schema ahead of its code`,
    );
    const [backup] = (await backups())
      .map((line) => line.split(" ")[0] ?? "")
      .filter((id) => id.endsWith(`-${releases.same?.id}`))
      .sort()
      .reverse();
    expect(output).toContain(`or restore the backup taken before them (restore ${backup})`);
  });
});
