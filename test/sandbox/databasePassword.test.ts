import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DATABASE_PASSWORD } from "../../src/render/databaseConnection";
import {
  DATABASE_PASSWORD_FILE,
  generateDatabasePassword,
  sandboxDatabasePassword,
} from "../../src/sandbox/databasePassword";

describe("the sandbox's database password", () => {
  it("is 32 letters and digits, a new one each time", () => {
    const passwords = new Set(Array.from({ length: 20 }, generateDatabasePassword));
    expect(passwords.size).toBe(20);
    for (const password of passwords) expect(password).toMatch(DATABASE_PASSWORD);
    for (const password of passwords) expect(password).toHaveLength(32);
  });

  it("is made once per state directory, kept there in a file of mode 0600, and read back after", () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-state-"));
    const first = sandboxDatabasePassword(dir);
    const file = join(dir, DATABASE_PASSWORD_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe(`${first}\n`);
    expect(sandboxDatabasePassword(dir)).toBe(first);
  });

  it("refuses a file that holds no password instead of handing it to the host", () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-state-"));
    writeFileSync(join(dir, DATABASE_PASSWORD_FILE), "x'; DROP ROLE app; --\n");
    expect(() => sandboxDatabasePassword(dir)).toThrow("does not hold a database password");
  });
});
