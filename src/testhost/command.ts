import { execFile, execFileSync } from "node:child_process";

export interface CommandResult {
  stdout: string;
  stderr: string;
}

class CommandError extends Error {
  constructor(
    readonly commandLine: string,
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`\`${commandLine}\` failed (exit ${String(exitCode)}): ${stderr.trim().slice(-2000)}`);
  }
}

function describe(command: string, args: readonly string[]): string {
  return [command, ...args].join(" ");
}

/** Runs a program without a shell; rejects with its stderr when it exits non-zero. */
export function run(
  command: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { maxBuffer: 64 * 1024 * 1024, env: options.env, cwd: options.cwd },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code ?? null;
          reject(new CommandError(describe(command, args), code, `${stderr}${error.message}`));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like run(), but blocking: for cleanup in process exit handlers where nothing asynchronous runs. */
export function runSync(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const failure = error as { status?: number | null; stderr?: string };
    throw new CommandError(describe(command, args), failure.status ?? null, failure.stderr ?? String(error));
  }
}

/** Exit status instead of an exception, for probes ("does this exist?"). */
export function succeedsSync(command: string, args: readonly string[]): boolean {
  try {
    runSync(command, args);
    return true;
  } catch {
    return false;
  }
}
