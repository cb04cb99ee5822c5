// PostgreSQL on the host (config group database), on a real disposable Debian host without an init system: the
// provisioning installs and starts the server on localhost only, creates the app's role and database, and puts
// DATABASE_URL in shared/.env; running the step again changes nothing and keeps the data; a new password rotates
// the role's and the app's; the password appears in no process's command line; the default backup dumps it with
// the server's own client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../src/config/types";
import { quote } from "../../src/primitives/shellQuote";
import { hostLayout } from "../../src/render/hostLayout";
import { DATABASE_STEP } from "../../src/render/shell/steps/database";
import type { RemoteStep } from "../../src/render/shell/remoteStep";
import {
  EXAMPLE_APP,
  type StepRun,
  callAgent,
  envFileContent,
  generateDatabasePassword,
  generateDeployKey,
  provisionHost,
  resolvedHostSteps,
  runSteps,
  stackOnHosts,
  writeRunnerFiles,
} from "../../src/sandbox";
import type { HostHandle } from "../../src/testhost";
import { APP_ENV, HostPool, type Stack, asRoot, deployOk, makeRelease } from "./support";

const pool = new HostPool("host-tests-database");
const FIRST_PASSWORD = generateDatabasePassword();
const SECOND_PASSWORD = generateDatabasePassword();
const DATABASE = "example_app";

