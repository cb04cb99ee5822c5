// A stack's config pointed at local disposable hosts: what the host tests, the sandbox and the benchmark provision.
import { loadFromValues } from "../config/fromValues";
import type { PipelineConfig } from "../config/types";
import type { HostHandle } from "../testhost";

export const EXAMPLE_APP = {
  name: "example-app",
  port: 3000,
  healthPath: "/health",
  startScript: "dist/server.js",
};

/**
 * The url of a stack on local hosts: the first host's address over HTTPS, served by its proxy with Caddy's local CA
 * (which certifies IP addresses), so it works without DNS.
 */
export function localUrl(first: Pick<HostHandle, "address">): string {
  return `https://${first.address}`;
}

/** The example app on the given hosts; hosts reach Node and npm through their allow-list proxy. */
export function stackOnHosts(
  hosts: readonly HostHandle[],
  overrides: Record<string, unknown> = {},
  environment = "sandbox",
): PipelineConfig {
  const first = hosts[0];
  if (!first) throw new Error("stackOnHosts: no host");
  return loadFromValues(
    {
      repository: "example-app",
      environment,
      branch: "main",
      url: localUrl(first),
      hosts: hosts.map((h) => ({ host: h.address, port: h.port, hostKey: h.hostKey })),
      app: { ...EXAMPLE_APP, instances: 2, services: [] },
      deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 30 },
      vps: { nodeSource: "npm", npmRegistry: first.npmRegistry },
      // Caddy's local CA: the hosts have no public name for Let's Encrypt to check.
      ingress: { tls: "internal" },
      // The tests and the benchmark also reach the app on its own ports from this machine, past the proxy (both:
      // side-by-side releases alternate between app.port and the next one).
      firewall: { extraTcpPorts: [EXAMPLE_APP.port, EXAMPLE_APP.port + 1] },
      ...overrides,
    },
    "sandbox",
    { stack: environment, requireSecrets: false },
  ).config;
}
