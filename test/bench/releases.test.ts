import { describe, expect, it } from "vitest";
import { MIB } from "../../bench/hostMemory";
import type { HostMemory } from "../../bench/hostMemory";
import type { LoadCount } from "../../bench/load";
import type { OperationRun } from "../../bench/measure";
import {
  type ReleaseCase,
  type ReleasesBench,
  type StrategyBench,
  releasesReport,
  releasesRows,
} from "../../bench/releases";

function run(servingSeconds: number | null, load: Partial<LoadCount> = {}): OperationRun {
  return {
    ok: true,
    totalSeconds: 2,
    servingSeconds,
    firstSeenSeconds: servingSeconds,
    output: "",
    load: {
      sent: 100,
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      failed: 0,
      seconds: 5,
      errorKinds: {},
      answers: { GET: { received: 50, non2xx: 0 }, POST: { received: 50, non2xx: 0 } },
      builds: {},
      ...load,
    },
  };
}

function memory(rssMiB: number): HostMemory {
  return {
    apps: [{ name: "example-app", processes: 2, rssBytes: rssMiB * MIB }],
    rssBytes: rssMiB * MIB,
    memAvailableBytes: 4000 * MIB,
  };
}

function releaseCase(seconds: number, failed: number, unhealthyAnswers: number): ReleaseCase {
  return {
    app: "example-app",
    rate: 200,
    deploys: [run(seconds * 5), run(seconds * 4), run(seconds * 6, { failed })],
    rollbacks: [run(seconds), run(seconds * 2), run(seconds * 3)],
    unhealthy: {
      release: "bad",
      // Answers from the release that keeps serving ("good") are not the unhealthy release's.
      run: run(seconds, { builds: { bad: unhealthyAnswers, good: 900 } }),
    },
  };
}

function side(strategy: StrategyBench["strategy"], seconds: number, unhealthyAnswers: number): StrategyBench {
  return {
    strategy,
    // The first case is the timed one; the second (another app or rate) counts for failures and unhealthy answers.
    cases: [releaseCase(seconds, 0, 0), releaseCase(seconds * 100, 2, unhealthyAnswers)],
    oneRelease: memory(100),
    afterDeploys: strategy === "sideBySide" ? [memory(200), memory(210), memory(190)] : [memory(100)],
    ...(strategy === "sideBySide" ? { previousStopped: memory(105) } : {}),
  };
}

const bench = (strategies: StrategyBench[]): ReleasesBench => ({
  capacity: { rate: 1000, sent: 6000, failed: 0, p50: 5, p99: 20 },
  sustainedRate: 900,
  strategies,
});

const byName = (rows: ReturnType<typeof releasesRows>, start: string) => {
  const found = rows.find((r) => r.name.startsWith(start));
  if (!found) throw new Error(`no row ${start}`);
  return found;
};

describe("releasesRows (sideBySide judged, reload beside it)", () => {
  const rows = releasesRows(bench([side("sideBySide", 0.1, 0), side("reload", 1, 40)]));

  it("times rollbacks and deploys on the first case only: the draining app at 200 req/s", () => {
    const rollback = byName(rows, "rollback start");
    expect(rollback.pipeline.median).toBeCloseTo(0.2);
    expect(rollback.pipeline.max).toBeCloseTo(0.3);
    expect(rollback.pipeline.count).toBe(3);
    expect(rollback.inPlace.median).toBe(2);
    expect(rollback.target).toEqual({ text: "<= 0.3 s", atMost: 0.3 });
    const deploy = byName(rows, "deploy start");
    expect(deploy.pipeline.median).toBeCloseTo(0.5);
    expect(deploy.target?.atMost).toBe(1.5);
  });

  it("counts the GET answers that came from the unhealthy release, per unhealthy deploy", () => {
    const unhealthy = byName(rows, "requests answered by an unhealthy release");
    expect([unhealthy.pipeline.max, unhealthy.pipeline.count]).toEqual([0, 2]);
    expect(unhealthy.inPlace.max).toBe(40);
    expect(unhealthy.target?.atMost).toBe(0);
  });

  it("counts failed requests of every deploy, rollback and unhealthy deploy of every case", () => {
    const failed = byName(rows, "failed requests");
    expect(failed.pipeline.count).toBe(14);
    expect(failed.pipeline.max).toBe(2);
    expect(failed.target?.atMost).toBe(0);
  });

  it("reports the app's memory after each deploy, and with the previous release stopped, without a target", () => {
    const warm = byName(rows, "memory, previous release warm");
    expect([warm.unit, warm.pipeline.median, warm.inPlace.median]).toEqual(["MiB", 200, 100]);
    expect(warm.target?.atMost).toBeUndefined();
    const stopped = byName(rows, "memory, previousRelease stopped");
    expect([stopped.pipeline.median, stopped.inPlace.median]).toEqual([105, 100]);
  });
});

/** The report's printed lines (the table is one entry of several lines). */
const printed = (lines: string[]): string[] => lines.join("\n").split("\n");

describe("releasesReport", () => {
  it("leaves a side that was not measured empty (n/a) and says which targets sideBySide missed", () => {
    const lines = printed(releasesReport(bench([side("reload", 1, 40)]), 3));
    const rollbackLine = lines.find((l) => l.startsWith("rollback start"));
    expect(rollbackLine).toMatch(
      /^rollback start -> previous release serving \(warm\) \(s\) +\| n\/a +\| 2\.00 \(max 3\.00\)/,
    );
    expect(lines.at(-1)).toBe("targets: all met by sideBySide");
    const missed = releasesReport(bench([side("sideBySide", 1, 3)]), 3).at(-1);
    expect(missed).toBe(
      "target missed by sideBySide: rollback start -> previous release serving (warm); deploy start -> new release serving, lockfile unchanged; " +
        "requests answered by an unhealthy release during its deploy; failed requests, GET and POST, per deploy or rollback (both apps, both rates)",
    );
  });

  it("breaks failures down per strategy, app and rate, and names the unhealthy release's share of GET answers", () => {
    const lines = releasesReport(bench([side("sideBySide", 0.1, 0), side("reload", 1, 40)]), 3);
    const reloadRows = lines.filter((l) => l.startsWith("| reload |"));
    expect(reloadRows).toHaveLength(2);
    expect(reloadRows[1]).toContain("| 2 (0, 0, 2) | 0 (0, 0, 0) | 0 |");
    // 7 operations of 100 requests in 5 s each: 20 req/s achieved.
    expect(reloadRows[1]).toMatch(/\| 700 \| 20 req\/s \| 40 of 50 GET answers \|$/);
  });
});
