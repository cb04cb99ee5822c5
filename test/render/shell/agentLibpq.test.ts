// The release agent runs the dump and restore commands with libpq's PG* variables taken from the app's
// DATABASE_URL (agent/libpq.sh), so that the default commands carry no connection string, and no password, on a
// command line; and a pg_dump older than the server fails the backup with what to do. Harness: agentHarness.ts,
// with stand-ins for pg_dump and pg_restore on PATH (the host test runs the real ones).
import { readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_DUMP_COMMAND, DEFAULT_RESTORE_COMMAND } from "../../../src/config/backupSchema";
import type { PipelineConfig } from "../../../src/config/types";
import { AGENT_EXIT } from "../../../src/render/agentProtocol";
import { AgentSandbox, shellQuote } from "./agentHarness";
import { production, staging } from "./fixtures";

const RELEASE = "20261122140501-1a2b3c4";
const PRINT_LIBPQ_ENVIRONMENT = "env | grep -E '^PG[A-Z_]*=' | sort";

const sandboxes: AgentSandbox[] = [];
afterEach(() => {
  for (const sandbox of sandboxes.splice(0)) sandbox.dispose();
});

function sandbox(backup: Partial<PipelineConfig["backup"]>, envFile: string, config = staging): AgentSandbox {
  const box = new AgentSandbox({ ...config, backup: { ...config.backup, ...backup } });
  sandboxes.push(box);
  const setup = box.run(
    [
      `mkdir -p "$RELEASES_DIR/${RELEASE}" "$WORK_DIR/bin"`,
      `ln -s "$RELEASES_DIR/${RELEASE}" "$CURRENT_LINK"`,
      `printf '%s' ${shellQuote(envFile)} > "$ENV_FILE"`,
    ].join("\n"),
  );
  expect(setup.status, setup.stderr).toBe(0);
  return box;
}

/** The PG* variables the dump command sees for a DATABASE_URL. */
function libpqEnvironment(url: string): { status: number | null; variables: string[]; stderr: string } {
  const box = sandbox({ dumpCommand: PRINT_LIBPQ_ENVIRONMENT }, `DATABASE_URL=${url}\n`);
  const result = box.run("verb_backup");
  return {
    status: result.status,
    variables: result.stdout.split("\n").filter(Boolean),
    stderr: result.stderr,
  };
}

describe("the default dump and restore commands", () => {
  it("name neither DATABASE_URL nor a password: libpq reads the connection from the environment", () => {
    expect(DEFAULT_DUMP_COMMAND).toBe("pg_dump --format=custom");
    expect(DEFAULT_RESTORE_COMMAND).toBe(
      'pg_restore --clean --if-exists --no-owner --single-transaction --dbname "$PGDATABASE"',
    );
  });

  it("run pg_dump and pg_restore with the connection in PG* variables and none in their arguments", () => {
    const box = sandbox({}, "DATABASE_URL=postgres://orders:s3cret@db.internal:5433/orders\n");
    const stub = (name: string, body: string) =>
      `printf '%s\\n' '#!/bin/bash' ${shellQuote(body)} > "$WORK_DIR/bin/${name}"; chmod +x "$WORK_DIR/bin/${name}"`;
    const record =
      'printf "%s\\n" "$0 $*" "$PGHOST $PGPORT $PGUSER $PGPASSWORD $PGDATABASE" >> "$WORK_DIR/calls"';
    const result = box.run(
      [
        stub("pg_dump", `${record}; printf dump`),
        stub("pg_restore", `${record}; cat > /dev/null`),
        'export PATH="$WORK_DIR/bin:$PATH" WORK_DIR',
        "BACKUP_ID=",
        "verb_backup > /dev/null",
        'BACKUP_ID=$(ls "$BACKUPS_DIR" | sed "s/\\.dump$//")',
        'SWITCHES=" --confirm "',
        "verb_restore",
        'sed "s|$WORK_DIR/bin/||" "$WORK_DIR/calls"',
      ].join("\n"),
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.split("\n").filter(Boolean)).toEqual([
      "pg_dump --format=custom",
      "db.internal 5433 orders s3cret orders",
      "pg_restore --clean --if-exists --no-owner --single-transaction --dbname orders",
      "db.internal 5433 orders s3cret orders",
    ]);
  });
});

