import { describe, expect, it } from "vitest";
import { agentPhases, medianPhases } from "../../bench/agentPhases";

const output = (health: string, extra = ""): string =>
  [
    "release-agent: starting 20261206-abc on port 3001 beside 20261205-def (port 3000)",
    "release-agent: phase start 0.31s",
    `release-agent: phase health ${health}s`,
    "release-agent: phase switch 0.05s",
    extra,
  ].join("\n");

describe("agentPhases", () => {
  it("reads each phase line of the agent's output, in order, with its seconds", () => {
    expect(agentPhases(output("0.40"))).toEqual([
      { name: "start", seconds: 0.31, failed: false },
      { name: "health", seconds: 0.4, failed: false },
      { name: "switch", seconds: 0.05, failed: false },
    ]);
  });

  it("marks the phase the agent failed in, and ignores lines that are not phases", () => {
    const failed = "release-agent: phase health 20.01s failed\nrelease-agent: phase of the moon";
    expect(agentPhases(failed)).toEqual([{ name: "health", seconds: 20.01, failed: true }]);
  });
});

describe("medianPhases", () => {
  it("is each phase's median over the runs, in the order the phases first appear", () => {
    const runs = [output("0.40"), output("0.60"), output("0.50", "release-agent: phase prune 1.00s")];
    expect(medianPhases(runs)).toBe("start 0.31, health 0.50, switch 0.05, prune 1.00");
  });

  it("is empty when no run reported a phase", () => {
    expect(medianPhases(["", "release-agent: done"])).toBe("");
  });
});
