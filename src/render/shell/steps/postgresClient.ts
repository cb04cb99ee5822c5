// Debian's PostgreSQL client programs for the release agent's backup and restore commands (backup.dumpCommand,
// backup.restoreCommand): a stock host has no pg_dump, and a deploy that backs up before migrating would fail.
import type { PipelineConfig } from "../../../config/types";
import { aptInstallMissingScript } from "./system";

export const POSTGRES_CLIENT_STEP = "postgresql-client";

/** Debian's metapackage for the distribution's client version (15 on Debian 12). */
const POSTGRES_CLIENT_PACKAGES = ["postgresql-client"] as const;

/** A command that runs pg_dump, pg_restore or psql by name (a path means a client the admin installed). */
const RUNS_POSTGRES_CLIENT = /(^|[^\w./-])(pg_dump|pg_restore|psql)($|[^\w.-])/;

export function usesPostgresClient(config: Pick<PipelineConfig, "backup">): boolean {
  return [config.backup.dumpCommand, config.backup.restoreCommand].some((command) =>
    RUNS_POSTGRES_CLIENT.test(command),
  );
}

export function postgresClientScript(): string {
  return aptInstallMissingScript(POSTGRES_CLIENT_PACKAGES);
}
