// The memory a host's releases take: the resident set of every process of the stack's app under the deploy user's
// pm2 (pm2 jlist, as the deploy user), and the kernel's MemAvailable. The test hosts are namespaces of this machine: MemAvailable is the
// machine's, other work on it included.
import type { PipelineConfig } from "../src/config/types";
import { hostLayout } from "../src/render/hostLayout";
import { slotAppName, slotPorts } from "../src/render/releaseSlots";
import { pm2DaemonEnvironmentWords } from "../src/render/shell/pm2Daemon";
import { quote } from "../src/primitives/shellQuote";
import type { HostSession } from "../src/testhost";

/** One pm2 app: how many processes it runs and their resident set together. */
export interface AppMemory {
  name: string;
  processes: number;
  rssBytes: number;
}

export interface HostMemory {
  /** Every pm2 app, pm2's own modules (pm2-logrotate) included. */
  apps: AppMemory[];
  /** The resident sets of the stack's app together: its pm2 app, or both release slots' (appRssBytes). */
  rssBytes: number;
  memAvailableBytes: number;
}

export const MIB = 1024 * 1024;

/** Each pm2 app's processes and resident set, from `pm2 jlist` (its JSON line: pm2 may print notices before it). */
export function pm2AppsMemory(jlistOutput: string): AppMemory[] {
  const list = jlistOutput
    .split("\n")
    .reverse()
    .map(jsonList)
    .find((l) => l !== null);
  if (list === undefined)
    throw new Error(`pm2 jlist printed no process list:\n${jlistOutput.slice(0, 2000)}`);
  const apps = new Map<string, AppMemory>();
  for (const entry of list) {
    const { name, memory } = processFields(entry);
    const app = apps.get(name) ?? { name, processes: 0, rssBytes: 0 };
    app.processes++;
    app.rssBytes += memory;
    apps.set(name, app);
  }
  return [...apps.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A line that is a JSON list; null for any other line (pm2's notices start with "[PM2]"). */
function jsonList(line: string): unknown[] | null {
  if (!line.trimStart().startsWith("[")) return null;
  try {
    const parsed: unknown = JSON.parse(line);
    return Array.isArray(parsed) ? (parsed as unknown[]) : null;
  } catch {
    return null;
  }
}

function processFields(entry: unknown): { name: string; memory: number } {
  if (typeof entry === "object" && entry !== null && "name" in entry && "monit" in entry) {
    const { name, monit } = entry;
    const memory =
      typeof monit === "object" && monit !== null && "memory" in monit ? monit.memory : undefined;
    if (typeof name === "string" && typeof memory === "number") return { name, memory };
  }
  throw new Error(
    `pm2 jlist: a process without name or monit.memory: ${JSON.stringify(entry).slice(0, 300)}`,
  );
}

/** The resident sets of the stack's app: the pm2 app `<app.name>` (in-place reload) and each slot's `<app.name>-<port>`. */
export function appRssBytes(apps: readonly AppMemory[], config: Pick<PipelineConfig, "app">): number {
  const names = new Set([config.app.name, ...slotPorts(config).map((port) => slotAppName(config, port))]);
  return apps.filter((app) => names.has(app.name)).reduce((sum, app) => sum + app.rssBytes, 0);
}

/** MemAvailable of /proc/meminfo, in bytes. */
export function memAvailableBytes(meminfo: string): number {
  const match = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo);
  if (!match?.[1]) throw new Error("/proc/meminfo has no MemAvailable line");
  return Number(match[1]) * 1024;
}

/** Reads both on the host (`session`: root). */
export async function hostMemory(session: HostSession, config: PipelineConfig): Promise<HostMemory> {
  const { home } = hostLayout(config);
  const jlist = await session.exec(
    `cd ${quote(home)} && runuser -u ${quote(config.deployUser)} -- env HOME=${quote(home)} ` +
      `PM2_HOME=${quote(`${home}/.pm2`)} PATH=/usr/local/bin:/usr/bin:/bin ${pm2DaemonEnvironmentWords()} pm2 jlist`,
  );
  if (jlist.code !== 0) throw new Error(`pm2 jlist failed (exit ${jlist.code}):\n${jlist.stderr}`);
  const meminfo = await session.exec("cat /proc/meminfo");
  const apps = pm2AppsMemory(jlist.stdout);
  return {
    apps,
    rssBytes: appRssBytes(apps, config),
    memAvailableBytes: memAvailableBytes(meminfo.stdout),
  };
}
