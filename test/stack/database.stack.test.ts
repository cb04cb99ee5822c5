// The database group in the Pulumi program: off, nothing of it is registered; on, a generated password (a secret,
// replaced by bumping database.passwordRotation) reaches the host only on the stdin of the database step, and
// shared/.env gets appEnv plus the DATABASE_URL, also a secret; no command's create string holds the password.
import { beforeAll, describe, expect, it } from "vitest";
import { hostDatabase } from "../../src/config/databaseSchema";
import { databaseUrl } from "../../src/render/databaseConnection";
import { hostSteps } from "../../src/render/shell/hostSteps";
import { exampleStack, type ProgramRun, runStacks } from "./fixtures";
import {
  MOCK_RANDOM_PASSWORD,
  isSecretValue,
  ofType,
  plain,
  plaintextOccurrences,
  type RecordedResource,
} from "./mockRuntime";

const T = { command: "command:remote:Command", password: "random:index/randomPassword:RandomPassword" };
const APP_ENV = "SESSION_SECRET=very-secret-session-value\n";

function step(run: ProgramRun, name: string): RecordedResource | undefined {
  return ofType(run.runtime, T.command).find((c) => c.name.endsWith(`-${name}`));
}

describe("the database group off", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStacks([exampleStack("staging")]);
  });

  it("registers no password and no database step; the client step stays for the backups", () => {
    expect(ofType(run.runtime, T.password)).toEqual([]);
    expect(step(run, "database")).toBeUndefined();
    expect(step(run, "postgresql-client")).toBeDefined();
  });
});

describe("the database group on", () => {
  const stack = exampleStack("staging", { appEnv: APP_ENV, database: { enabled: true } });
  const database = hostDatabase(stack.config);
  const url = database === undefined ? "" : databaseUrl(database, MOCK_RANDOM_PASSWORD);
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStacks([stack]);
  });

  it("generates one password of letters and digits, kept until database.passwordRotation changes", () => {
    const passwords = ofType(run.runtime, T.password);
    expect(passwords.map((p) => [p.name, plain(p.inputs)])).toEqual([
      [
        "storefront-staging-vps-database-password",
        { length: 32, special: false, keepers: { rotation: "0" } },
      ],
    ]);
  });

  it("runs the database step in place of the client step, with the password on its stdin as a secret", () => {
    const databaseStep = step(run, "database");
    expect(step(run, "postgresql-client")).toBeUndefined();
    expect(isSecretValue(databaseStep?.inputs["stdin"])).toBe(true);
    expect(plain(databaseStep?.inputs["stdin"])).toBe(MOCK_RANDOM_PASSWORD);
    expect(plain(databaseStep?.inputs["logging"])).toBe("none");
    const rendered = hostSteps(stack.config, { npmRegistry: "https://registry.test/", withAppEnv: true });
    const expected = rendered.find((s) => s.name === "database");
    expect(expected && "create" in expected ? expected.create : undefined).toBe(
      plain(databaseStep?.inputs["create"]),
    );
  });

  it("writes appEnv and the DATABASE_URL of the host's database to shared/.env, as a secret", () => {
    const appEnvStep = step(run, "app-env");
    expect(url).toBe(`postgresql://storefront:${MOCK_RANDOM_PASSWORD}@localhost:5432/storefront`);
    expect(isSecretValue(appEnvStep?.inputs["stdin"])).toBe(true);
    expect(plain(appEnvStep?.inputs["stdin"])).toBe(`${APP_ENV}DATABASE_URL=${url}\n`);
  });

  it("never puts the password in plain text into any resource input (create strings included)", () => {
    const leaks = run.runtime.resources.flatMap((r) =>
      plaintextOccurrences(r.inputs, MOCK_RANDOM_PASSWORD).map((path) => `${r.name}: ${path}`),
    );
    expect(leaks).toEqual([]);
    for (const command of ofType(run.runtime, T.command))
      expect(String(plain(command.inputs["create"]))).not.toContain(MOCK_RANDOM_PASSWORD);
  });
});

describe("database.passwordRotation", () => {
  it("replaces the password when bumped (a new keeper)", async () => {
    const run = await runStacks([
      exampleStack("staging", { appEnv: APP_ENV, database: { enabled: true, passwordRotation: 1 } }),
    ]);
    expect(ofType(run.runtime, T.password).map((p) => plain(p.inputs["keepers"]))).toEqual([
      { rotation: "1" },
    ]);
  });
});
