import { describe, expect, it } from "vitest";
import { staging } from "../render/shell/fixtures";
import { MIB, appRssBytes, memAvailableBytes, pm2AppsMemory } from "../../bench/hostMemory";

const process = (name: string, pid: number, memory: number): object => ({
  name,
  pid,
  pm_id: pid,
  monit: { memory, cpu: 0 },
  pm2_env: { status: "online" },
});

describe("pm2AppsMemory", () => {
  it("sums the resident set of each app's processes, per app, sorted by name", () => {
    const jlist = JSON.stringify([
      process("example-app-3001", 11, 40 * MIB),
      process("example-app-3000", 12, 50 * MIB),
      process("example-app-3001", 13, 42 * MIB),
    ]);
    expect(pm2AppsMemory(jlist)).toEqual([
      { name: "example-app-3000", processes: 1, rssBytes: 50 * MIB },
      { name: "example-app-3001", processes: 2, rssBytes: 82 * MIB },
    ]);
  });

  it("reads the JSON line when pm2 printed notices before it", () => {
    const output = `>>>> In-memory PM2 is out-of-date, do:\n>>>> $ pm2 update\n${JSON.stringify([process("a", 1, 5)])}\n`;
    expect(pm2AppsMemory(output)).toEqual([{ name: "a", processes: 1, rssBytes: 5 }]);
  });

  it("is empty when pm2 runs no app", () => {
    expect(pm2AppsMemory("[]\n")).toEqual([]);
  });

  it("refuses output without a process list, or a process without its memory", () => {
    expect(() => pm2AppsMemory("[PM2] Spawning PM2 daemon\n")).toThrow(/no process list/);
    expect(() => pm2AppsMemory(JSON.stringify([{ name: "a", monit: {} }]))).toThrow(/monit.memory/);
  });
});

describe("memAvailableBytes", () => {
  it("is MemAvailable of /proc/meminfo, in bytes", () => {
    const meminfo =
      "MemTotal:        8000000 kB\nMemFree:          100000 kB\nMemAvailable:    4000000 kB\nBuffers: 1 kB\n";
    expect(memAvailableBytes(meminfo)).toBe(4_000_000 * 1024);
  });

  it("refuses a meminfo without it", () => {
    expect(() => memAvailableBytes("MemTotal: 1 kB\n")).toThrow(/MemAvailable/);
  });
});

describe("appRssBytes", () => {
  const { name, port } = staging.app;
  const app = (appName: string, rssBytes: number) => ({ name: appName, processes: 2, rssBytes });

  it("sums the stack's app: its in-place pm2 app and both release slots, not pm2's modules or other apps", () => {
    const apps = [
      app(name, 1),
      app(`${name}-${port}`, 10),
      app(`${name}-${port + 1}`, 100),
      app(`${name}-${port + 2}`, 1000),
      app("pm2-logrotate", 10000),
      app("other", 100000),
    ];
    expect(appRssBytes(apps, staging)).toBe(111);
  });
});
