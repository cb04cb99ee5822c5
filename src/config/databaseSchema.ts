// The optional `database` group: PostgreSQL on the app's host, its database and role, and the connection the app
// gets in shared/.env (DATABASE_URL). Off by default: an external database is a DATABASE_URL in appEnv.
import { z } from "zod";
import { boolean, integer, text } from "./rules";

/** Lowercase unquoted PostgreSQL identifiers (at most 63 bytes): no quoting rules to get wrong anywhere. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Names the server owns: its superuser and template databases, and the pg_ prefix reserved for system roles. */
const RESERVED = new Set(["postgres", "template0", "template1", "public"]);

/** What is wrong with a database or role name (undefined: nothing). */
export function databaseIdentifierProblem(value: string): string | undefined {
  if (!IDENTIFIER.test(value)) return "is not a lowercase PostgreSQL identifier";
  if (RESERVED.has(value) || value.startsWith("pg_")) return "is reserved by PostgreSQL";
  return undefined;
}

function identifier(fix: string) {
  return text(fix).superRefine((value, ctx) => {
    const problem = databaseIdentifierProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: `${problem} (${fix})` });
  });
}

export const databaseSchema = z
  .strictObject({
    enabled: boolean()
      .default(false)
      .describe(
        "Install Debian's PostgreSQL server on the host (listening on localhost only), create the app's database and role with a password the program generates (a Pulumi secret), and put DATABASE_URL in the app's shared/.env. Needs exactly one host and no DATABASE_URL in appEnv. Setting it back to false leaves the server, the data and the role on the host (see the README).",
      ),
    name: identifier("use lowercase letters, digits and '_', starting with a letter, e.g. my_app")
      .optional()
      .describe("Name of the app's database. Default: app.name with '-' replaced by '_'."),
    user: identifier("use lowercase letters, digits and '_', starting with a letter, e.g. my_app")
      .optional()
      .describe(
        "Role the app connects as (owner of the database). Default: app.name with '-' replaced by '_'.",
      ),
    passwordRotation: integer(0, 1_000_000, "bump the integer by one to rotate the password")
      .default(0)
      .describe(
        "Bump to give the app's role a new generated password: the next pulumi up sets it on the server and in shared/.env, then reloads the app.",
      ),
    port: integer(1024, 65535, "use a free TCP port, usually 5432")
      .default(5432)
      .describe("TCP port the server listens on, on localhost only."),
  })
  .prefault({})
  .describe(
    "PostgreSQL on the host for the app (off by default). An external database needs no group: see the README.",
  );

/** The database on the host, with its defaults resolved; undefined when the group is off. */
export interface HostDatabase {
  name: string;
  user: string;
  port: number;
}

export function hostDatabase(config: {
  app: { name: string };
  database: { enabled: boolean; name?: string | undefined; user?: string | undefined; port: number };
}): HostDatabase | undefined {
  const { database } = config;
  if (!database.enabled) return undefined;
  const fromApp = config.app.name.replaceAll("-", "_");
  return { name: database.name ?? fromApp, user: database.user ?? fromApp, port: database.port };
}
