import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts a command and collects both output streams; the caller owns its stdin. */
export function spawnCollecting(
  command: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
  cwd?: string,
): { child: ChildProcessWithoutNullStreams; result: Promise<ScriptResult> } {
  const child = spawn(command, args, {
    stdio: ["pipe", "pipe", "pipe"],
    ...(env ? { env } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
  });
  child.stdin.on("error", () => undefined); // the command may exit (or be killed) without reading its input
  const result = new Promise<ScriptResult>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, result };
}

/** Runs a command to completion with `stdin` as its whole input. */
export function runCollecting(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: Buffer | string; cwd?: string } = {},
): Promise<ScriptResult> {
  const { child, result } = spawnCollecting(command, args, options.env, options.cwd);
  child.stdin.end(options.stdin ?? "");
  return result;
}

/** Calls `onLine` with each complete line of stdout and stderr as it arrives (the last one even without "\n"). */
function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = "";
  stream.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) onLine(line);
  });
  stream.on("end", () => {
    if (partial !== "") onLine(partial);
  });
}

/** runCollecting() that also hands every output line to `onLine` the moment it is complete, in arrival order. */
export function runStreaming(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: Buffer | string; onLine: (line: string) => void },
): Promise<ScriptResult> {
  const { child, result } = spawnCollecting(command, args, options.env);
  forEachLine(child.stdout, options.onLine);
  forEachLine(child.stderr, options.onLine);
  child.stdin.end(options.stdin ?? "");
  return result;
}
