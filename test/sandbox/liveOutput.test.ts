import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runStreaming } from "../../src/sandbox/childProcess";
import { isPm2Output, printProgressLine } from "../../src/sandbox/liveOutput";

/**
 * pm2 7's output of `pm2 startOrReload <ecosystem> --update-env` into a pipe, as the agent runs it: the first deploy
 * (pm2's daemon starts, with the pm2-logrotate module the hosts install) and a reload. Captured on this machine
 * (the app's name and pm2's home replaced by the example app's); pm2 colours it even though it is no terminal.
 */
const sample = (name: string) =>
  readFileSync(join(__dirname, "fixtures", name), "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => `[10.200.1.2:22] ${line}`);

function printed(lines: readonly string[]): string[] {
  const out: string[] = [];
  const print = printProgressLine((text) => out.push(text));
  for (const line of lines) print(line);
  return out;
}

describe("isPm2Output", () => {
  it.each([
    ["[10.200.1.2:22] ┌────┬─────────────┬─────────┐", true],
    ["[10.200.1.2:22] │ id │ name        │ mode    │", true],
    ["[10.200.1.2:22] ├────┼─────────────┼─────────┤", true],
    ["└────┴─────────────┴─────────┘", true],
    ["[10.200.1.2:22] Module", true],
    ["[10.200.1.2:22] host metrics | cpu: 0% | ram usage: 4.8%", true],
    ["[10.200.1.2:22] [PM2] [example-app](0) ✓", true],
    ["[PM2] App [example-app] launched (2 instances)", true],
    ["[10.200.1.2:22] [PM2][Module] Starting NPM module pm2-logrotate", true],
    ["[10.200.1.2:22] [PM2][WARN] Applications example-app not running, starting...", true],
    ["[10.200.1.2:22] [PM2][ERROR] Script not found: /home/deploy/apps/x/current/dist/index.js", false],
    ["[10.200.1.2:22] [PM2][Module][ERROR] Module pm2-logrotate failed", false],
    ["[10.200.1.2:22] release-agent: phase install 1.20s", false],
    ["[10.200.1.2:22] Modules are loaded", false],
    ["| 10.200.1.2:22 | deployed | 4s | 0.10s |", false],
  ])("%s -> %s", (line, expected) => {
    expect(isPm2Output(line)).toBe(expected);
  });
});

describe("printProgressLine", () => {
  it("prints every line but pm2's", () => {
    expect(
      printed([
        "==> [1/1] h: deploy x",
        "[h] ┌──┐",
        "[h] [PM2] [app](0) ✓",
        "[h] release-agent: phase health 0.31s",
      ]),
    ).toEqual(["==> [1/1] h: deploy x\n", "[h] release-agent: phase health 0.31s\n"]);
  });

  it.each(["pm2-first-deploy.txt", "pm2-reload.txt"])(
    "leaves out all of pm2's own output of a deploy (%s): no [PM2] line, table, Module heading or escape",
    (name) => {
      const lines = sample(name);
      expect(lines.some((line) => line.includes("\x1b[1mModule\x1b[22m"))).toBe(true);
      expect(printed(lines)).toEqual([]);
    },
  );

  it("keeps the agent's lines around pm2's output, and pm2's errors, as plain text", () => {
    const lines = [
      "[10.200.1.2:22] release-agent: current -> 20261122140501-1a2b3c4d5e6f; reloading example-app",
      ...sample("pm2-reload.txt"),
      "[10.200.1.2:22] \x1b[31m[PM2][ERROR] \x1b[39mProcess example-app not found",
      "[10.200.1.2:22] pnpm progress\r resolved 12, reused 12\x1b[K",
      "[10.200.1.2:22] release-agent: phase switch 1.02s",
    ];
    expect(printed(lines)).toEqual([
      "[10.200.1.2:22] release-agent: current -> 20261122140501-1a2b3c4d5e6f; reloading example-app\n",
      "[10.200.1.2:22] [PM2][ERROR] Process example-app not found\n",
      "[10.200.1.2:22] pnpm progress  resolved 12, reused 12\n",
      "[10.200.1.2:22] release-agent: phase switch 1.02s\n",
    ]);
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
