// `shell [<host>]`: OpenSSH as root (the admin user the sandbox provisions with) on a local host, with the root key
// of the host's handle and its pinned host key, on this terminal. Without a terminal on stdin it runs what it reads.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { type HostHandle, sshCommandLineArgs, writeSshClientFiles } from "../testhost";

/**
 * The ssh arguments: a login shell with a terminal when stdin is one; else no terminal (-T) and `bash -l` as the
 * command, which reads stdin and, unlike a shell session, gets no message of the day mixed into its output.
 */
export function adminShellArgs(
  host: Pick<HostHandle, "address" | "port">,
  files: { keyFile: string; knownHostsFile: string },
  interactive: boolean,
): string[] {
  const ssh = sshCommandLineArgs(host, files.keyFile, files.knownHostsFile);
  return interactive ? ["-F", "none", "-t", ...ssh] : ["-F", "none", "-T", ...ssh, "bash", "-l"];
}

/** Runs the shell with this process's stdin, stdout and stderr; resolves to its exit code. */
export function adminShell(host: HostHandle, stateDir: string): Promise<number> {
  const files = writeSshClientFiles(host, stateDir);
  const interactive = process.stdin.isTTY === true;
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", adminShellArgs(host, files, interactive), { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      resolve(code ?? 128 + (signal !== null ? constants.signals[signal] : 0)),
    );
  });
}
