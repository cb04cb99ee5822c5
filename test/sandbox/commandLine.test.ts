// The sandbox's command line: --help for the command and every verb, and the refusals, before anything runs.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  SANDBOX_VERBS,
  SandboxUsageError,
  type SandboxVerb,
  parseSandboxCommand,
  sandboxUsage,
  verbUsage,
} from "../../src/sandbox/commandLine";

const VERBS = Object.keys(SANDBOX_VERBS) as SandboxVerb[];

function refusal(args: string[]): string {
  try {
    parseSandboxCommand(args);
  } catch (error) {
    if (error instanceof SandboxUsageError) return error.message;
    throw error;
  }
  throw new Error(`accepted: ${args.join(" ")}`);
}

describe("sandboxUsage and verbUsage", () => {
  it("lists every verb with its options", () => {
    expect(sandboxUsage()).toBe(
      [
        "usage: npm run sandbox -- <verb> [options]",
        "  up [--hosts N] [--stack <name> | --config <file>] [--app <dir> | --artifact <file.tgz>] [--env-file <file>]",
        "  deploy [--app <dir> | --artifact <file.tgz> | --unhealthy]",
        "  rollback [<release-id>]",
        "  status",
        "  down",
        "  shell [<host>]",
        "  logs [--lines N]",
        "  backup",
        "  backups",
        "  restore <backup-id> [--confirm]",
        "  migrate [up|down|status]",
        "  maintenance on|off|status",
        "npm run sandbox -- <verb> --help describes a verb and its options.",
      ].join("\n"),
    );
  });

  it("describes one verb: its usage, what it does, each option", () => {
    expect(verbUsage("deploy")).toBe(
      [
        "usage: npm run sandbox -- deploy [--app <dir> | --artifact <file.tgz> | --unhealthy]",
        "Build and ship a new release with the deploy workflow's own script; without --app or --artifact, the app the sandbox was brought up with.",
        "options:",
        "  --app <dir>            your app's directory: built here with the stack's app.installCommand and app.buildCommand",
        "  --artifact <file.tgz>  a release artifact built elsewhere (a tar.gz of app.artifactPaths)",
        "  --unhealthy            ship the bundled example app built so that its /health answers 503, to watch the health gate switch back (the example app only: not with --app, --artifact or a sandbox brought up with your app)",
        "  --stack <name>         your stack file Pulumi.<name>.yaml in the current directory (later verbs: the one the sandbox is up with)",
        "  --config <file>        your stack file at any path (later verbs: the one the sandbox is up with)",
        "  --help                 print this help",
      ].join("\n"),
    );
    expect(verbUsage("restore")).toBe(
      [
        "usage: npm run sandbox -- restore <backup-id> [--confirm]",
        "Restore a backup (see backups) on the first host with the restore workflow's own script (backup.restoreCommand). Refused unless maintenance mode is on or --confirm is given.",
        "options:",
        "  --confirm        restore even though maintenance mode is off (the app keeps serving while its database is replaced)",
        "  --stack <name>   your stack file Pulumi.<name>.yaml in the current directory (later verbs: the one the sandbox is up with)",
        "  --config <file>  your stack file at any path (later verbs: the one the sandbox is up with)",
        "  --help           print this help",
      ].join("\n"),
    );
    expect(verbUsage("down")).toBe(
      [
        "usage: npm run sandbox -- down",
        "Destroy the hosts and the sandbox's state; nothing is left behind.",
        "options:",
        "  --help  print this help",
      ].join("\n"),
    );
  });
});

