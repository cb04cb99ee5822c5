// What the sandbox deploys: the example app (built here, optionally unhealthy), a user's app directory (built
// with the stack's own commands) or an artifact built elsewhere.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { PipelineConfig } from "../config/types";
import { AppProblem, buildAppArtifact, checkArtifact, requireLockfile } from "./appBuild";
import { buildArtifact } from "./artifact";

export type ReleaseSource =
  { kind: "example"; unhealthy: boolean } | { kind: "app"; dir: string } | { kind: "artifact"; file: string };

/** Why `--unhealthy` goes with the example app only. */
export const UNHEALTHY_EXAMPLE_ONLY =
  "--unhealthy ships the bundled example app built so that its /health answers 503 (to watch the health gate switch back): it works only with the example app, not with --app or --artifact, nor in a sandbox brought up with your own app. To watch the gate with your app, deploy a version of it whose health path fails.";

interface SourceOptions {
  app?: string | undefined;
  artifact?: string | undefined;
  unhealthy?: boolean | undefined;
}

/** Checks what can be checked before any host exists (the app has a lockfile, the artifact is there). */
export function releaseSourceOf(options: SourceOptions): ReleaseSource {
  if (options.app !== undefined && options.artifact !== undefined)
    throw new AppProblem("give --app <dir> or --artifact <file.tgz>, not both");
  if (options.unhealthy === true && (options.app !== undefined || options.artifact !== undefined))
    throw new AppProblem(UNHEALTHY_EXAMPLE_ONLY);
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

/**
 * What `deploy` ships: --app or --artifact when given; else the app the sandbox was brought up with (`upWith`), which
 * must be rebuildable (an app directory, not an artifact); else the example app.
 */
export function deploySourceOf(
  upWith: { appDir?: string | undefined; stackFile?: string | undefined },
  options: SourceOptions,
): ReleaseSource {
  if (options.app !== undefined || options.artifact !== undefined) return releaseSourceOf(options);
  if (upWith.appDir === undefined && upWith.stackFile === undefined)
    return releaseSourceOf({ unhealthy: options.unhealthy });
  if (options.unhealthy === true) throw new AppProblem(UNHEALTHY_EXAMPLE_ONLY);
  if (upWith.appDir !== undefined) return releaseSourceOf({ app: upWith.appDir });
  throw new AppProblem("deploy: give --app <dir> or --artifact <file.tgz>");
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
