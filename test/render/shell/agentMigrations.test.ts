// The release agent's migration functions (agent/migrations.sh) in the harness of agentHarness.ts: whether a release
// has migrations to run (app.migrationsUpToDateCommand), the backup before them and its mark, and the warning of a
// rollback to a release that lacks migration files (app.migrationsDir). The dump command is a stand-in.
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../../src/config/types";
import { AGENT_EXIT } from "../../../src/render/agentProtocol";
import { AgentSandbox, shellQuote } from "./agentHarness";
import { production, staging } from "./fixtures";

const CURRENT = "20261122140501-1a2b3c4";
const NEW = "20261122150501-5d6e7f8";
const OLDER = "20261122130501-9a8b7c6";
/** Exits 0 ("up to date") unless the release directory it runs in has a file named pending. */
const UP_TO_DATE = "[ ! -e pending ]";

const sandboxes: AgentSandbox[] = [];
afterEach(() => {
  for (const sandbox of sandboxes.splice(0)) sandbox.dispose();
});

function sandbox(
  app: Partial<PipelineConfig["app"]> = {},
  config: PipelineConfig = production,
  backup: Partial<PipelineConfig["backup"]> = {},
): AgentSandbox {
  const box = new AgentSandbox({
    ...config,
    app: { ...config.app, ...app },
    backup: { ...config.backup, dumpCommand: 'printf "dump of %s" "$DATABASE_URL"', ...backup },
  });
  sandboxes.push(box);
  const setup = box.run(
    [
      `mkdir -p "$RELEASES_DIR/${CURRENT}" "$RELEASES_DIR/${OLDER}" "$WORK_DIR/${NEW}"`,
      `ln -s "$RELEASES_DIR/${CURRENT}" "$CURRENT_LINK"`,
      "printf 'DATABASE_URL=postgres://app@db/app\\n' > \"$ENV_FILE\"",
    ].join("\n"),
  );
  expect(setup.status, setup.stderr).toBe(0);
  return box;
}

/** Writes empty migration files into <dir>/migrations, as the agent's user (it may remove them). */
function migrations(box: AgentSandbox, dir: string, names: readonly string[]): void {
  const made = box.run(
    [
      `mkdir -p ${shellQuote(`${dir}/migrations`)}`,
      ...names.map((n) => `touch ${shellQuote(`${dir}/migrations/${n}`)}`),
    ].join("\n"),
  );
  expect(made.status, made.stderr).toBe(0);
}

const dumps = (box: AgentSandbox) =>
  existsSync(box.path("BACKUPS_DIR"))
    ? readdirSync(box.path("BACKUPS_DIR")).filter((name) => name.endsWith(".dump"))
    : [];
const marks = (box: AgentSandbox) =>
  existsSync(box.path("BACKUPS_DIR"))
    ? readdirSync(box.path("BACKUPS_DIR")).filter((name) => name.endsWith(".before-migrations"))
    : [];

const DEPLOY = `PREVIOUS=${CURRENT}; backup_before_migrations "$WORK_DIR/${NEW}" ${NEW}`;

