// app.nodeVersion against the Node.js release schedule: the default is the Active LTS line of the day the schedule
// was read, and a stack naming a line past its end of life (or one that is never LTS) gets one warning.
import { describe, expect, it } from "vitest";
import { loadFromValues } from "../../src/config/fromValues";
import {
  DEFAULT_NODE_LINE,
  NODE_RELEASE_SCHEDULE,
  SCHEDULE_SOURCE,
  nodeLineWarning,
  recommendedLine,
} from "../../src/config/nodeReleaseSchedule";
import { minimalValues } from "./fixtures";

const day = (iso: string) => new Date(`${iso}T12:00:00Z`);
const TODAY = day("2026-12-06");

function load(nodeVersion: number | undefined, today: Date) {
  const app = nodeVersion === undefined ? { name: "storefront" } : { name: "storefront", nodeVersion };
  return loadFromValues(minimalValues({ app }), "acme", { stack: "staging", requireSecrets: false, today });
}

describe("the Node.js release schedule snapshot", () => {
  it("covers every line from 18 to 26, each phase after the one before", () => {
    expect(Object.keys(NODE_RELEASE_SCHEDULE).map(Number)).toEqual([18, 19, 20, 21, 22, 23, 24, 25, 26]);
    for (const line of Object.values(NODE_RELEASE_SCHEDULE)) {
      const phases = [line.start, line.lts, line.maintenance, line.end].filter((d) => d !== undefined);
      expect(phases).toEqual([...phases].sort());
    }
  });

  it("makes the Active LTS line of the day it was read the default: 26 (LTS since 2026-10-28)", () => {
    expect(SCHEDULE_SOURCE.readOn).toBe("2026-12-06");
    expect(DEFAULT_NODE_LINE).toBe(26);
    expect(load(undefined, TODAY).config.app.nodeVersion).toBe(26);
  });

  it("recommends the Active LTS line, or the newest LTS line still supported when none is active", () => {
    expect(recommendedLine("2026-12-06")).toEqual({ major: 26, phase: "Active LTS" });
    expect(recommendedLine("2026-07-01")).toEqual({ major: 24, phase: "Active LTS" });
    expect(recommendedLine("2026-10-25")).toEqual({ major: 24, phase: "Maintenance LTS" });
    expect(recommendedLine("2025-12-01")).toEqual({ major: 24, phase: "Active LTS" });
    expect(recommendedLine("2027-11-01")).toEqual({ major: 26, phase: "Maintenance LTS" });
  });
});

describe("app.nodeVersion warnings", () => {
  it("warns once about a line past its end of life, with the date and the line to use", () => {
    const { warnings } = load(20, TODAY);
    expect(warnings).toEqual([
      "pipeline:app.nodeVersion: Node.js 20 reached end of life on 2026-04-30 (set app.nodeVersion to 26, the Active LTS line; Node.js release schedule of 2026-07-02)",
    ]);
  });

  it("counts the end-of-life day itself as past", () => {
    expect(nodeLineWarning(20, day("2026-04-29"))).toBeUndefined();
    expect(nodeLineWarning(20, day("2026-04-30"))).toContain("reached end of life on 2026-04-30");
  });

  it("warns about a Current line that never becomes LTS while it is still supported", () => {
    expect(nodeLineWarning(25, day("2025-12-01"))).toBe(
      "pipeline:app.nodeVersion: Node.js 25 is a Current line that never becomes LTS and reaches end of life on 2026-06-01 (set app.nodeVersion to 24, the Active LTS line; Node.js release schedule of 2026-07-02)",
    );
    expect(nodeLineWarning(25, TODAY)).toContain("Node.js 25 reached end of life on 2026-06-01");
  });

  it("says nothing of a supported LTS line, maintenance included, nor of a line newer than the snapshot", () => {
    expect(load(26, TODAY).warnings).toEqual([]);
    expect(load(24, TODAY).warnings).toEqual([]);
    expect(load(22, TODAY).warnings).toEqual([]);
    expect(load(28, TODAY).warnings).toEqual([]);
  });

  it("is a warning, not an error: the stack still loads", () => {
    expect(load(18, TODAY).config.app.nodeVersion).toBe(18);
  });
});
