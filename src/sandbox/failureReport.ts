// Explains a failed ship in the sandbox: for a release that never became healthy, the release agent's hint (what
// the health gate saw: an app that answers with an error, or nothing listening) and the app's last log lines on the
// host that failed (the ship script names it in its FAIL line).
import type { PipelineConfig } from "../config/types";
import { plainText } from "../primitives/plainText";
import { AGENT_EXIT } from "../render/agentProtocol";
import type { HostHandle } from "../testhost";
import { appLogTail } from "./appLogs";

const NEVER_HEALTHY: readonly number[] = [AGENT_EXIT.unhealthy, AGENT_EXIT.reloadFailed];

type HostEntry = Pick<HostHandle, "address" | "port">;

const isEntryOf = (entry: string, host: HostEntry) =>
  entry === host.address || entry === `${host.address}:${host.port}`;

/** The host of the ship script's `FAIL [i/n] <host[:port]>: ...` line. */
export function failedHost<Host extends HostEntry>(output: string, hosts: readonly Host[]): Host | undefined {
  const entry = /^FAIL \[\d+\/\d+\] (\S+):/m.exec(output)?.[1];
  if (entry === undefined) return undefined;
  return hosts.find((h) => isEntryOf(entry, h));
}

/** The last `release-agent: hint: ...` line of `host` in the ship script's output (lines prefixed `[host] `). */
export function agentHint(output: string, host: HostEntry): string | undefined {
  const hints = [...output.matchAll(/^\[(\S+)\] release-agent: hint: (.*)$/gm)].filter(
    (match) => match[1] !== undefined && isEntryOf(match[1], host),
  );
  return hints.at(-1)?.[2];
}

/** The report's text; `logs` is the tail of the app's logs on the host (printed as plain text, see plainText). */
export function neverHealthyText(
  config: PipelineConfig,
  host: HostEntry,
  output: string,
  logs: string,
): string {
  const seen =
    agentHint(output, host) ??
    `pm2 could not start it, or it did not answer ${config.app.healthPath} with 2xx within ${config.deploy.healthTimeoutSeconds}s (deploy.healthTimeoutSeconds)`;
  return [
    `the app never became healthy on ${host.address}: ${seen}. The previous release, if any, is serving again.`,
    `Last lines of the app's logs on ${host.address}:`,
    logs.split("\n").map(plainText).join("\n"),
  ].join("\n");
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
  return neverHealthyText(config, host, output, await appLogTail(host, config));
}
