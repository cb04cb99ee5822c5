// The sandbox's command line: --help for the command and every verb, and the refusals, before anything runs.
import { spawnSync } from "node:child_process";
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
      options: { unhealthy: false, hosts: "2", config: "stack.yaml", app: "../a", "env-file": ".env" },
    });
    expect(parseSandboxCommand(["deploy", "--unhealthy"])).toEqual({
      kind: "run",
      verb: "deploy",
      options: { unhealthy: true },
    });
    expect(parseSandboxCommand(["rollback", "20261122140501-1a2b3c4", "--stack", "fastify"])).toEqual({
      kind: "run",
      verb: "rollback",
      argument: "20261122140501-1a2b3c4",
      options: { unhealthy: false, stack: "fastify" },
    });
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
