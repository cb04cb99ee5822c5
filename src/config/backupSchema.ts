// The optional `backup` group: how the release agent dumps and restores the app's database, how many dumps each
// host keeps, and whether deploys and the migrate workflow take one before migrating.
import { z } from "zod";
import { boolean, integer, isProductionLike, text } from "./rules";

// No connection string on the command line (/proc/<pid>/cmdline is world-readable): the agent gives libpq the
// app's DATABASE_URL as PG* variables.
export const DEFAULT_DUMP_COMMAND = "pg_dump --format=custom";
export const DEFAULT_RESTORE_COMMAND =
  'pg_restore --clean --if-exists --no-owner --single-transaction --dbname "$PGDATABASE"';

function command(fix: string) {
  return text(fix)
    .min(1, { error: `is empty (${fix})` })
    .max(4096, { error: `is longer than 4096 characters (${fix})` })
    .refine((c) => !c.includes("\n"), { error: `spans several lines (${fix})` });
}

export const backupSchema = z
  .strictObject({
    dumpCommand: command(
      "use one bash command line that writes the dump to stdout, such as pg_dump --format=custom",
    )
      .default(DEFAULT_DUMP_COMMAND)
      .describe(
        "Bash command that writes a dump of the app's database to stdout. It runs as the deploy user in the current release's directory with the app's environment (shared/.env: DATABASE_URL and the rest), like a migration, plus libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, ...) taken from a postgres:// DATABASE_URL: a command that names neither the URL nor the password keeps them out of the host's process list. Provisioning installs Debian's postgresql-client when this or restoreCommand runs pg_dump, pg_restore or psql.",
      ),
    restoreCommand: command(
      'use one bash command line that reads a dump from stdin, such as pg_restore ... --dbname "$PGDATABASE"',
    )
      .default(DEFAULT_RESTORE_COMMAND)
      .describe(
        "Bash command that reads a dump (written by dumpCommand) from stdin and restores it, in the same environment (with the same PG* variables). The default restores in one transaction: a damaged dump changes nothing.",
      ),
    keep: integer(1, 1000, "use a count such as 7")
      .default(7)
      .describe(
        "Dumps kept on each host under shared/backups/ (mode 0600), pruned after each backup: the keep newest stay, and so do the keep newest of those taken before a schema change (marked before-migrations: a deploy or migrate call ran migrations after them), so deploys without migrations never push those out.",
      ),
    maxRestoreMegabytes: integer(1, 1048576, "use megabytes, such as 10240")
      .default(10240)
      .describe(
        "Largest dump restore --stdin accepts (MiB; the restore workflow streams its copy from S3 this way): a larger stream is refused before it fills the disk, and one that sends nothing for deploy.uploadIdleTimeoutSeconds is given up. Raise it when your dumps are larger.",
      ),
    beforeMigrations: boolean()
      .optional()
      .describe(
        "Take a backup before migrating: a deploy whose release has migrations to run (app.migrationsUpToDateCommand did not exit 0, or is not set) and a current release to back up, the migrate action likewise, and every migrate rollback (a down migration). A failed backup stops the call before anything changes. Default: true for a production-like environment (a name with the word production or prod, e.g. production-eu, prod, eu.prod), else false.",
      ),
  })
  .prefault({})
  .describe(
    "Database backups by the release agent (verbs backup, backups, restore); with aws.backupBucket the workflows also copy each one to S3.",
  );

/** Whether deploys and the migrate workflow back up the database first (the key, or its default). */
export function backupBeforeMigrations(config: {
  environment: string;
  backup: { beforeMigrations?: boolean | undefined };
}): boolean {
  return config.backup.beforeMigrations ?? isProductionLike(config.environment);
}