describe("backup_before_migrations (a deploy)", () => {
  it("takes no backup when app.migrationsUpToDateCommand exits 0 in the new release, and says why", () => {
    const box = sandbox({ migrationsUpToDateCommand: UP_TO_DATE });
    const result = box.run(DEPLOY);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      "release-agent: no migrations to run (app.migrationsUpToDateCommand exited 0)\n" +
        "release-agent: backup before the migrations: none needed, the database is up to date\n",
    );
    expect(dumps(box)).toEqual([]);
  });

  it("backs up and marks the backup as the one before a schema change when the command does not exit 0", () => {
    const box = sandbox({ migrationsUpToDateCommand: UP_TO_DATE });
    writeFileSync(`${box.root}/work/${NEW}/pending`, "");
    const result = box.run(`${DEPLOY}; echo "$BACKUP_ID"`);
    expect(result.status, result.stderr).toBe(0);
    const id = result.stdout.trim();
    expect(result.stderr).toContain(
      "release-agent: migrations to run (app.migrationsUpToDateCommand exited 1)",
    );
    expect(dumps(box)).toEqual([`${id}.dump`]);
    expect(readFileSync(box.path("BACKUPS_DIR", `${id}.before-migrations`), "utf8")).toBe(
      `the migrations of ${NEW}\n`,
    );
  });

  it("marks the backup it took, not a newer-named one already there", () => {
    const box = sandbox({ migrationsUpToDateCommand: "exit 1" });
    box.run('mkdir -p "$BACKUPS_DIR"');
    writeFileSync(box.path("BACKUPS_DIR", `20991231000000-${CURRENT}.dump`), "taken by hand");
    const result = box.run(`${DEPLOY}; echo "$BACKUP_ID"`);
    expect(result.status, result.stderr).toBe(0);
    expect(marks(box)).toEqual([`${result.stdout.trim()}.before-migrations`]);
  });

  it("runs the command in the new release with the app's environment, and not at all with backup.beforeMigrations off", () => {
    const command = 'echo "$PWD $DATABASE_URL" > "$HOME/seen"';
    const off = sandbox({ migrationsUpToDateCommand: command }, staging);
    expect(off.run(DEPLOY).status).toBe(0);
    expect(existsSync(`${off.settings.APP_HOME}/seen`)).toBe(false);
    expect(dumps(off)).toEqual([]);
    const box = sandbox({ migrationsUpToDateCommand: command });
    expect(box.run(DEPLOY).status).toBe(0);
    expect(readFileSync(`${box.settings.APP_HOME}/seen`, "utf8")).toMatch(
      new RegExp(`/work/${NEW} postgres://app@db/app\\n$`),
    );
  });

  it("without the command backs up as before, and marks the backup only when the release adds migration files", () => {
    const box = sandbox();
    migrations(box, box.path("RELEASES_DIR", CURRENT), ["001_users.js"]);
    migrations(box, `${box.root}/work/${NEW}`, ["001_users.js"]);
    expect(box.run(DEPLOY).status).toBe(0);
    expect(dumps(box)).toHaveLength(1);
    expect(marks(box)).toEqual([]);

    migrations(box, `${box.root}/work/${NEW}`, ["002_orders.js"]);
    const second = box.run(`new_backup_id() { echo "20991231000000-$1"; }; ${DEPLOY}; echo "$BACKUP_ID"`);
    expect(second.status, second.stderr).toBe(0);
    expect(dumps(box)).toHaveLength(2);
    expect(marks(box)).toEqual([`${second.stdout.trim()}.before-migrations`]);
  });

  it("with --backup-taken takes none of its own but marks the caller's (the newest) when migrations run", () => {
    const box = sandbox({ migrationsUpToDateCommand: "exit 3" });
    const callers = `20261122145000-${CURRENT}`;
    box.run('mkdir -p "$BACKUPS_DIR"');
    writeFileSync(box.path("BACKUPS_DIR", `20261122100000-${CURRENT}.dump`), "older");
    writeFileSync(box.path("BACKUPS_DIR", `${callers}.dump`), "caller's");
    const result = box.run(`SWITCHES=" --backup-taken "; ${DEPLOY}`);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain("backup before the migrations: taken by the caller");
    expect(dumps(box)).toHaveLength(2);
    expect(marks(box)).toEqual([`${callers}.before-migrations`]);
  });
});

describe("backup_before_migration_verb (migrate, migrate-rollback)", () => {
  it("backs up before a down migration and marks it, even when the database is up to date", () => {
    const box = sandbox({ migrationsUpToDateCommand: "true" });
    const result = box.run(`backup_before_migration_verb down ${CURRENT}; echo "$BACKUP_ID"`);
    expect(result.status, result.stderr).toBe(0);
    const id = result.stdout.trim();
    expect(dumps(box)).toEqual([`${id}.dump`]);
    expect(readFileSync(box.path("BACKUPS_DIR", `${id}.before-migrations`), "utf8")).toBe(
      `a down migration in ${CURRENT}\n`,
    );
  });

  it("backs up before migrate only when app.migrationsUpToDateCommand does not exit 0", () => {
    const box = sandbox({ migrationsUpToDateCommand: UP_TO_DATE });
    expect(box.run(`backup_before_migration_verb up ${CURRENT}`).status).toBe(0);
    expect(dumps(box)).toEqual([]);
    writeFileSync(box.path("RELEASES_DIR", CURRENT, "pending"), "");
    expect(box.run(`backup_before_migration_verb up ${CURRENT}`).status).toBe(0);
    expect(dumps(box)).toHaveLength(1);
    expect(marks(box)).toHaveLength(1);
  });

  it("takes none for status, none with --backup-taken, none with backup.beforeMigrations off", () => {
    const box = sandbox();
    expect(box.run(`backup_before_migration_verb status ${CURRENT}`).status).toBe(0);
    expect(box.run(`SWITCHES=" --backup-taken "; backup_before_migration_verb down ${CURRENT}`).status).toBe(
      0,
    );
    expect(dumps(box)).toEqual([]);
    const off = sandbox({}, staging);
    expect(off.run(`backup_before_migration_verb down ${CURRENT}`).status).toBe(0);
    expect(dumps(off)).toEqual([]);
  });

  it("migrate-rollback stops with backupFailed before the down migration when the dump fails", () => {
    const box = sandbox({ migrateRollbackCommand: 'touch "$HOME/migrated-down"' }, production, {
      dumpCommand: "exit 1",
    });
    const result = box.run('run_migration_verb "$MIGRATE_ROLLBACK_COMMAND" down');
    expect(result.status).toBe(AGENT_EXIT.backupFailed);
    expect(existsSync(`${box.settings.APP_HOME}/migrated-down`)).toBe(false);
  });
});

