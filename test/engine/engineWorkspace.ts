// A throwaway Pulumi workspace for the engine tests: the project's own Pulumi.yaml and stack files, a local file
// backend, passphrase secrets, the CLI the engine install built, and nothing ever downloaded.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCollecting, type ScriptResult } from "../../src/sandbox/childProcess";
import { engineLayout, REPO_ROOT } from "../../src/engine/engineLayout";
import { readInstallReport } from "../../src/engine/install";

export const PASSPHRASE = "engine-tests-only";

/** The CLI the last `npm run engine:install` built; the engine layer cannot run without it. */
export function installedCli(): string {
  const cli = readInstallReport(engineLayout())?.find((piece) => piece.kind === "cli")?.binary;
  if (!cli) throw new Error("the Pulumi CLI is not installed: run npm run engine:install first");
  return cli;
}

export interface ProgramRun {
  ok: boolean;
  changes?: Record<string, number>;
  error?: string;
  /** Everything the engine printed. */
  output: string;
}

export interface EngineWorkspace {
  dir: string;
  env: NodeJS.ProcessEnv;
  pulumi(args: readonly string[], stdin?: string): Promise<ScriptResult>;
  /** This repository's index.ts under the real engine (src/engine/runProgram.ts). */
  runProgram(operation: "preview" | "up" | "refresh" | "destroy", stack: string): Promise<ProgramRun>;
  stackFile(stack: string): string;
  dispose(): void;
}

export function createEngineWorkspace(
  stackFiles: readonly string[] = ["staging", "production"],
): EngineWorkspace {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pipeline-engine-"));
  for (const file of ["Pulumi.yaml", ...stackFiles.map((stack) => `Pulumi.${stack}.yaml`)])
    copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
  const layout = engineLayout();
  const cli = installedCli();
  mkdirSync(path.join(dir, ".state"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(cli)}:${process.env["PATH"] ?? ""}`,
    PULUMI_HOME: layout.pulumiHome,
    PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SELF_MANAGED_STATE_NO_LEGACY_WARNING: "true",
    NO_COLOR: "1",
  };
  return {
    dir,
    env,
    pulumi: (args, stdin) =>
      runCollecting(cli, [...args, "--non-interactive"], {
        env,
        cwd: dir,
        ...(stdin !== undefined ? { stdin } : {}),
      }),
    runProgram: async (operation, stack) => {
      const run = await runCollecting(
        path.join(REPO_ROOT, "node_modules", ".bin", "tsx"),
        [path.join(REPO_ROOT, "src", "engine", "runProgram.ts"), operation, dir, stack],
        { env, cwd: REPO_ROOT },
      );
      const lines = run.stdout.trimEnd().split("\n");
      const last = lines.pop() ?? "";
      const result = (last.startsWith("{") ? JSON.parse(last) : { ok: false, error: run.stderr }) as Omit<
        ProgramRun,
        "output"
      >;
      return { ...result, output: `${lines.join("\n")}\n${run.stderr}` };
    },
    stackFile: (stack) => readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8"),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function writeStackFile(workspace: EngineWorkspace, stack: string, text: string): void {
  writeFileSync(path.join(workspace.dir, `Pulumi.${stack}.yaml`), text);
}
