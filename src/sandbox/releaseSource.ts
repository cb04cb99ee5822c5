// What the sandbox deploys: the example app (built here, optionally unhealthy), a user's app directory (built
// with the stack's own commands) or an artifact built elsewhere.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { PipelineConfig } from "../config/types";
import { AppProblem, buildAppArtifact, checkArtifact, requireLockfile } from "./appBuild";
import { buildArtifact } from "./artifact";

export type ReleaseSource =
  { kind: "example"; unhealthy: boolean } | { kind: "app"; dir: string } | { kind: "artifact"; file: string };

/** Checks what can be checked before any host exists (the app has a lockfile, the artifact is there). */
export function releaseSourceOf(options: {
  app?: string | undefined;
  artifact?: string | undefined;
  unhealthy?: boolean | undefined;
}): ReleaseSource {
  if (options.app !== undefined && options.artifact !== undefined)
    throw new AppProblem("give --app <dir> or --artifact <file.tgz>, not both");
  if (options.app !== undefined) {
    const dir = resolve(options.app);
    requireLockfile(dir);
    return { kind: "app", dir };
  }
  if (options.artifact !== undefined) {
    const file = resolve(options.artifact);
    if (!existsSync(file)) throw new AppProblem(`${file}: no such artifact`);
    return { kind: "artifact", file };
  }
  return { kind: "example", unhealthy: options.unhealthy ?? false };
}

/** The tar.gz to ship as `releaseId`, checked the way the release agent will check it. */
export function releaseArtifact(config: PipelineConfig, source: ReleaseSource, releaseId: string): string {
  switch (source.kind) {
    case "example":
      return buildArtifact(config, { label: releaseId, healthy: !source.unhealthy });
    case "app":
      return buildAppArtifact(config, source.dir, releaseId);
    case "artifact":
      checkArtifact(config, source.file);
      return source.file;
  }
}
