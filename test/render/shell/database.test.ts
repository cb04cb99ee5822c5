// The database step (config group database): where it sits in a host's chain, what it reads on stdin, the
// server settings it owns, and the SQL that creates the role and the database without ever dropping anything.
import { describe, expect, it } from "vitest";
import { hostDatabase } from "../../../src/config/databaseSchema";
import { asRoot } from "../../../src/render/shell/commands";
import { hostSteps } from "../../../src/render/shell/hostSteps";
import type { RemoteStep } from "../../../src/render/shell/remoteStep";
import {
  DATABASE_STEP,
  ROLE_AND_DATABASE_SQL,
  databaseScript,
  databaseServerSettings,
} from "../../../src/render/shell/steps/database";
import { TEST_REGISTRY, staging, stagingWithDatabase } from "./fixtures";

const options = { npmRegistry: TEST_REGISTRY };
const DATABASE = { name: "shop", user: "storefront", port: 5433 };

function names(steps: readonly { name: string }[]): string[] {
  return steps.map((s) => s.name);
}

describe("the database step", () => {
  it("is not in the chain of a stack without the database group", () => {
    expect(names(hostSteps(staging, { ...options, withAppEnv: true }))).not.toContain(DATABASE_STEP);
  });

  it("takes the place of the postgresql-client step: the server package brings its own major version's client", () => {
    const withDatabase = names(hostSteps(stagingWithDatabase, { ...options, withAppEnv: true }));
    const without = names(hostSteps(staging, { ...options, withAppEnv: true }));
    expect(without).toContain("postgresql-client");
    expect(withDatabase).toEqual(without.map((n) => (n === "postgresql-client" ? DATABASE_STEP : n)));
  });

  it("runs as root with the password on stdin, its output kept out of Pulumi's logs", () => {
    const step = hostSteps(stagingWithDatabase, { ...options, withAppEnv: false }).find(
      (s) => s.name === DATABASE_STEP,
    ) as RemoteStep;
    const database = hostDatabase(stagingWithDatabase);
    if (database === undefined) throw new Error("the fixture has the database group on");
    expect(database).toEqual(DATABASE);
    expect(step).toEqual({
      name: DATABASE_STEP,
      script: databaseScript(database),
      create: asRoot(databaseScript(database), "admin"),
      stdin: "databasePassword",
      touchesSecrets: true,
    });
  });

  it("writes shared/.env (the DATABASE_URL) even when the stack has no appEnv", () => {
    const steps = hostSteps(stagingWithDatabase, { ...options, withAppEnv: false });
    expect(steps.find((s) => s.name === "app-env")).toMatchObject({ stdin: "appEnv", touchesSecrets: true });
  });

  it("reads the password before apt runs, and hands it to psql on psql's stdin only", () => {
    const script = databaseScript(DATABASE);
    const lines = script.split("\n");
    expect(lines[0]).toBe("IFS= read -r password || true");
    expect(script.indexOf("read -r password")).toBeLessThan(script.indexOf("apt-get"));
    const uses = lines.filter((line) => line.includes("$password"));
    expect(uses).toEqual([
      lines[1],
      expect.stringMatching(/^\{ printf '%s\\n' "\\\\set password '\$password'"; printf %s .*/),
    ]);
    expect(lines.at(-1)).toMatch(
      /\| runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p 5433 -d postgres -v role=storefront -v database=shop$/,
    );
    expect(script).not.toMatch(/PGPASSWORD|export password/);
  });

  it("keeps the server on localhost, on the configured port", () => {
    expect(databaseServerSettings(DATABASE)).toBe(
      [
        "# Managed by pipeline (config group database): the app's server, reachable from this host only.",
        "listen_addresses = 'localhost'",
        "port = 5433",
        "",
      ].join("\n"),
    );
  });

  it("starts the server through systemd where it runs, and directly on a host without an init system", () => {
    const script = databaseScript(DATABASE);
    expect(script).toContain("if [ -d /run/systemd/system ]; then systemctl enable --quiet postgresql; fi");
    expect(script).toContain('if ! pg_ctlcluster "$major" main status >/dev/null 2>&1; then');
    expect(script).toContain('  pg_ctlcluster "$major" main start');
    expect(script).toContain('elif [ "$settings" = changed ]; then');
    expect(script).toContain('  pg_ctlcluster "$major" main restart');
  });

  it("creates the role and the database only when missing, sets the password each run, and drops nothing", () => {
    expect(ROLE_AND_DATABASE_SQL).toBe(
      [
        "SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec",
        "ALTER ROLE :\"role\" WITH LOGIN PASSWORD :'password';",
        "SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec",
        "",
      ].join("\n"),
    );
    expect(databaseScript(DATABASE)).not.toMatch(/\bDROP\b/i);
  });
});
