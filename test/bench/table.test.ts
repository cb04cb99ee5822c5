import { describe, expect, it } from "vitest";
import { type Row, figure, met, renderTable } from "../../bench/table";

const row = (overrides: Partial<Row>): Row => ({
  name: "rollback",
  unit: "s",
  pipeline: figure([0.1, 0.2, 0.15]),
  inPlace: figure([2, 2.5, 2.2]),
  target: { text: "<= 0.3 s", atMost: 0.3 },
  ...overrides,
});

describe("renderTable", () => {
  it("heads the compared sides pipeline and in-place unless told otherwise", () => {
    const header = renderTable([row({})]).split("\n")[0];
    expect(header).toMatch(
      /^ +\| pipeline +\| in-place +\| ratio \(in-place \/ pipeline\) \| target +\| met\?$/,
    );
  });

  it("heads them with the names it is given, in the ratio too", () => {
    const table = renderTable([row({ pipeline: figure([0]), inPlace: figure([3]) })], {
      pipeline: "sideBySide",
      inPlace: "reload",
    });
    expect(table.split("\n")[0]).toContain("| sideBySide | reload | ratio (reload / sideBySide) |");
    expect(table).toContain("inf (sideBySide 0)");
  });

  it("names the unit of a row in seconds or MiB, not of a count", () => {
    const table = renderTable([
      row({ name: "a" }),
      row({ name: "b", unit: "MiB", pipeline: figure([101.25]), target: { text: "reported" } }),
      row({ name: "c", unit: "count", target: { text: "0", atMost: 0 } }),
    ]);
    const lines = table.split("\n");
    expect(lines[2]).toMatch(/^a \(s\) +\| 0\.15 \(max 0\.20\)/);
    expect(lines[3]).toMatch(/^b \(MiB\) +\| 101\.3 +\|/);
    expect(lines[4]).toMatch(/^c +\|/);
  });
});

describe("met", () => {
  it("judges the pipeline's worst run against the target", () => {
    expect(met(row({}))).toBe(true);
    expect(met(row({ pipeline: figure([0.1, 0.4]) }))).toBe(false);
    expect(met(row({ pipeline: figure([0.1, null]) }))).toBe(false);
  });

  it("has no verdict for a row that is reported only, or has no target or no runs", () => {
    expect(met(row({ target: { text: "reported" } }))).toBeNull();
    expect(met({ name: "a", unit: "s", pipeline: figure([1]), inPlace: figure([1]) })).toBeNull();
    expect(met(row({ pipeline: figure([]) }))).toBeNull();
  });
});
