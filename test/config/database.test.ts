// The database group: off by default; on, it names the app's database and role (from app.name unless set) and
// refuses what would give the app two databases or the server's own names, naming the key and the fix.
import { describe, expect, it } from "vitest";
import { hostDatabase } from "../../src/config/databaseSchema";
import { ConfigError } from "../../src/config/errors";
import { loadFromValues } from "../../src/config/fromValues";
import { minimalValues } from "./fixtures";

function load(overrides: Record<string, unknown>) {
  return loadFromValues(minimalValues(overrides), "acme", { stack: "staging", requireSecrets: false });
}

function problemsOf(overrides: Record<string, unknown>): readonly string[] {
  try {
    load(overrides);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const SECOND_HOST = {
  host: "vps2.example.com",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R",
};
const IDENTIFIER_FIX = "use lowercase letters, digits and '_', starting with a letter, e.g. my_app";

describe("database config", () => {
  it("is off unless database.enabled is true", () => {
    expect(hostDatabase(load({}).config)).toBeUndefined();
    expect(load({}).config.database).toEqual({ enabled: false, passwordRotation: 0, port: 5432 });
  });

  it("names the database and the role after app.name ('-' becomes '_') on port 5432 by default", () => {
    const { config } = load({ app: { name: "store-front" }, database: { enabled: "true" } });
    expect(hostDatabase(config)).toEqual({ name: "store_front", user: "store_front", port: 5432 });
  });

  it("takes the database name, role and port from the group", () => {
    const { config } = load({ database: { enabled: true, name: "shop", user: "shop_app", port: 5433 } });
    expect(hostDatabase(config)).toEqual({ name: "shop", user: "shop_app", port: 5433 });
  });

  it.each([
    ["name", "Shop", "is not a lowercase PostgreSQL identifier"],
    ["name", "template1", "is reserved by PostgreSQL"],
    ["user", "postgres", "is reserved by PostgreSQL"],
    ["user", "pg_app", "is reserved by PostgreSQL"],
    ["user", "app;drop", "is not a lowercase PostgreSQL identifier"],
  ])("refuses database.%s %s", (key, value, problem) => {
    expect(problemsOf({ database: { enabled: true, [key]: value } })).toEqual([
      `pipeline:database.${key}: ${problem} (${IDENTIFIER_FIX})`,
    ]);
  });

  it("refuses a default taken from an app named like the server's superuser", () => {
    expect(problemsOf({ app: { name: "postgres" }, database: { enabled: true, name: "shop" } })).toEqual([
      "pipeline:database.user: defaults to 'postgres' from app.name, which is reserved by PostgreSQL (set database.user, e.g. app_user)",
    ]);
  });

  it("refuses a DATABASE_URL in appEnv while the group is on, and accepts it while the group is off", () => {
    const appEnv = "GREETING=hi\nDATABASE_URL=postgres://app@db.example.com/app\n";
    expect(problemsOf({ appEnv, database: { enabled: true } })).toEqual([
      "pipeline:appEnv: sets DATABASE_URL, but database.enabled makes the program set it to the database on the host (remove the DATABASE_URL line from appEnv to use the host's database, or set database.enabled to false to keep your external database)",
    ]);
    expect(problemsOf({ appEnv })).toEqual([]);
    expect(problemsOf({ appEnv: "GREETING=hi\n", database: { enabled: true } })).toEqual([]);
  });

  it("refuses database.port on the second release port (app.port + 1) with deploy.strategy sideBySide", () => {
    const values = { app: { name: "storefront", port: 5432 }, database: { enabled: true, port: 5433 } };
    expect(problemsOf(values)).toEqual([
      "pipeline:database.port: is 5433, the second release port of deploy.strategy sideBySide (app.port + 1): use another port, such as 5432",
    ]);
    expect(problemsOf({ ...values, deploy: { strategy: "reload" } })).toEqual([]);
    expect(problemsOf({ ...values, database: { enabled: false, port: 5433 } })).toEqual([]);
    expect(problemsOf({ ...values, database: { enabled: true, port: 5434 } })).toEqual([]);
  });

  it("refuses the group with more than one host, configured or created on EC2", () => {
    // Several hosts sit behind a load balancer that ends TLS (ingress.tls acme is one host's).
    const ingress = { tls: "off", trustedProxies: ["192.0.2.10/32"] };
    const twoHosts = problemsOf({
      hosts: [minimalValues().hosts as unknown[], SECOND_HOST].flat(),
      ingress,
      database: { enabled: true },
    });
    expect(twoHosts).toEqual([
      "pipeline:database.enabled: is true with 2 hosts, but each host would run its own database with its own data (use one host, or an external database that every host reaches: set database.enabled to false and DATABASE_URL in appEnv)",
    ]);
    const ec2 = problemsOf({
      hosts: undefined,
      aws: { hosts: { count: 3, sshCidrs: ["203.0.113.0/24"] } },
      ingress,
      database: { enabled: true },
    });
    expect(ec2).toHaveLength(1);
    expect(ec2[0]).toMatch(/^pipeline:database\.enabled: is true with 3 hosts/);
  });
});
