// Side-by-side releases (deploy.strategy sideBySide): each release runs as its own pm2 app on one of two ports, and
// the proxy sends traffic to one of them. The two ports, the pm2 app of each and where the proxy's choice lives are
// defined here, for the agent, the proxy step, the upstream helper and the tests alike.
import type { PipelineConfig } from "../config/types";
import { appStateDir } from "./hostLayout";

type SlotConfig = Pick<PipelineConfig, "app">;

/** The two ports, in order: app.port (where the proxy sends requests by default) and app.port + 1. */
export function slotPorts(config: SlotConfig): readonly [number, number] {
  return [config.app.port, config.app.port + 1];
}

/** The pm2 app that runs the release on <port>: `<app.name>-<port>` (a placeholder in the agent's template). */
export function slotAppName(config: Pick<PipelineConfig, "app">, port: number | string): string {
  return `${config.app.name}-${port}`;
}

/**
 * Root-owned (0755): the proxy sends requests to the second port while the file named after that port exists here
 * (Caddy's file matcher looks on every request), else to app.port. Only the upstream helper writes it.
 */
export function upstreamDir(config: Pick<PipelineConfig, "app">): string {
  return `${appStateDir(config.app.name)}/upstream`;
}