describe("warn_schema_ahead (rollback)", () => {
  it("names the migrations the target lacks and the order that works, before the switch, and still switches", () => {
    const box = sandbox();
    migrations(box, box.path("RELEASES_DIR", CURRENT), ["001_users.js", "002_orders.js", "003_refunds.js"]);
    migrations(box, box.path("RELEASES_DIR", OLDER), ["001_users.js"]);
    const result = box.run(
      `take_lock() { :; }; roll_back_beside() { echo "release-agent: switching to $1" >&2; }; RELEASE=${OLDER}; verb_rollback`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.replace(/ in \d+\.\d\ds\n$/, "\n")).toBe(
      [
        `release-agent: warning: ${OLDER} lacks migrations of ${CURRENT} (migrations/): 002_orders.js 003_refunds.js`,
        `release-agent: warning: unless they were reverted, the database keeps what they applied: its schema is ahead of ${OLDER}'s code, and migrate-rollback in ${OLDER} cannot revert them (their files are not in it)`,
        `release-agent: warning: the order that works: revert them first with ${CURRENT} current (the migrate workflow's rollback action, or: npm run sandbox -- migrate down; once per batch), then roll back; or keep the schema ahead when ${OLDER}'s code works with it`,
        `release-agent: switching to ${OLDER}`,
        `release-agent: rolled back to ${OLDER} (was ${CURRENT})`,
        "",
      ].join("\n"),
    );
  });

  it("says nothing when the target has every migration file, or app.migrationsDir is empty", () => {
    const box = sandbox();
    migrations(box, box.path("RELEASES_DIR", CURRENT), ["001_users.js"]);
    migrations(box, box.path("RELEASES_DIR", OLDER), ["001_users.js", "000_setup.js"]);
    expect(box.run(`warn_schema_ahead ${CURRENT} ${OLDER}`).stderr).toBe("");
    const off = sandbox({ migrationsDir: "" });
    migrations(off, off.path("RELEASES_DIR", CURRENT), ["001_users.js"]);
    expect(off.run(`warn_schema_ahead ${CURRENT} ${OLDER}`).stderr).toBe("");
  });
});

describe("warn_schema_left_ahead (a deploy that switches back by itself)", () => {
  it("names the migrations the failed release left applied and the backup before them, before switching back (none added: nothing)", () => {
    const box = sandbox();
    const backup = `20261122150000-${CURRENT}`;
    migrations(box, box.path("RELEASES_DIR", CURRENT), ["001_users.js"]);
    migrations(box, box.path("RELEASES_DIR", NEW), ["001_users.js", "002_orders.js"]);
    const result = box.run(
      [
        'undo_side_by_side() { echo "release-agent: switching back to $SWITCHED_FROM" >&2; }',
        `NEW_RELEASE=${NEW}; SWITCHED_FROM=${CURRENT}; BACKUP_ID=${backup}`,
        "undo_unfinished_deploy",
      ].join("\n"),
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe(
      [
        `release-agent: warning: the migrations ${NEW} added stay applied after the switch back (migrations/): 002_orders.js; ${CURRENT} runs with a schema ahead of its code`,
        `release-agent: warning: ${NEW} is removed with their files, so migrate-rollback cannot revert them: deploy a fixed release (they are applied already), or restore the backup taken before them (restore ${backup})`,
        `release-agent: switching back to ${CURRENT}`,
        "",
      ].join("\n"),
    );
    expect(existsSync(box.path("RELEASES_DIR", NEW))).toBe(false);

    migrations(box, box.path("RELEASES_DIR", NEW), ["001_users.js"]);
    const quiet = box.run(
      `restore_release() { :; }; NEW_RELEASE=${NEW}; SWITCHED_FROM=${CURRENT}; undo_unfinished_deploy`,
    );
    expect(quiet.stderr).toBe("");
  });

  it("names them too when the release failed its gate beside the serving one and never served (side by side)", () => {
    const box = sandbox();
    migrations(box, box.path("RELEASES_DIR", CURRENT), ["001_users.js"]);
    migrations(box, box.path("RELEASES_DIR", NEW), ["001_users.js", "002_orders.js"]);
    const result = box.run(
      `NEW_RELEASE=${NEW}; PREVIOUS=${CURRENT}; SLOT_STARTED=3001; undo_unfinished_deploy`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `release-agent: warning: the migrations ${NEW} added stay applied though ${NEW} never served (migrations/): 002_orders.js; ${CURRENT} runs with a schema ahead of its code`,
    );
  });
});
