import { describe, expect, it } from "vitest";
import { hostsPerBatch, planBatches } from "../../../src/render/runner/batchPlan";

describe("hostsPerBatch", () => {
  it.each([
    [4, 1, 1],
    [4, 3, 3],
    [4, 10, 4],
    [4, "25%", 1],
    [10, "25%", 3],
    [3, "50%", 2],
    [8, "100%", 8],
    [1, "1%", 1],
  ] as const)("%i hosts with batchSize %j -> %i per batch", (hosts, batchSize, expected) => {
    expect(hostsPerBatch(hosts, batchSize)).toBe(expected);
  });
});

describe("planBatches", () => {
  it("is one host after the other by default", () => {
    expect(planBatches(3, { batchSize: 1, canary: false })).toEqual([1, 1, 1]);
  });

  it("cuts the hosts into batches of N, the last one smaller", () => {
    expect(planBatches(5, { batchSize: 2, canary: false })).toEqual([2, 2, 1]);
    expect(planBatches(8, { batchSize: "25%", canary: false })).toEqual([2, 2, 2, 2]);
  });

  it("puts the canary alone first, then batches of N (the percentage counts every host)", () => {
    expect(planBatches(4, { batchSize: 2, canary: true })).toEqual([1, 2, 1]);
    expect(planBatches(10, { batchSize: "50%", canary: true })).toEqual([1, 5, 4]);
  });

  it("has no canary batch of its own with a single host", () => {
    expect(planBatches(1, { batchSize: 1, canary: true })).toEqual([1]);
  });
});
