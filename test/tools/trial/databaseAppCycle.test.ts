// tools/trial/database-app-cycle.sh: the stack file it writes for the app it is given (--print-stack) is one the
// sandbox loads, with the database on the host and the migration tool's commands as the README gives them.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { userStackBeforeHosts } from "../../../src/sandbox/userStack";

const SCRIPT = resolve(__dirname, "../../../tools/trial/database-app-cycle.sh");
const README = readFileSync(resolve(__dirname, "../../../README.md"), "utf8");

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function stackFor(packageJson: object, ...options: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "database-app-cycle-"));
  dirs.push(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify(packageJson));
  const file = join(dir, "Pulumi.trial.yaml");
  writeFileSync(file, execFileSync("bash", [SCRIPT, dir, ...options, "--print-stack"], { encoding: "utf8" }));
  return userStackBeforeHosts(file);
}

/** The README's app.migrationsUpToDateCommand for <tool>, from its table. */
function readmeUpToDateCommand(tool: string): string {
  const row = README.split("\n").find((line) => line.startsWith(`| ${tool} |`));
  const cell = /^\| [^|]+ \| `(.*)` \|$/.exec(row ?? "")?.[1];
  if (cell === undefined) throw new Error(`no README row for ${tool}`);
  return cell.replace(/\\\|/g, "|");
}

describe("database-app-cycle.sh --print-stack", () => {
  it("writes a stack the sandbox loads: one host, PostgreSQL on it, a backup before migrations, the app's entry and health path", () => {
    const config = stackFor({ main: "src/index.js" }, "--health-path", "/", "--port", "5000");
    expect(config.hosts).toHaveLength(1);
    expect(config.database.enabled).toBe(true);
    expect(config.backup.beforeMigrations).toBe(true);
    expect(config.app).toMatchObject({
      startScript: "src/index.js",
      healthPath: "/",
      port: 5000,
      buildCommand: "",
      artifactPaths: ["."],
    });
  });

  it("runs knex by default, with the README's up-to-date command and the app's migrations directory", () => {
    const config = stackFor({}, "--migrations-dir", "src/db/migrations");
    expect(config.app).toMatchObject({
      startScript: "index.js",
      migrateCommand: "npx knex migrate:latest",
      migrateRollbackCommand: "npx knex migrate:rollback",
      migrationsUpToDateCommand: readmeUpToDateCommand("knex"),
      migrationsDir: "src/db/migrations",
    });
  });

  it("runs node-pg-migrate with the README's up-to-date command, on the migrations directory given", () => {
    const config = stackFor(
      { main: "server.js" },
      "--tool",
      "node-pg-migrate",
      "--migrations-dir",
      "db/migrations",
    );
    expect(config.app.migrateCommand).toBe("npx node-pg-migrate up -m db/migrations");
    expect(config.app.migrationsUpToDateCommand).toBe(
      readmeUpToDateCommand("node-pg-migrate").replace("--dry-run", "--dry-run -m db/migrations"),
    );
  });

  it("refuses a migration tool it does not know", () => {
    expect(() => stackFor({}, "--tool", "prisma")).toThrow(/--tool must be knex or node-pg-migrate/);
  });
});
