// The sandbox builds a user's app the way the deploy workflow's build job does; an app without a build step
// (app.buildCommand "") is packed from its checkout, without running anything.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppProblem, buildAppArtifact } from "../../src/sandbox/appBuild";
import { stagingConfig } from "../render/workflows/fixtures";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A Node app without a build: its source, package.json, the lockfile, and what a checkout may also hold. */
function sourceApp(): string {
  const app = scratch("no-build-app-");
  const files: Record<string, string> = {
    "package.json": JSON.stringify({ name: "hello", scripts: { start: "node server.js" } }),
    "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
    "server.js": "require('./src/routes');\n",
    "src/routes.js": "module.exports = {};\n",
    "migrations/001_init.js": "exports.up = () => {};\n",
    "node_modules/left-pad/index.js": "module.exports = 1;\n",
    "src/node_modules/local/index.js": "module.exports = 2;\n",
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(app, path, ".."), { recursive: true });
    writeFileSync(join(app, path), content);
  }
  execFileSync("git", ["init", "-q", app]);
  return app;
}

const listing = (artifact: string) =>
  execFileSync("tar", ["-tzf", artifact], { encoding: "utf8" })
    .split("\n")
    .filter((name) => name !== "" && !name.endsWith("/"))
    .sort();

describe("buildAppArtifact of an app without a build step", () => {
  const config = stagingConfig({ app: { name: "hello", buildCommand: "", startScript: "server.js" } });

  it("packs the checkout (source, package.json, lockfile) without node_modules or .git, running nothing", () => {
    // installCommand would fail if it ran: an app without a build installs nothing here, as in CI.
    const failing = { ...config, app: { ...config.app, installCommand: "exit 9" } };
    const artifact = buildAppArtifact(failing, sourceApp(), "r1", scratch("artifact-"));
    expect(listing(artifact)).toEqual([
      "./migrations/001_init.js",
      "./package.json",
      "./pnpm-lock.yaml",
      "./server.js",
      "./src/routes.js",
    ]);
  });

  it("packs only what app.artifactPaths lists when it is set, and names a path the app lacks", () => {
    const app = sourceApp();
    const listed = {
      ...config,
      app: { ...config.app, artifactPaths: ["server.js", "src", "package.json", "pnpm-lock.yaml"] },
    };
    expect(listing(buildAppArtifact(listed, app, "r2", scratch("artifact-")))).toEqual([
      "package.json",
      "pnpm-lock.yaml",
      "server.js",
      "src/routes.js",
    ]);
    const missing = { ...config, app: { ...config.app, artifactPaths: ["dist", "package.json"] } };
    expect(() => buildAppArtifact(missing, app, "r3", scratch("artifact-"))).toThrow(
      new AppProblem(
        "the app has no dist, which app.artifactPaths lists (app.buildCommand is empty: nothing is built; fix the paths in app.artifactPaths)",
      ),
    );
  });
});
