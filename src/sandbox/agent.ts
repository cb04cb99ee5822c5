// Calls the release agent over SSH with the CI deploy key, the way the workflows do.
import { spawn } from "node:child_process";
import type { HostHandle } from "../testhost";
import { sshCommandLineArgs } from "../testhost";
import type { ScriptResult } from "./workflowScripts";
import type { RunnerFiles } from "./workflowScripts";

export function callAgent(
  host: Pick<HostHandle, "address" | "port">,
  deployUser: string,
  files: RunnerFiles,
  command: string,
  stdin?: Buffer | string,
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const args = [
      "-F",
      "none",
      "-T",
      ...sshCommandLineArgs(host, files.keyFile, files.knownHostsFile, deployUser),
      command,
    ];
    const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}