describe("PostgreSQL on the host (database group)", () => {
  let host: HostHandle;
  let stack: Stack;
  let runs: StepRun[];

  const config = (): PipelineConfig => stack.config;
  const input = (databasePassword: string) => ({
    npmRegistry: host.npmRegistry,
    appEnv: APP_ENV,
    deployPublicKey: stack.key.publicKey,
    databasePassword,
  });
  const stepsNamed = (databasePassword: string, names: readonly string[]): RemoteStep[] =>
    resolvedHostSteps(config(), input(databasePassword)).filter((step) => names.includes(step.name));
  /** Runs a command as the deploy user with its shared/.env exported, as pm2 starts the app. */
  const asApp = (command: string) =>
    asRoot(
      host,
      `cd / && runuser -u deploy -- bash -c ${quote(`set -a; . ${hostLayout(config()).envFile}; set +a; ${command}`)}`,
    );
  const asPostgres = (sql: string) =>
    asRoot(host, `cd / && runuser -u postgres -- psql -X -tA -d ${DATABASE} -c ${quote(sql)}`);
  const postmasterPid = async () =>
    (await asRoot(host, "head -n 1 /var/lib/postgresql/*/main/postmaster.pid")).trim();

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    const key = generateDeployKey("pipeline-ci-0");
    const stackConfig = stackOnHosts([host], {
      app: { ...EXAMPLE_APP, services: [] },
      database: { enabled: true },
    });
    stack = {
      hosts: [host],
      config: stackConfig,
      key,
      files: writeRunnerFiles(stackConfig, key.privateKey),
      runs: [],
    };
    runs = await provisionHost(host, stackConfig, input(FIRST_PASSWORD));
    await deployOk(stack, makeRelease(stackConfig));
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("installs the server and the app's connection before the first deploy: shared/.env holds appEnv and DATABASE_URL", async () => {
    expect(runs.map((run) => run.name)).toContain(DATABASE_STEP);
    const envFile = await asRoot(host, `cat ${hostLayout(config()).envFile}`);
    expect(envFile).toBe(
      `${APP_ENV}DATABASE_URL=postgresql://${DATABASE}:${FIRST_PASSWORD}@localhost:5432/${DATABASE}\n`,
    );
    expect(envFile).toBe(envFileContent(config(), input(FIRST_PASSWORD)));
  });

  it("lets the app connect with its DATABASE_URL, as the owner of its own database", async () => {
    expect(await asApp(`psql -X -tA "$DATABASE_URL" -c 'SELECT current_user, current_database()'`)).toBe(
      `${DATABASE}|${DATABASE}\n`,
    );
    await asApp(
      `psql -X -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')"`,
    );
  });

  it("listens on the loopback addresses only", async () => {
    const listening = (await asRoot(host, "ss -Hltn 'sport = :5432'"))
      .split("\n")
      .filter(Boolean)
      .map((line) => line.trim().split(/\s+/)[3]);
    expect(listening).toContain("127.0.0.1:5432");
    for (const address of listening) expect(["127.0.0.1:5432", "[::1]:5432"]).toContain(address);
  });

  it("changes nothing when the step runs again: same server process, same settings file, the data kept", async () => {
    const pid = await postmasterPid();
    const settings = "stat -c '%i %Y' /etc/postgresql/*/main/conf.d/pipeline.conf";
    const before = await asRoot(host, settings);
    await runSteps(host, stepsNamed(FIRST_PASSWORD, [DATABASE_STEP]), undefined, FIRST_PASSWORD);
    expect(await postmasterPid()).toBe(pid);
    expect(await asRoot(host, settings)).toBe(before);
    expect(await asPostgres("SELECT body FROM notes")).toBe("kept\n");
    expect(await asApp(`psql -X -tA "$DATABASE_URL" -c 'SELECT count(*) FROM notes'`)).toBe("1\n");
  });

  it("rotates the password: the new one works for the app, the old one no longer does, the data stays; no command line shows it", async () => {
    // Every process's command line, sampled by root inside the host for as long as the steps run.
    await asRoot(
      host,
      "rm -f /root/sampling.stop; (while [ ! -e /root/sampling.stop ]; do ps -eo args; cat /proc/[0-9]*/cmdline | tr '\\0' ' '; echo; done > /root/sampled.txt 2>/dev/null &) </dev/null >/dev/null 2>&1",
    );
    const steps = stepsNamed(SECOND_PASSWORD, [DATABASE_STEP, "app-env"]);
    expect(steps.map((step) => step.name)).toEqual([DATABASE_STEP, "app-env"]);
    try {
      await runSteps(host, steps, envFileContent(config(), input(SECOND_PASSWORD)), SECOND_PASSWORD);
    } finally {
      await asRoot(host, "touch /root/sampling.stop");
    }
    const sampled = await asRoot(host, "sleep 0.5; cat /root/sampled.txt");
    expect(sampled).toContain("ps -eo args");
    expect(sampled).not.toContain(SECOND_PASSWORD);

    expect(await asRoot(host, `grep ^DATABASE_URL= ${hostLayout(config()).envFile}`)).toBe(
      `DATABASE_URL=postgresql://${DATABASE}:${SECOND_PASSWORD}@localhost:5432/${DATABASE}\n`,
    );
    expect(await asApp(`psql -X -tA "$DATABASE_URL" -c 'SELECT body FROM notes'`)).toBe("kept\n");
    const old = `postgresql://${DATABASE}:${FIRST_PASSWORD}@localhost:5432/${DATABASE}`;
    const refused = await asRoot(
      host,
      `cd / && runuser -u deploy -- psql -X -tA ${quote(old)} -c 'SELECT 1' 2>&1 || echo refused`,
    );
    expect(refused).toContain("password authentication failed");
  });

  it("backs the database up with the default dump command and a client of the server's own major version", async () => {
    const server = (await asPostgres("SHOW server_version_num")).trim();
    const client = await asRoot(host, "pg_dump --version");
    expect(client).toMatch(new RegExp(`^pg_dump \\(PostgreSQL\\) ${Math.floor(Number(server) / 10000)}\\.`));

    const backup = await callAgent(host, config().deployUser, stack.files, "backup --actor octocat");
    expect(backup.code, backup.stderr).toBe(0);
    const listed = await callAgent(host, config().deployUser, stack.files, "backups");
    const [id] = listed.stdout.trim().split(" ");
    expect(id).toMatch(/^\d{14}-/);
    const dump = `${hostLayout(config()).backups}/${id}.dump`;
    expect(await asRoot(host, `pg_restore --data-only --file - ${dump}`)).toContain("kept");
  });
});
