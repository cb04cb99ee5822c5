// How the release agent runs a deploy's migrations (agent/runner.sh): the default command's script with Node's own
// runner (node --run) where that does what pnpm would, with pnpm where the app relies on what only pnpm does.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../../src/config/types";
import { AgentSandbox, UNPRIVILEGED_ID, shellQuote } from "./agentHarness";
import { staging } from "./fixtures";

const sandboxes: AgentSandbox[] = [];
afterEach(() => {
  for (const box of sandboxes.splice(0)) box.dispose();
});

function sandbox(config: PipelineConfig = staging): AgentSandbox {
  const box = new AgentSandbox(config);
  sandboxes.push(box);
  return box;
}

const MIGRATE = { migrate: "knex migrate:latest" };

/** A release directory holding package.json (and any other files), owned by the user the agent runs as. */
function release(box: AgentSandbox, packageJson: object, files: Record<string, string> = {}): string {
  const dir = box.path("RELEASES_DIR", "next");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "app", ...packageJson }));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  if (process.getuid?.() === 0) spawnSync("chown", ["-R", `${UNPRIVILEGED_ID}:${UNPRIVILEGED_ID}`, dir]);
  return dir;
}

/**
 * run_migrations with the release's Node reported as `nodeVersion` (the test machine's own Node may be older than
 * node --run). `node --run` is recorded, like the pnpm shim's calls, instead of run: which command the agent chose
 * is what these tests read (the host tests run both for real).
 */
function migrate(box: AgentSandbox, dir: string, nodeVersion = "26.1.0"): { calls: string[]; log: string } {
  const result = box.run(
    [
      `read_release_facts ${shellQuote(dir)}`,
      `RELEASE_NODE_VERSION=${nodeVersion}`,
      `node() { if [ "$1" = --run ]; then printf 'node %s\\n' "$*" >>${shellQuote(box.stubLog)}; else command node "$@"; fi; }`,
      "export -f node",
      `run_migrations ${shellQuote(dir)} next`,
    ].join("\n"),
  );
  expect(result.status, result.stderr).toBe(0);
  return {
    calls: box.stubCalls().filter((c) => /^(node|pnpm) /.test(c)),
    log: result.stderr
      .split("\n")
      .filter((l) => l.startsWith("release-agent: migrations: "))
      .join("\n"),
  };
}

describe("run_migrations with the default migrate command", () => {
  it("runs the script with node --run and says so, on a Node that has it", () => {
    const box = sandbox();
    expect(migrate(box, release(box, { scripts: MIGRATE }))).toEqual({
      calls: ["node --run migrate"],
      log: "release-agent: migrations: node --run migrate (Node 26.1.0, no premigrate or postmigrate script)",
    });
  });

  it("fails when the script fails under node --run (the deploy stops before the switch)", () => {
    const box = sandbox();
    const dir = release(box, { scripts: MIGRATE });
    const result = box.run(
      [
        `read_release_facts ${shellQuote(dir)}`,
        "RELEASE_NODE_VERSION=26.1.0",
        `node() { if [ "$1" = --run ]; then return 1; else command node "$@"; fi; }`,
        "export -f node",
        `if run_migrations ${shellQuote(dir)} next; then echo migrated; else echo "failed: $?"; fi`,
      ].join("\n"),
    );
    expect(result.stdout).toBe("failed: 1\n");
  });

  it.each([
    [
      "a premigrate script",
      { scripts: { premigrate: "node check.js", ...MIGRATE } },
      {},
      "package.json has a premigrate or postmigrate script, which only a package manager runs",
    ],
    [
      "a postmigrate script",
      { scripts: { ...MIGRATE, postmigrate: "node seed.js" } },
      {},
      "package.json has a premigrate or postmigrate script, which only a package manager runs",
    ],
    [
      "a script reading npm_ variables",
      { scripts: { migrate: "knex migrate:latest --env $npm_package_name" } },
      {},
      "the migrate script reads a variable only a package manager sets",
    ],
    [
      "an .npmrc",
      { scripts: MIGRATE },
      { ".npmrc": "node-options=--max-old-space-size=512\n" },
      "the release has pnpm settings (.npmrc or pnpm-workspace.yaml)",
    ],
    [
      "a pnpm-workspace.yaml",
      { scripts: MIGRATE },
      { "pnpm-workspace.yaml": "packages: []\n" },
      "the release has pnpm settings (.npmrc or pnpm-workspace.yaml)",
    ],
  ])("keeps pnpm for a release with %s", (_, packageJson, files, reason) => {
    const box = sandbox();
    expect(migrate(box, release(box, packageJson, files))).toEqual({
      calls: ["pnpm run --if-present migrate"],
      log: `release-agent: migrations: pnpm (${reason})`,
    });
  });

  it.each(["20.19.5", "22.2.0"])("keeps pnpm on Node %s", (version) => {
    const box = sandbox();
    expect(migrate(box, release(box, { scripts: MIGRATE }), version)).toEqual({
      calls: ["pnpm run --if-present migrate"],
      log: `release-agent: migrations: pnpm (Node ${version} has no node --run with node_modules/.bin on PATH (22.3+))`,
    });
  });

  it("runs the script the default form names (db:migrate), with node --run", () => {
    const box = sandbox({
      ...staging,
      app: { ...staging.app, migrateCommand: "pnpm run --if-present db:migrate" },
    });
    expect(migrate(box, release(box, { scripts: { "db:migrate": "knex migrate:latest" } })).calls).toEqual([
      "node --run db:migrate",
    ]);
  });

  it("runs any other command as configured (pnpm run without --if-present keeps pnpm)", () => {
    const box = sandbox({ ...staging, app: { ...staging.app, migrateCommand: "pnpm run migrate" } });
    expect(migrate(box, release(box, { scripts: MIGRATE }))).toEqual({
      calls: ["pnpm run migrate"],
      log: "release-agent: migrations: app.migrateCommand as configured",
    });
  });
});

describe("read_release_facts", () => {
  it("reports the Node that runs the scripts and the scripts that read a package manager's variables", () => {
    const box = sandbox();
    const dir = release(box, {
      scripts: { migrate: "knex migrate:latest", version: "echo $npm_package_version", cwd: "cd $INIT_CWD" },
    });
    const result = box.run(
      `read_release_facts ${shellQuote(dir)}; printf '%s|%s|%s\\n' "$RELEASE_NODE_VERSION" "$(node -p process.versions.node)" "$PACKAGE_MANAGER_SCRIPTS"`,
    );
    const [version, nodeOnPath, managerScripts] = result.stdout.replace(/\n$/, "").split("|");
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(version).toBe(nodeOnPath);
    expect(managerScripts).toBe(" version cwd ");
  });
});

describe("node_runs_scripts", () => {
  it.each([
    ["26.1.0", true],
    ["24.11.1", true],
    ["22.3.0", true],
    ["22.2.0", false],
    ["20.19.5", false],
    ["", false],
    ["garbage", false],
  ])("%s: %s", (version, runs) => {
    const box = sandbox();
    expect(box.run(`node_runs_scripts ${shellQuote(version)}`).status === 0).toBe(runs);
  });
});
