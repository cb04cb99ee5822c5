import { describe, expect, it } from "vitest";
import { appEnvWithDatabaseUrl, databaseUrl } from "../../src/render/databaseConnection";

const DATABASE = { name: "shop", user: "shop_app", port: 5432 };
const PASSWORD = "Abcdefghijklmnopqrstuvwxyz012345";

describe("the connection to the database on the host", () => {
  it("is a postgresql:// URL to localhost with the role, password, port and database", () => {
    expect(databaseUrl(DATABASE, PASSWORD)).toBe(`postgresql://shop_app:${PASSWORD}@localhost:5432/shop`);
  });

  it.each(["short", `${PASSWORD}!`, `${PASSWORD}@host`, "a".repeat(129)])(
    "refuses a password that would need quoting or is too short or long: %s",
    (password) => {
      expect(() => databaseUrl(DATABASE, password)).toThrow("24 to 128 letters and digits");
    },
  );

  it("adds the DATABASE_URL line to the app's env content, or makes it alone", () => {
    const url = databaseUrl(DATABASE, PASSWORD);
    expect(appEnvWithDatabaseUrl("A=1\nB=2\n", url)).toBe(`A=1\nB=2\nDATABASE_URL=${url}\n`);
    expect(appEnvWithDatabaseUrl("A=1", url)).toBe(`A=1\nDATABASE_URL=${url}\n`);
    expect(appEnvWithDatabaseUrl(undefined, url)).toBe(`DATABASE_URL=${url}\n`);
    expect(appEnvWithDatabaseUrl("", url)).toBe(`DATABASE_URL=${url}\n`);
  });
});
