// The stand-in fleet's report: medians against one host's, judged against the targets.
import { describe, expect, it } from "vitest";
import { STAND_IN_LABEL, type StandInBench, standInReport } from "../../bench/fleetStandIn";
import { STAND_IN_PHASE_SECONDS } from "../../bench/standInAgent";
import { figure } from "../../bench/table";

const timing = (seconds: number[]) => ({
  seconds: figure(seconds),
  cpuSeconds: figure(seconds.map(() => 1)),
});

function bench(twoBatches: number[], oneBatch: number[]): StandInBench {
  return {
    phaseSeconds: STAND_IN_PHASE_SECONDS,
    cores: 2,
    idleCores: 0.5,
    oneHost: timing([2, 2.5, 3]),
    modes: [
      { name: "8 hosts, batchSize 4 (two batches)", batchSize: 4, target: 2.2, ...timing(twoBatches) },
      { name: "8 hosts, batchSize 100% (one batch)", batchSize: "100%", target: 1.2, ...timing(oneBatch) },
      { name: "8 hosts, batchSize 1 (one after another)", batchSize: 1, ...timing([20, 21, 22]) },
    ],
  };
}

describe("standInReport", () => {
  it("says what the hosts are, and gives each mode's median (max) and its multiple of one host's median", () => {
    const lines = standInReport(bench([5, 5.5, 6], [2.9, 3, 3.1]), 3);
    expect(lines[0]).toBe(`fleet deploys on ${STAND_IN_LABEL}, 3 runs each: median (max)`);
    expect(lines).toContain("| 1 host | 2.50 (3.00) | 1.00x | - | - | 1.00 |");
    expect(lines).toContain(
      "| 8 hosts, batchSize 4 (two batches) | 5.50 (6.00) | 2.20x | <= 2.2x | met | 1.00 |",
    );
    expect(lines).toContain(
      "| 8 hosts, batchSize 100% (one batch) | 3.00 (3.10) | 1.20x | <= 1.2x | met | 1.00 |",
    );
    expect(lines).toContain(
      "| 8 hosts, batchSize 1 (one after another) | 21.00 (22.00) | 8.40x | - | - | 1.00 |",
    );
  });

  it("marks a target missed when the median is over it", () => {
    const lines = standInReport(bench([5.6, 5.6, 5.6], [3.1, 3.1, 3.1]), 3);
    expect(lines).toContain(
      "| 8 hosts, batchSize 4 (two batches) | 5.60 (5.60) | 2.24x | <= 2.2x | MISSED | 1.00 |",
    );
    expect(lines).toContain(
      "| 8 hosts, batchSize 100% (one batch) | 3.10 (3.10) | 1.24x | <= 1.2x | MISSED | 1.00 |",
    );
  });
});
