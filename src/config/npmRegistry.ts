import { execFileSync } from "node:child_process";

/** The registry configured on this machine: the default for hosts, never a name written in the repository. */
export function machineNpmRegistry(): string {
  const registry = execFileSync("npm", ["config", "get", "registry"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }).trim();
  if (!/^https:\/\//.test(registry)) {
    throw new Error(
      `npm config get registry printed '${registry}', which is not an https URL: the hosts would install packages as root from it (set pipeline:vps.npmRegistry to the https URL of the registry the hosts can reach, or npm config set registry <https URL>)`,
    );
  }
  return registry.endsWith("/") ? registry : `${registry}/`;
}
