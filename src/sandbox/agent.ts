// Calls the release agent over SSH with the CI deploy key, the way the workflows do.
import type { HostHandle } from "../testhost";
import { sshCommandLineArgs } from "../testhost";
import { runCollecting, type ScriptResult } from "./childProcess";
import type { RunnerFiles } from "./runnerScripts";

export function callAgent(
  host: Pick<HostHandle, "address" | "port">,
  deployUser: string,
  files: RunnerFiles,
  command: string,
  stdin?: Buffer | string,
): Promise<ScriptResult> {
  const args = [
    "-F",
    "none",
    "-T",
    ...sshCommandLineArgs(host, files.keyFile, files.knownHostsFile, deployUser),
    command,
  ];
  return runCollecting("ssh", args, stdin !== undefined ? { stdin } : {});
}
