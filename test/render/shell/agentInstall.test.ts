// The release agent's install path: a release whose install inputs match the current release's copies that
// release's node_modules (a private copy, never hard links) instead of starting pnpm, and the default migrate
// command does not start pnpm for an app without a migrate script.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AgentSandbox, UNPRIVILEGED_ID } from "./agentHarness";
import { staging } from "./fixtures";

const PREVIOUS = "20260101000000-aaaaaaa";
const sandboxes: AgentSandbox[] = [];
afterEach(() => {
  for (const box of sandboxes.splice(0)) box.dispose();
});

function sandbox(): AgentSandbox {
  const box = new AgentSandbox(staging);
  sandboxes.push(box);
  return box;
}

const LOCKFILE = "lockfileVersion: '9.0'\n";
const PACKAGE = { name: "app", dependencies: { ms: "2.1.3" } };

/** Files the test writes belong to the user the agent runs as (the harness drops root). */
function ownedByAgent(path: string): void {
  if (process.getuid?.() === 0) spawnSync("chown", ["-R", `${UNPRIVILEGED_ID}:${UNPRIVILEGED_ID}`, path]);
}

/** Writes package.json and the lockfile into a release directory. */
function writeApp(dir: string, packageJson: object = PACKAGE, lockfile = LOCKFILE): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify(packageJson));
  writeFileSync(join(dir, "pnpm-lock.yaml"), lockfile);
  ownedByAgent(dir);
}

/**
 * The previous release as a deploy left it: installed (the pnpm stub installs nothing, so the test puts a module
 * in place) and stamped by install_dependencies.
 */
function installedPrevious(box: AgentSandbox): string {
  const previous = box.path("RELEASES_DIR", PREVIOUS);
  writeApp(previous);
  mkdirSync(join(previous, "node_modules", "ms"), { recursive: true });
  writeFileSync(join(previous, "node_modules", "ms", "index.js"), "module.exports = 1;\n");
  ownedByAgent(previous);
  const result = box.run(`install_dependencies ${JSON.stringify(previous)}`);
  expect(result.status, result.stderr).toBe(0);
  return previous;
}

function deployInstall(box: AgentSandbox, dir: string): { status: number | null; pnpmCalls: string[] } {
  const before = box.stubCalls().length;
  const result = box.run(`PREVIOUS=${PREVIOUS}; install_dependencies ${JSON.stringify(dir)}`);
  expect(result.status, result.stderr).toBe(0);
  return {
    status: result.status,
    pnpmCalls: box
      .stubCalls()
      .slice(before)
      .filter((c) => c.startsWith("pnpm ")),
  };
}

