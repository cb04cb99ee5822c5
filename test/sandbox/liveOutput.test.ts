import { describe, expect, it } from "vitest";
import { runStreaming } from "../../src/sandbox/childProcess";
import { isPm2TableLine, printProgressLine } from "../../src/sandbox/liveOutput";

describe("isPm2TableLine", () => {
  it.each([
    ["[10.200.1.2:22] ┌────┬─────────────┬─────────┐", true],
    ["[10.200.1.2:22] │ id │ name        │ mode    │", true],
    ["[10.200.1.2:22] ├────┼─────────────┼─────────┤", true],
    ["└────┴─────────────┴─────────┘", true],
    ["[10.200.1.2:22] release-agent: phase install 1.20s", false],
    ["[10.200.1.2:22] [PM2] [example-app](0) ✓", false],
    ["| 10.200.1.2:22 | deployed | 4s | 0.10s |", false],
  ])("%s -> %s", (line, expected) => {
    expect(isPm2TableLine(line)).toBe(expected);
  });
});

describe("printProgressLine", () => {
  it("prints every line but pm2's tables", () => {
    const printed: string[] = [];
    const print = printProgressLine((text) => printed.push(text));
    for (const line of ["==> [1/1] h: deploy x", "[h] ┌──┐", "[h] release-agent: phase health 0.31s"])
      print(line);
    expect(printed).toEqual(["==> [1/1] h: deploy x\n", "[h] release-agent: phase health 0.31s\n"]);
  });
});

describe("runStreaming", () => {
  it("hands over each line as it arrives, stdout and stderr in the order they were written", async () => {
    const seen: string[] = [];
    const result = await runStreaming(
      "bash",
      ["-c", "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; printf 'no newline'"],
      { onLine: (line) => seen.push(line) },
    );
    expect(result.code).toBe(0);
    expect(seen).toEqual(["one", "two", "three", "no newline"]);
    expect(result.stdout).toBe("one\nthree\nno newline");
  });
});
