// Where the engine install keeps what it builds: outside the repository, reused by every later run.
import os from "node:os";
import path from "node:path";

/** Repository root (this file is src/engine/paths.ts). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The project's Go build module: it requires each buildable piece and restates its replace directives. */
export const BUILD_MODULE_DIR = path.join(REPO_ROOT, "engine");

export function engineHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env["PIPELINE_ENGINE_HOME"]) return path.resolve(env["PIPELINE_ENGINE_HOME"]);
  const cache = env["XDG_CACHE_HOME"]
    ? path.resolve(env["XDG_CACHE_HOME"])
    : path.join(os.homedir(), ".cache");
  return path.join(cache, "pipeline-engine");
}

export interface EngineLayout {
  /** The CLI and the language host: the CLI finds `pulumi-language-nodejs` beside itself. */
  binDir: string;
  /** Built resource plugins before `pulumi plugin install` copies them into pulumiHome. */
  pluginBuildDir: string;
  /** PULUMI_HOME of every engine run: its plugins/ holds what `pulumi plugin install --file` installed. */
  pulumiHome: string;
  /** What the last install found, piece by piece (read by the engine tests). */
  reportFile: string;
}

export function engineLayout(home: string = engineHome()): EngineLayout {
  return {
    binDir: path.join(home, "bin"),
    pluginBuildDir: path.join(home, "plugin-builds"),
    pulumiHome: path.join(home, "pulumi-home"),
    reportFile: path.join(home, "install-report.json"),
  };
}

export const binaryName = (piece: { kind: string; name: string }): string =>
  piece.kind === "cli"
    ? "pulumi"
    : piece.kind === "language"
      ? `pulumi-language-${piece.name}`
      : `pulumi-resource-${piece.name}`;
