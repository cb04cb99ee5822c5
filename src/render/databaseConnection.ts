// How the app reaches the database on its host: the password's form, the DATABASE_URL built from it, and the
// shared/.env content that carries it (appEnv plus that one line). The password only ever travels on stdin.
import type { HostDatabase } from "../config/databaseSchema";

/** Letters and digits only: no quoting or percent-encoding in SQL, URLs or .env lines to get wrong. */
export const DATABASE_PASSWORD = /^[A-Za-z0-9]{24,128}$/;

/** The length of the passwords the program (and the sandbox) generates. */
export const DATABASE_PASSWORD_LENGTH = 32;

export function databaseUrl(database: HostDatabase, password: string): string {
  if (!DATABASE_PASSWORD.test(password))
    throw new Error(`the database password must be 24 to 128 letters and digits`);
  return `postgresql://${database.user}:${password}@localhost:${database.port}/${database.name}`;
}

/** shared/.env: the stack's appEnv (if any) and the DATABASE_URL line of the database on the host. */
export function appEnvWithDatabaseUrl(appEnv: string | undefined, url: string): string {
  const base =
    appEnv === undefined || appEnv === "" || appEnv.endsWith("\n") ? (appEnv ?? "") : `${appEnv}\n`;
  return `${base}DATABASE_URL=${url}\n`;
}
