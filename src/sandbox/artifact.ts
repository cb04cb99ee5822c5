// Builds the example app and packs it the way the deploy workflow's build job does.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { PipelineConfig } from "../config/types";
import { PACK_EXCLUDES } from "../render/artifactPack";

export const EXAMPLE_APP_DIR = resolve(__dirname, "../../example-app");

export interface ArtifactOptions {
  /** false builds a release whose /health answers 503. */
  healthy?: boolean;
  /** Builds a release whose /health answers 503 on a host where the app's environment sets this variable. */
  unhealthyWhenEnv?: string;
  /** Stamped into the build, answered by GET /. */
  label: string;
}

/** Returns the path of a tar.gz holding config.app.artifactPaths of a fresh build. */
export function buildArtifact(
  config: PipelineConfig,
  options: ArtifactOptions,
  outDir = mkdtempSync(join(tmpdir(), "artifact-")),
): string {
  const work = mkdtempSync(join(tmpdir(), "example-app-"));
  try {
    cpSync(EXAMPLE_APP_DIR, work, { recursive: true, filter: (src) => !/node_modules|\/dist$/.test(src) });
    execFileSync(process.execPath, ["build.js"], {
      cwd: work,
      env: {
        ...process.env,
        HEALTHY: options.healthy === false ? "false" : "true",
        BUILD_LABEL: options.label,
        UNHEALTHY_WHEN_ENV: options.unhealthyWhenEnv ?? "",
      },
    });
    const artifact = join(outDir, `${options.label}.tgz`);
    execFileSync("tar", [...PACK_EXCLUDES, "-czf", artifact, "--", ...config.app.artifactPaths], {
      cwd: work,
    });
    return artifact;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let sequence = 0;
/** A release id in the format the agent accepts, increasing within a process. */
export function newReleaseId(now = new Date()): string {
  const stamp = new Date(now.getTime() + sequence++ * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const commit = Math.floor(Math.random() * 0xffffffffffff)
    .toString(16)
    .padStart(12, "0");
  return `${stamp}-${commit}`;
}
