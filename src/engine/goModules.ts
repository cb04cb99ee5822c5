// The go command as the engine install uses it: modules from the machine's Go module proxy only, Go's own parsers.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** The module proxies of the machine's Go configuration (`go env GOPROXY`), without `direct` and `off`. */
function configuredProxies(): string[] {
  const value = execFileSync("go", ["env", "GOPROXY"], {
    encoding: "utf8",
    env: { ...process.env, GOTOOLCHAIN: "local" },
  }).trim();
  return value.split(/[,|]/).filter((entry) => /^(https?|file):/.test(entry));
}

/**
 * Modules from the machine's module proxies only (never `direct` from a VCS host), no toolchain download (the
 * machine's Go builds every pinned module), go.sum filled in from the checksum database where the build
 * module's go.sum lacks a line (-mod=mod), no VCS stamping.
 */
export function goEnvironment(): NodeJS.ProcessEnv {
  const proxies = configuredProxies();
  if (proxies.length === 0)
    throw new Error(
      "go env GOPROXY names no module proxy: the engine is built from the Go module proxy only",
    );
  return {
    ...process.env,
    GOPROXY: proxies.join(","),
    GOTOOLCHAIN: "local",
    GOFLAGS: "-mod=mod -buildvcs=false",
  };
}

/** Replaces the proxy's address in a go command's message by "$GOPROXY" (messages end up in notes and logs). */
export function withoutProxyAddress(
  message: string,
  proxies: readonly string[] = configuredProxies(),
): string {
  return proxies.reduce((text, proxy) => text.split(proxy).join("$GOPROXY"), message);
}

export type ModuleProbe = { served: true; goModFile: string } | { served: false; reason: string };

interface DownloadJson {
  GoMod?: string;
  Error?: string;
}

/** Asks the module proxy for module@version (`go mod download`, outside any module): its go.mod, or why not. */
export function probeModule(module: string, version: string): ModuleProbe {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "pipeline-engine-probe-"));
  try {
    let output: string;
    try {
      output = execFileSync("go", ["mod", "download", "-json", `${module}@v${version}`], {
        cwd: scratch,
        encoding: "utf8",
        env: goEnvironment(),
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? "");
    }
    const answer = (output.trim() === "" ? {} : JSON.parse(output)) as DownloadJson;
    if (answer.GoMod && !answer.Error) return { served: true, goModFile: answer.GoMod };
    const reason = (answer.Error ?? "go mod download printed nothing").replace(/\s*\n\s*/g, "; ");
    return { served: false, reason: withoutProxyAddress(reason) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface ModuleReplace {
  from: string;
  to: string;
  /** The target's version; none for a local path (`=> ../sdk`). */
  toVersion?: string;
}

export interface GoModSummary {
  module: string;
  requires: ReadonlyMap<string, string>;
  replaces: readonly ModuleReplace[];
}

interface GoModJson {
  Module: { Path: string };
  Require?: { Path: string; Version: string }[] | null;
  Replace?: { Old: { Path: string }; New: { Path: string; Version?: string } }[] | null;
}

/** go.mod as Go itself parses it (`go mod edit -json`). */
export function readGoMod(goModFile: string): GoModSummary {
  const parsed = JSON.parse(
    execFileSync("go", ["mod", "edit", "-json", goModFile], { encoding: "utf8", env: goEnvironment() }),
  ) as GoModJson;
  return {
    module: parsed.Module.Path,
    requires: new Map((parsed.Require ?? []).map((r) => [r.Path, r.Version.replace(/^v/, "")])),
    replaces: (parsed.Replace ?? []).map((r) => ({
      from: r.Old.Path,
      to: r.New.Path,
      ...(r.New.Version ? { toVersion: r.New.Version } : {}),
    })),
  };
}

/**
 * What a dependent module must state for `moduleGoMod` to build as its authors built it: Go applies replace
 * directives of the main module only. A local replace (`=> ../sdk`) is satisfied when the build module requires
 * the replaced module at the same version; any other local one points into the authors' checkout (an upstream
 * submodule, patched sources) and cannot be restated from the module proxy.
 */
export function missingReplaces(
  moduleGoMod: GoModSummary,
  pieceVersion: string,
  buildModule: GoModSummary,
): string[] {
  const problems: string[] = [];
  for (const replace of moduleGoMod.replaces) {
    if (replace.toVersion === undefined) {
      if (buildModule.requires.get(replace.from) !== pieceVersion)
        problems.push(
          `${moduleGoMod.module} replaces ${replace.from} with the local path ${replace.to}: require ${replace.from} v${pieceVersion} in the build module, or it cannot be built from the module proxy`,
        );
      continue;
    }
    const stated = buildModule.replaces.find((r) => r.from === replace.from);
    if (!stated || stated.to !== replace.to || stated.toVersion !== replace.toVersion)
      problems.push(
        `${moduleGoMod.module} replaces ${replace.from} => ${replace.to} ${replace.toVersion}: state the same replace in the build module`,
      );
  }
  return problems;
}
