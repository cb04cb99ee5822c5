// The sandbox does not run Pulumi, so it makes the password of the app's role in the database on the host itself
// (as @pulumi/random does for a stack): once per sandbox, kept in its state directory, readable by its owner only.
import { randomInt } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DATABASE_PASSWORD, DATABASE_PASSWORD_LENGTH } from "../render/databaseConnection";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export const DATABASE_PASSWORD_FILE = "database-password";

export function generateDatabasePassword(): string {
  return Array.from({ length: DATABASE_PASSWORD_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join(
    "",
  );
}

/** The sandbox's database password: the one in `stateDir`, or a new one written there (mode 0600). */
export function sandboxDatabasePassword(stateDir: string): string {
  const file = join(stateDir, DATABASE_PASSWORD_FILE);
  if (existsSync(file)) {
    const kept = readFileSync(file, "utf8").trim();
    if (!DATABASE_PASSWORD.test(kept))
      throw new Error(`${file} does not hold a database password (remove it to make a new one)`);
    return kept;
  }
  const password = generateDatabasePassword();
  writeFileSync(file, `${password}\n`, { mode: 0o600, flag: "wx" });
  return password;
}
