import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { attempt } from "./attempt";

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

export function sleepSync(milliseconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function commandLineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** Pids whose command line contains these consecutive arguments (e.g. ["--name", "pipeline-th-3"]). */
export function pidsWithArguments(wanted: readonly string[]): number[] {
  const matches: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = commandLineOf(Number(entry));
    const at = argv.indexOf(wanted[0] ?? "");
    if (at >= 0 && wanted.every((argument, offset) => argv[at + offset] === argument))
      matches.push(Number(entry));
  }
  return matches;
}

/**
 * Starts a process that outlives this one: its own session, output to a log file, no stdin.
 * (Inherited pipes would keep execFile-style callers waiting forever.)
 */
export function spawnDetached(
  command: string,
  args: readonly string[],
  options: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): number {
  const log = openSync(options.logFile, "a");
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ["ignore", log, log],
      cwd: options.cwd,
      env: options.env,
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

function readsBanner(host: string, port: number, expectedPrefix: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2000, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("data", (data) => finish(data.toString("utf8").startsWith(expectedPrefix)));
    if (expectedPrefix === "") socket.once("connect", () => finish(true));
  });
}

/**
 * Polls until host:port accepts (and, with a prefix, greets with it). Stops early with the log's tail when the
 * process that should be listening has died.
 */
export async function waitForListener(
  target: { host: string; port: number; bannerPrefix?: string },
  owner: { pid: number; logFile: string; what: string },
  deadlineMs = 30_000,
): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (Date.now() < giveUpAt) {
    if (await readsBanner(target.host, target.port, target.bannerPrefix ?? "")) return;
    if (!isAlive(owner.pid)) break;
    await sleep(50);
  }
  const log = attempt(() => readFileSync(owner.logFile, "utf8").slice(-3000), "(no log)");
  throw new Error(
    `${owner.what} did not start listening on ${target.host}:${target.port}. Log ${owner.logFile}:\n${log}`,
  );
}
