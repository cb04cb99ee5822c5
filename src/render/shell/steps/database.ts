// PostgreSQL on the host (config group `database`): Debian's server package (its client programs, which the
// backups use, are of the same major version), listening on localhost only, started as a service (systemd) or
// directly (hosts without an init system), and the app's role and database, created once and never dropped. The
// role's password arrives on stdin and reaches psql on its stdin: never an argument, never in an environment.
import type { HostDatabase } from "../../../config/databaseSchema";
import { quote } from "../../../primitives/shellQuote";
import { argv, shell } from "../commands";
import { aptInstallMissingScript } from "./system";

export const DATABASE_STEP = "database";

/** Debian's metapackage of the distribution's server version (15 on Debian 12), which depends on its client. */
const SERVER_PACKAGES = ["postgresql"] as const;

/** The drop-in the step owns, in the cluster's conf.d (Debian's postgresql.conf includes the directory last). */
export const DATABASE_CONF_FILE = "pipeline.conf";

export function databaseServerSettings(database: HostDatabase): string {
  return [
    "# Managed by pipeline (config group database): the app's server, reachable from this host only.",
    "listen_addresses = 'localhost'",
    `port = ${database.port}`,
    "",
  ].join("\n");
}

/**
 * Idempotent: the role is created when missing and given the password (a changed password rotates it); the
 * database is created when missing, owned by the role. Nothing is ever dropped or altered otherwise.
 */
export const ROLE_AND_DATABASE_SQL = [
  "SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec",
  "ALTER ROLE :\"role\" WITH LOGIN PASSWORD :'password';",
  "SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec",
  "",
].join("\n");

/**
 * Writes the settings file as the postgres user, which owns the cluster's configuration directory (root never
 * writes into a directory another user can change); prints "changed" when the content changed.
 */
function writeSettingsAsPostgres(database: HostDatabase): string {
  const asPostgres = [
    "umask 022",
    'new=$(mktemp "$1.pipeline-XXXXXX")',
    'cat >"$new"',
    'if [ -f "$1" ] && [ ! -L "$1" ] && cmp -s "$new" "$1"; then rm -f "$new"; exit 0; fi',
    'mv -fT "$new" "$1"',
    "echo changed",
  ].join("\n");
  const encoded = Buffer.from(databaseServerSettings(database), "utf8").toString("base64");
  return [
    'runuser -u postgres -- mkdir -p "$conf_dir"',
    "# shellcheck disable=SC2016 # the script is expanded by the postgres user's bash",
    `settings=$(printf %s ${encoded} | base64 -d | runuser -u postgres -- ${shell(asPostgres)} bash "$conf_dir/${DATABASE_CONF_FILE}")`,
  ].join("\n");
}

export function databaseScript(database: HostDatabase): string {
  const psql = argv(
    "runuser",
    "-u",
    "postgres",
    "--",
    "psql",
    "-X",
    "-q",
    "-v",
    "ON_ERROR_STOP=1",
    "-p",
    String(database.port),
    "-d",
    "postgres",
    "-v",
    `role=${database.user}`,
    "-v",
    `database=${database.name}`,
  );
  return [
    // First, before apt (whose maintainer scripts may read stdin).
    "IFS= read -r password || true",
    `if ! [[ $password =~ ^[A-Za-z0-9]{24,128}$ ]]; then echo "database: the password on stdin is not 24 to 128 letters and digits" >&2; exit 1; fi`,
    aptInstallMissingScript(SERVER_PACKAGES),
    "cd /",
    "major=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' | cut -d/ -f5 | sort -n | tail -n 1)",
    'if [ -z "$major" ]; then echo "database: no PostgreSQL server under /usr/lib/postgresql after installing postgresql" >&2; exit 1; fi',
    'if [ ! -d "/etc/postgresql/$major/main" ]; then pg_createcluster "$major" main >&2; fi',
    'conf_dir="/etc/postgresql/$major/main/conf.d"',
    writeSettingsAsPostgres(database),
    "if [ -d /run/systemd/system ]; then systemctl enable --quiet postgresql; fi",
    // pg_ctlcluster hands over to systemctl (postgresql@<major>-main) when systemd runs, and starts the server
    // itself otherwise.
    'if ! pg_ctlcluster "$major" main status >/dev/null 2>&1; then',
    '  if [ ! -d /run/systemd/system ]; then echo "systemd is not running: starting PostgreSQL $major directly (not restarted at boot on this host)" >&2; fi',
    '  pg_ctlcluster "$major" main start',
    'elif [ "$settings" = changed ]; then',
    '  echo "database: listen_addresses or port changed: restarting PostgreSQL $major" >&2',
    '  pg_ctlcluster "$major" main restart',
    "fi",
    "# The password is a psql variable set on psql's stdin (printf is a builtin: no process shows it).",
    `{ printf '%s\\n' "\\\\set password '$password'"; printf %s ${quote(ROLE_AND_DATABASE_SQL)}; } | ${psql}`,
  ].join("\n");
}
