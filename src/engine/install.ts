// Builds each engine piece from the Go module proxy at its pinned version, or says precisely why it cannot.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { goEnvironment, missingReplaces, probeModule, readGoMod, withoutProxyAddress } from "./goModules";
import { BUILD_MODULE_DIR, type EngineLayout, binaryName } from "./engineLayout";
import type { EnginePiece } from "./pieces";

export type PieceStatus = "built" | "cached" | "unavailable" | "failed";

export interface PieceResult {
  name: string;
  kind: EnginePiece["kind"];
  module: string;
  version: string;
  status: PieceStatus;
  /** Where the binary is, for built and cached pieces. */
  binary?: string;
  seconds: number;
  /** Why a piece is unavailable or failed, word for word what Go or Pulumi answered. */
  reason?: string;
}

/** Version stamps are per binary: a piece is cached when its binary was built at this exact version. */
const stampOf = (binary: string): string => `${binary}.version`;

function isCached(binary: string, version: string): boolean {
  return (
    existsSync(binary) && existsSync(stampOf(binary)) && readFileSync(stampOf(binary), "utf8") === version
  );
}

function linkerFlags(piece: EnginePiece): string[] {
  return piece.versionPackage ? ["-ldflags", `-X ${piece.versionPackage}.Version=v${piece.version}`] : [];
}

/** Why the build module cannot build this piece as its authors do, or nothing. */
function buildModuleProblems(piece: EnginePiece, goModFile: string): string[] {
  const buildModule = readGoMod(path.join(BUILD_MODULE_DIR, "go.mod"));
  const required = buildModule.requires.get(piece.module);
  if (required !== piece.version)
    return [
      `engine/go.mod requires ${piece.module} ${required ? `v${required}` : "nowhere"}, not v${piece.version}: require it there (with the replace directives of its go.mod) and commit go.sum`,
    ];
  return missingReplaces(readGoMod(goModFile), piece.version, buildModule);
}

function build(piece: EnginePiece, binary: string): string | undefined {
  mkdirSync(path.dirname(binary), { recursive: true });
  const partial = `${binary}.partial`;
  const result = spawnSync(
    "go",
    ["build", "-trimpath", ...linkerFlags(piece), "-o", partial, piece.mainPackage],
    { cwd: BUILD_MODULE_DIR, env: goEnvironment(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  if (result.status !== 0) {
    const output = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-15).join("\n");
    return withoutProxyAddress(`go build ${piece.mainPackage} failed:\n${output}`);
  }
  renameSync(partial, binary);
  writeFileSync(stampOf(binary), piece.version);
  return undefined;
}

/** `pulumi plugin install resource <name> <version> --file <binary>`: the engine never downloads it. */
function installPlugin(
  piece: EnginePiece,
  binary: string,
  cli: string,
  layout: EngineLayout,
): string | undefined {
  try {
    execFileSync(cli, ["plugin", "install", "resource", piece.name, piece.version, "--file", binary], {
      env: { ...process.env, PULUMI_HOME: layout.pulumiHome, PULUMI_SKIP_UPDATE_CHECK: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return undefined;
  } catch (error) {
    return `pulumi plugin install resource ${piece.name} ${piece.version} failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`;
  }
}

export function installPiece(
  piece: EnginePiece,
  layout: EngineLayout,
  log: (line: string) => void,
): PieceResult {
  const started = Date.now();
  const dir = piece.kind === "resource" ? layout.pluginBuildDir : layout.binDir;
  const binary = path.join(dir, binaryName(piece));
  const result = (status: PieceStatus, extra: Partial<PieceResult> = {}): PieceResult => ({
    name: piece.name,
    kind: piece.kind,
    module: piece.module,
    version: piece.version,
    status,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ...extra,
  });

  if (isCached(binary, piece.version)) return result("cached", { binary });

  const probe = probeModule(piece.module, piece.version);
  if (!probe.served)
    return result("unavailable", { reason: `the Go module proxy does not serve it: ${probe.reason}` });
  const problems = buildModuleProblems(piece, probe.goModFile);
  if (problems.length > 0) return result("unavailable", { reason: problems.join("; ") });

  log(`engine: building ${piece.mainPackage} v${piece.version} (a cold Go cache takes minutes)`);
  const failure = build(piece, binary);
  if (failure) return result("failed", { reason: failure });
  return result("built", { binary });
}

/** Installs every piece (the CLI first: plugins are installed with it) and writes the report. */
export function installEngine(
  pieces: readonly EnginePiece[],
  layout: EngineLayout,
  log: (line: string) => void,
): PieceResult[] {
  const results: PieceResult[] = [];
  let cli: string | undefined;
  for (const piece of pieces) {
    let outcome = installPiece(piece, layout, log);
    if (piece.kind === "cli" && outcome.binary) cli = outcome.binary;
    if (piece.kind === "resource" && outcome.binary) {
      const failure = cli
        ? installPlugin(piece, outcome.binary, cli, layout)
        : "the Pulumi CLI is not built, so the plugin cannot be installed into PULUMI_HOME";
      if (failure) outcome = { ...outcome, status: "failed", reason: failure };
    }
    results.push(outcome);
  }
  mkdirSync(path.dirname(layout.reportFile), { recursive: true });
  writeFileSync(layout.reportFile, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}

export function describe(result: PieceResult): string {
  const what = `${result.kind} ${result.name} v${result.version} (${result.module})`;
  switch (result.status) {
    case "built":
      return `engine: built ${what} in ${result.seconds} s: ${result.binary}`;
    case "cached":
      return `engine: cached ${what}: ${result.binary}`;
    default:
      return `engine: ${result.status} ${what}: ${result.reason}`;
  }
}

/** The report of the last install, or none. */
export function readInstallReport(layout: EngineLayout): PieceResult[] | undefined {
  if (!existsSync(layout.reportFile)) return undefined;
  return JSON.parse(readFileSync(layout.reportFile, "utf8")) as PieceResult[];
}
