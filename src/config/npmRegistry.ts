import { execFileSync } from "node:child_process";

/** The registry configured on this machine: the default for hosts, never a name written in the repository. */
export function machineNpmRegistry(): string {
  const registry = execFileSync("npm", ["config", "get", "registry"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }).trim();
  if (!/^https?:\/\//.test(registry)) {
    throw new Error(
      `npm config get registry printed '${registry}' (set pipeline:vps.npmRegistry to the registry URL the hosts can reach)`,
    );
  }
  return registry.endsWith("/") ? registry : `${registry}/`;
}