describe("install_dependencies", () => {
  it("stamps node_modules with the install inputs after pnpm installed them", () => {
    const box = sandbox();
    const previous = installedPrevious(box);
    expect(box.stubCalls().filter((c) => c.startsWith("pnpm install"))).toHaveLength(1);
    expect(readFileSync(join(previous, "node_modules", ".pipeline-install"), "utf8")).toMatch(
      /^[0-9a-f]{64}\n$/,
    );
  });

  it("asks pnpm for copies of its store's files, not hard links to them", () => {
    const box = sandbox();
    installedPrevious(box);
    expect(box.stubCalls().find((c) => c.startsWith("pnpm install"))).toContain(
      "--package-import-method=clone-or-copy",
    );
  });

  it("copies the current release's node_modules when the lockfile and package.json's settings are unchanged", () => {
    const box = sandbox();
    installedPrevious(box);
    const next = box.path("RELEASES_DIR", "next");
    writeApp(next, { ...PACKAGE, version: "2.0.0", scripts: { start: "node ." } });
    expect(deployInstall(box, next).pnpmCalls).toEqual([]);
    expect(readFileSync(join(next, "node_modules", "ms", "index.js"), "utf8")).toBe("module.exports = 1;\n");
  });

  it("the copy shares no file with the release it came from: writing into it leaves that release as it was", () => {
    const box = sandbox();
    const previous = installedPrevious(box);
    const next = box.path("RELEASES_DIR", "next");
    writeApp(next);
    deployInstall(box, next);
    const [old, copy] = [previous, next].map((dir) => join(dir, "node_modules", "ms", "index.js")) as [
      string,
      string,
    ];
    expect(statSync(copy).ino).not.toBe(statSync(old).ino);
    expect(statSync(old).nlink).toBe(1);
    // What the app (the same user) could do: make the file writable and write into it in place.
    const write = box.run(
      `chmod u+w ${JSON.stringify(copy)} && printf 'changed\\n' >${JSON.stringify(copy)}`,
    );
    expect(write.status, write.stderr).toBe(0);
    expect(readFileSync(old, "utf8")).toBe("module.exports = 1;\n");
  });

  const changes: [string, object, string][] = [
    ["the lockfile changed", PACKAGE, `${LOCKFILE}# another resolution\n`],
    ["a dependency's range changed", { ...PACKAGE, dependencies: { ms: "^2.1.3" } }, LOCKFILE],
    [
      "the dependencies allowed to build changed",
      { ...PACKAGE, pnpm: { onlyBuiltDependencies: [] } },
      LOCKFILE,
    ],
    [
      "the app's own postinstall script changed",
      { ...PACKAGE, scripts: { postinstall: "node scripts/setup.js" } },
      LOCKFILE,
    ],
  ];
  it.each(changes)("installs with pnpm when %s", (_, packageJson, lockfile) => {
    const box = sandbox();
    installedPrevious(box);
    const next = box.path("RELEASES_DIR", "next");
    writeApp(next, packageJson, lockfile);
    expect(deployInstall(box, next).pnpmCalls).toHaveLength(1);
  });

  it("installs with pnpm when the current release's node_modules carries no stamp (installed by an earlier agent)", () => {
    const box = sandbox();
    const previous = installedPrevious(box);
    const unstamped = box.run(`rm ${JSON.stringify(join(previous, "node_modules", ".pipeline-install"))}`);
    expect(unstamped.status).toBe(0);
    const next = box.path("RELEASES_DIR", "next");
    writeApp(next);
    expect(deployInstall(box, next).pnpmCalls).toHaveLength(1);
  });

  it("installs with pnpm when there is no lockfile to compare (and pnpm's frozen install reports it)", () => {
    const box = sandbox();
    installedPrevious(box);
    const next = box.path("RELEASES_DIR", "next");
    mkdirSync(next);
    writeFileSync(join(next, "package.json"), JSON.stringify(PACKAGE));
    ownedByAgent(next);
    expect(deployInstall(box, next).pnpmCalls).toHaveLength(1);
  });
});

describe("run_migrations", () => {
  const migrate = (packageJson: object): string[] => {
    const box = sandbox();
    const dir = box.path("RELEASES_DIR", "next");
    writeApp(dir, packageJson);
    // A Node without node --run (agentRunner.test.ts covers the runner): the command runs as configured.
    const result = box.run(
      `read_release_facts ${JSON.stringify(dir)}; RELEASE_NODE_VERSION=20.19.5; run_migrations ${JSON.stringify(dir)} next`,
    );
    expect(result.status, result.stderr).toBe(0);
    return box.stubCalls().filter((c) => c.startsWith("pnpm "));
  };

  it("does not start pnpm for the default migrate command when package.json defines no migrate script", () => {
    expect(migrate({ ...PACKAGE, scripts: { start: "node .", "migrate:status": "x" } })).toEqual([]);
    expect(migrate(PACKAGE)).toEqual([]);
  });

  it("runs the default migrate command when package.json defines the script", () => {
    expect(migrate({ ...PACKAGE, scripts: { migrate: "knex migrate:latest" } })).toEqual([
      "pnpm run --if-present migrate",
    ]);
  });
});