describe("parseSandboxCommand", () => {
  it("answers --help with the usage, alone and before or after a verb", () => {
    expect(parseSandboxCommand(["--help"])).toEqual({ kind: "help", text: sandboxUsage() });
    for (const verb of VERBS) {
      expect(parseSandboxCommand([verb, "--help"])).toEqual({ kind: "help", text: verbUsage(verb) });
      expect(parseSandboxCommand(["--help", verb])).toEqual({ kind: "help", text: verbUsage(verb) });
    }
    expect(parseSandboxCommand(["deploy", "--app", "../my-app", "--help"])).toEqual({
      kind: "help",
      text: verbUsage("deploy"),
    });
  });

  it("takes each verb with the options it lists", () => {
    expect(
      parseSandboxCommand([
        "up",
        "--hosts",
        "2",
        "--config",
        "stack.yaml",
        "--app",
        "../a",
        "--env-file",
        ".env",
      ]),
    ).toEqual({
      kind: "run",
      verb: "up",
      options: {
        unhealthy: false,
        confirm: false,
        hosts: "2",
        config: "stack.yaml",
        app: "../a",
        "env-file": ".env",
      },
    });
    expect(parseSandboxCommand(["deploy", "--unhealthy"])).toEqual({
      kind: "run",
      verb: "deploy",
      options: { unhealthy: true, confirm: false },
    });
    expect(parseSandboxCommand(["rollback", "20261122140501-1a2b3c4", "--stack", "fastify"])).toEqual({
      kind: "run",
      verb: "rollback",
      argument: "20261122140501-1a2b3c4",
      options: { unhealthy: false, confirm: false, stack: "fastify" },
    });
  });

  it("takes what a team does next: shell, logs, backup, backups, restore, migrate, maintenance", () => {
    const run = (verb: string, options: object = {}, argument?: string) => ({
      kind: "run",
      verb,
      ...(argument !== undefined ? { argument } : {}),
      options: { unhealthy: false, confirm: false, ...options },
    });
    expect(parseSandboxCommand(["shell"])).toEqual(run("shell"));
    expect(parseSandboxCommand(["shell", "web-2"])).toEqual(run("shell", {}, "web-2"));
    expect(parseSandboxCommand(["logs", "--lines", "200"])).toEqual(run("logs", { lines: "200" }));
    expect(parseSandboxCommand(["backup"])).toEqual(run("backup"));
    expect(parseSandboxCommand(["backups", "--stack", "fastify"])).toEqual(
      run("backups", { stack: "fastify" }),
    );
    const id = "20261206192000-20261206191500-1a2b3c4d5e6f";
    expect(parseSandboxCommand(["restore", id])).toEqual(run("restore", {}, id));
    expect(parseSandboxCommand(["restore", id, "--confirm"])).toEqual(run("restore", { confirm: true }, id));
    expect(parseSandboxCommand(["migrate"])).toEqual(run("migrate"));
    for (const action of ["up", "down", "status"])
      expect(parseSandboxCommand(["migrate", action])).toEqual(run("migrate", {}, action));
    for (const mode of ["on", "off", "status"])
      expect(parseSandboxCommand(["maintenance", mode])).toEqual(run("maintenance", {}, mode));
  });

  it.each([
    [[], "no verb given", sandboxUsage()],
    [["launch"], "unknown verb launch", sandboxUsage()],
    [["deploy", "--bogus"], "deploy takes no option --bogus", verbUsage("deploy")],
    [["up", "--unhealthy"], "up takes no option --unhealthy", verbUsage("up")],
    [["down", "--app", "x"], "down takes no option --app", verbUsage("down")],
    [["status", "now"], "status takes no argument now", verbUsage("status")],
    [["rollback", "a", "b"], "rollback takes no argument b", verbUsage("rollback")],
    [["up", "--hosts"], "--hosts N needs a value", verbUsage("up")],
    [["deploy", "--unhealthy=yes"], "--unhealthy takes no value", verbUsage("deploy")],
    [["shell", "1", "id"], "shell takes no argument id", verbUsage("shell")],
    [["logs", "--lines"], "--lines N needs a value", verbUsage("logs")],
    [["logs", "--lines", "0"], "--lines takes a number from 1 to 10000, not 0", verbUsage("logs")],
    [["logs", "--lines", "ten"], "--lines takes a number from 1 to 10000, not ten", verbUsage("logs")],
    [["logs", "--lines", "10001"], "--lines takes a number from 1 to 10000, not 10001", verbUsage("logs")],
    [["status", "--lines", "5"], "status takes no option --lines", verbUsage("status")],
    [["backup", "now"], "backup takes no argument now", verbUsage("backup")],
    [["backups", "--confirm"], "backups takes no option --confirm", verbUsage("backups")],
    [["restore"], "restore needs <backup-id>", verbUsage("restore")],
    [["restore", "--confirm"], "restore needs <backup-id>", verbUsage("restore")],
    [
      ["restore", "20261206192000-1a2b3c4"],
      "restore: 20261206192000-1a2b3c4 is not a backup id (YYYYMMDDhhmmss-<release-id>, as backups lists them)",
      verbUsage("restore"),
    ],
    [["migrate", "sideways"], "migrate takes up|down|status, not sideways", verbUsage("migrate")],
    [["migrate", "up", "now"], "migrate takes no argument now", verbUsage("migrate")],
    [["maintenance"], "maintenance needs on|off|status", verbUsage("maintenance")],
    [["maintenance", "yes"], "maintenance takes on|off|status, not yes", verbUsage("maintenance")],
    [["deploy", "--confirm"], "deploy takes no option --confirm", verbUsage("deploy")],
  ])("refuses %j: %s, then the usage", (args, problem, usage) => {
    expect(refusal(args)).toBe(`${problem}\n${usage}`);
  });
});

describe("npm run sandbox -- --help", () => {
  // The command itself (tsx, as npm run sandbox starts it): help needs neither root nor a sandbox.
  const run = (args: string[]) =>
    spawnSync(join(__dirname, "../../node_modules/.bin/tsx"), ["src/cli/sandbox.ts", ...args], {
      cwd: join(__dirname, "../.."),
      encoding: "utf8",
      env: { ...process.env, PIPELINE_SANDBOX_DIR: "/nonexistent/sandbox-state" },
    });

  it("prints the usage and exits 0, for the command and for a verb", () => {
    const all = run(["--help"]);
    expect(all.status).toBe(0);
    expect(all.stdout).toBe(`${sandboxUsage()}\n`);
    const rollback = run(["rollback", "--help"]);
    expect(rollback.status).toBe(0);
    expect(rollback.stdout).toBe(`${verbUsage("rollback")}\n`);
  });

  it("exits 1 with the problem and the usage on stderr for an unknown option", () => {
    const result = run(["status", "--verbose"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`status takes no option --verbose\n${verbUsage("status")}\n`);
  });
});

describe("the README's sandbox section", () => {
  it("shows every verb", () => {
    const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("## A local VPS to play with (sandbox)"),
      readme.indexOf("## Use it for your app"),
    );
    for (const verb of VERBS) expect(section).toMatch(new RegExp(`npm run sandbox -- ${verb}\\b`));
  });
});
