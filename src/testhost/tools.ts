import { singleQuote } from "../primitives/shellQuote";
import { run } from "./command";
import { REQUIRED_COMMANDS } from "./requirements";

async function isOnPath(command: string): Promise<boolean> {
  try {
    await run("sh", ["-c", `command -v ${singleQuote(command)}`]);
    return true;
  } catch {
    return false;
  }
}

async function missingPackages(): Promise<string[]> {
  const missing = new Set<string>();
  for (const [command, aptPackage] of Object.entries(REQUIRED_COMMANDS)) {
    if (!(await isOnPath(command))) missing.add(aptPackage);
  }
  return [...missing];
}

/** Installs the Debian packages of any missing tool, or fails naming them. Needs root on Debian. */
export async function ensureRequiredTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("disposable hosts need root (namespaces, mounts, veth)");
  const missing = await missingPackages();
  if (missing.length === 0) return;
  try {
    // Another process may hold the dpkg lock (a parallel install): wait for it rather than fail.
    await run("apt-get", ["install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", ...missing], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch (error) {
    throw new Error(
      `missing tools for disposable hosts; install them with \`apt-get install -y ${missing.join(" ")}\`: ${String(error)}`,
      { cause: error },
    );
  }
  const stillMissing = await missingPackages();
  if (stillMissing.length > 0) {
    throw new Error(`\`apt-get install ${stillMissing.join(" ")}\` did not provide the needed commands`);
  }
}
