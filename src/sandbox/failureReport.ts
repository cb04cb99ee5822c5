// Explains a failed ship in the sandbox: for a release that never became healthy, the app's last log lines on the
// host that failed (the ship script names it in its FAIL line).
import type { PipelineConfig } from "../config/types";
import { AGENT_EXIT } from "../render/agentProtocol";
import type { HostHandle } from "../testhost";
import { appLogTail } from "./appLogs";

const NEVER_HEALTHY: readonly number[] = [AGENT_EXIT.unhealthy, AGENT_EXIT.reloadFailed];

/** The host of the ship script's `FAIL [i/n] <host[:port]>: ...` line. */
export function failedHost(output: string, hosts: readonly HostHandle[]): HostHandle | undefined {
  const entry = /^FAIL \[\d+\/\d+\] (\S+):/m.exec(output)?.[1];
  if (entry === undefined) return undefined;
  return hosts.find((h) => entry === h.address || entry === `${h.address}:${h.port}`);
}

export async function neverHealthyReport(
  config: PipelineConfig,
  hosts: readonly HostHandle[],
  code: number | null,
  output: string,
): Promise<string | undefined> {
  if (code === null || !NEVER_HEALTHY.includes(code)) return undefined;
  const host = failedHost(output, hosts);
  if (!host) return undefined;
  const logs = await appLogTail(host, config);
  return [
    `the app never became healthy on ${host.address}: GET http://127.0.0.1:${config.app.port}${config.app.healthPath} on the host did not answer 2xx within ${config.deploy.healthTimeoutSeconds}s (deploy.healthTimeoutSeconds).`,
    `Check that the app listens on the PORT it is given (app.port: ${config.app.port}) and answers app.healthPath (${config.app.healthPath}) with 2xx. The previous release, if any, is serving again.`,
    `Last lines of the app's logs on ${host.address}:`,
    logs,
  ].join("\n");
}