describe("libpq's variables from DATABASE_URL", () => {
  it.each([
    [
      "user, password, host, port and database",
      "postgres://orders:s3cret@127.0.0.1:5432/orders",
      ["PGDATABASE=orders", "PGHOST=127.0.0.1", "PGPASSWORD=s3cret", "PGPORT=5432", "PGUSER=orders"],
    ],
    [
      "percent-encoded parts, a password with ':' '?' and '#'",
      "postgresql://app%40corp:p%40ss:w?rd#1@db.example/my%20db",
      ["PGDATABASE=my db", "PGHOST=db.example", "PGPASSWORD=p@ss:w?rd#1", "PGUSER=app@corp"],
    ],
    [
      "a backslash in the password, kept as it is",
      "postgres://u:a\\nb@h/d",
      ["PGDATABASE=d", "PGHOST=h", "PGPASSWORD=a\\nb", "PGUSER=u"],
    ],
    ["no user part and no database", "postgres://db.example", ["PGHOST=db.example"]],
    [
      "a Unix socket directory, percent-encoded",
      "postgres://%2Fvar%2Frun%2Fpostgresql/app",
      ["PGDATABASE=app", "PGHOST=/var/run/postgresql"],
    ],
    ["nothing but the database (local socket)", "postgres:///app", ["PGDATABASE=app"]],
    [
      "several hosts, IPv6 in brackets, a port for some",
      "postgres://u@[::1]:5433,db2,db3:6000/app",
      ["PGDATABASE=app", "PGHOST=::1,db2,db3", "PGPORT=5433,,6000", "PGUSER=u"],
    ],
    [
      "parameters, their names mapped to libpq's variables",
      "postgres://u@h/app?sslmode=verify-full&application_name=my%20app&connect_timeout=10&ssl=true",
      [
        "PGAPPNAME=my app",
        "PGCONNECT_TIMEOUT=10",
        "PGDATABASE=app",
        "PGHOST=h",
        "PGSSLMODE=require",
        "PGUSER=u",
      ],
    ],
    [
      "parameters without a database",
      "postgres://h?user=u&password=p",
      ["PGHOST=h", "PGPASSWORD=p", "PGUSER=u"],
    ],
  ])("%s", (_name, url, expected) => {
    const { status, variables, stderr } = libpqEnvironment(url);
    expect(status, stderr).toBe(0);
    expect(variables).toEqual(expected);
  });

  it("leaves a DATABASE_URL of another kind, and PG* variables of the env file, alone", () => {
    const box = sandbox(
      { dumpCommand: `${PRINT_LIBPQ_ENVIRONMENT}; printf '%s' "$DATABASE_URL"` },
      "DATABASE_URL=mysql://u:p@h/app\nPGPASSWORD=from-env-file\n",
    );
    const result = box.run("verb_backup");
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe("PGPASSWORD=from-env-file\nmysql://u:p@h/app");
  });

  it("fails the backup, naming the parameter, when a URL parameter has no libpq variable", () => {
    const { status, variables, stderr } = libpqEnvironment("postgres://u@h/app?keepalives=0");
    expect(status).toBe(AGENT_EXIT.backupFailed);
    expect(variables).toEqual([]);
    expect(stderr).toContain("DATABASE_URL has the parameter 'keepalives'");
  });
});

describe("a pg_dump older than the database server", () => {
  /** Debian 12's pg_dump 15 against a PostgreSQL 16 server: its two lines on stderr, exit 1. */
  const PG_DUMP_15_AGAINST_16 = [
    "pg_dump: error: aborting because of server version mismatch",
    "pg_dump: detail: server version: 16.4 (Debian 16.4-1.pgdg120+1); pg_dump version: 15.8 (Debian 15.8-0+deb12u1)",
  ];

  it("stops the deploy's backup with backupFailed, the two versions and what to install, keeping no file", () => {
    const box = sandbox({}, "DATABASE_URL=postgres://u:p@h/app\n", production);
    const stub = [
      "#!/bin/bash",
      ...PG_DUMP_15_AGAINST_16.map((line) => `echo ${shellQuote(line)} >&2`),
      "exit 1",
    ];
    const result = box.run(
      [
        `printf '%s\\n' ${stub.map(shellQuote).join(" ")} > "$WORK_DIR/bin/pg_dump"`,
        'chmod +x "$WORK_DIR/bin/pg_dump"',
        'export PATH="$WORK_DIR/bin:$PATH"',
        `PREVIOUS=${RELEASE}`,
        'mkdir -p "$WORK_DIR/new"',
        'backup_before_migrations "$WORK_DIR/new" 20261122150000-1a2b3c4',
      ].join("\n"),
    );
    expect(result.status).toBe(AGENT_EXIT.backupFailed);
    expect(result.stderr).toContain(PG_DUMP_15_AGAINST_16[0]);
    expect(result.stderr).toContain(
      "the database server is PostgreSQL 16 but pg_dump is version 15, which refuses to dump a newer server: install postgresql-client-16 on the host (from the PostgreSQL project's apt repository), or set backup.dumpCommand to a pg_dump of version 16 or newer. No backup was kept and nothing was changed",
    );
    expect(readdirSync(box.path("BACKUPS_DIR"))).toEqual([]);
  });
});
