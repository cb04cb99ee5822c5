// Builds a user's app the way the generated deploy workflow's build job does (checkout, the stack's
// app.installCommand, app.buildCommand, tar of app.artifactPaths; an app without a build step: checkout and tar),
// on this machine, and checks the artifact before anything is uploaded.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { hasBuildStep } from "../config/appSchema";
import type { PipelineConfig } from "../config/types";
import { PACK_EXCLUDES } from "../render/artifactPack";

/** A problem with the user's app or artifact, worded for the person running the sandbox. */
export class AppProblem extends Error {}

const LOCKFILE = "pnpm-lock.yaml";
const OTHER_LOCKFILES = ["package-lock.json", "npm-shrinkwrap.json", "yarn.lock"] as const;
/** This project's own pnpm (a devDependency) comes first on PATH, as the workflows' npm-installed pnpm does in CI. */
const OWN_BIN = resolve(__dirname, "../../node_modules/.bin");

export function requireLockfile(appDir: string): void {
  if (!existsSync(join(appDir, "package.json")))
    throw new AppProblem(`${appDir}: no package.json (--app takes the directory of a Node.js app)`);
  if (existsSync(join(appDir, LOCKFILE))) return;
  const other = OTHER_LOCKFILES.find((name) => existsSync(join(appDir, name)));
  throw new AppProblem(
    other
      ? `${appDir}: ${other} but no ${LOCKFILE}: the pipeline installs with pnpm (CI and the hosts run a frozen-lockfile install). Run 'pnpm import' in ${appDir} to make ${LOCKFILE} from ${other}, and commit it.`
      : `${appDir}: no ${LOCKFILE}: the pipeline installs with pnpm's frozen lockfile. Run 'pnpm install' in ${appDir} to make one, and commit it.`,
  );
}

/** The files a fresh checkout would hold: git's tracked and unignored files, or everything but node_modules. */
function copyCheckout(appDir: string, work: string): void {
  if (existsSync(join(appDir, ".git"))) {
    const listed = execFileSync("git", [
      "-C",
      appDir,
      "ls-files",
      "-z",
      "--cached",
      "--others",
      "--exclude-standard",
    ])
      .toString()
      .split("\0")
      .filter((file) => file !== "" && existsSync(join(appDir, file)));
    for (const file of listed) cpSync(join(appDir, file), join(work, file));
    return;
  }
  cpSync(appDir, work, { recursive: true, filter: (src) => !/(^|\/)(node_modules|\.git)(\/|$)/.test(src) });
}

function runBuildStep(what: string, command: string, cwd: string): void {
  const result = spawnSync("bash", ["-c", command], {
    cwd,
    env: { ...process.env, CI: "true", PATH: `${OWN_BIN}${delimiter}${process.env["PATH"] ?? ""}` },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.status === 0) return;
  const output = `${result.stdout}${result.stderr}`.trimEnd().split("\n").slice(-60).join("\n");
  throw new AppProblem(
    `the ${what} failed (${command}, exit ${result.status ?? result.signal}); its output:\n${output}`,
  );
}

/** Installs, builds and packs the app in a scratch copy; returns the tar.gz path. The app directory is not touched. */
export function buildAppArtifact(
  config: PipelineConfig,
  appDir: string,
  name: string,
  outDir = mkdtempSync(join(tmpdir(), "artifact-")),
): string {
  requireLockfile(appDir);
  const work = mkdtempSync(join(tmpdir(), "app-build-"));
  try {
    copyCheckout(appDir, work);
    const built = hasBuildStep(config.app);
    if (built) {
      runBuildStep("install (app.installCommand)", config.app.installCommand, work);
      runBuildStep("build (app.buildCommand)", config.app.buildCommand, work);
    }
    const missing = config.app.artifactPaths.filter((path) => !existsSync(join(work, path)));
    if (missing.length > 0)
      throw new AppProblem(
        built
          ? `the build left no ${missing.join(", ")}, which app.artifactPaths lists (fix the build, or the paths in app.artifactPaths)`
          : `the app has no ${missing.join(", ")}, which app.artifactPaths lists (app.buildCommand is empty: nothing is built; fix the paths in app.artifactPaths)`,
      );
    const artifact = join(outDir, `${name}.tgz`);
    execFileSync("tar", [...PACK_EXCLUDES, "-czf", artifact, "--", ...config.app.artifactPaths], {
      cwd: work,
    });
    checkArtifact(config, artifact);
    return artifact;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** What the release agent would refuse or fail on, found before the upload. */
export function checkArtifact(config: PipelineConfig, artifact: string): void {
  let listing: string;
  try {
    listing = execFileSync("tar", ["-tzf", artifact], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  } catch {
    throw new AppProblem(
      `${artifact}: not a gzip'd tar (the artifact is what the build job packs with tar -czf)`,
    );
  }
  const files = new Set(listing.split("\n").map((line) => line.replace(/^\.\//, "")));
  if (!files.has(config.app.startScript))
    throw new AppProblem(
      `the artifact has no ${config.app.startScript}, the file pm2 starts (app.startScript): point app.startScript at the app's entry file, or add its directory to app.artifactPaths (now: ${config.app.artifactPaths.join(", ")})`,
    );
  if (files.has("package.json") && !files.has(LOCKFILE))
    throw new AppProblem(
      `the artifact has package.json but no ${LOCKFILE}: the hosts install production dependencies from the lockfile; add ${LOCKFILE} to app.artifactPaths`,
    );
}
