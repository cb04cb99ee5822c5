// npx tsx bench/migrateRunner.ts [--node <path to node>] [--runs <n>]: what the release agent's choice of runner
// for the default migrate command costs, on this machine. A release with a do-nothing migrate script (and a
// node_modules/.bin, as after an install) runs `pnpm run --if-present migrate` and `node --run migrate` with the
// same Node (its directory first on PATH, as /usr/local/bin is on a host); prints the median and the spread of
// each. Needs a Node with node --run (22.3+). Prints a table; asserts nothing.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const PNPM = resolve(__dirname, "../node_modules/pnpm/bin/pnpm.cjs");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function timeRuns(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  runs: number,
): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const run = spawnSync(command, args, { cwd, env, stdio: "pipe" });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${String(run.stderr)}`);
    times.push(elapsed);
  }
  return times;
}

function main(): void {
  const { values } = parseArgs({
    options: { node: { type: "string", default: "node" }, runs: { type: "string", default: "7" } },
  });
  const node = values.node;
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 3) throw new Error("--runs takes a whole number of at least 3");
  const version = execFileSync(node, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
  const nodePath = execFileSync(node, ["-p", "process.execPath"], { encoding: "utf8" }).trim();
  const pnpmVersion = execFileSync(nodePath, [PNPM, "--version"], { encoding: "utf8" }).trim();
  const dir = mkdtempSync(join(tmpdir(), "migrate-runner-bench-"));
  try {
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "bench-app", version: "1.0.0", scripts: { migrate: "true" } }),
    );
    mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
    const env = {
      ...process.env,
      PATH: [dirname(nodePath), "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter),
      NODE_ENV: "production",
    };
    const rows: [string, number[]][] = [
      [
        "pnpm run --if-present migrate",
        timeRuns(nodePath, [PNPM, "run", "--if-present", "migrate"], dir, env, runs),
      ],
      ["node --run migrate", timeRuns(nodePath, ["--run", "migrate"], dir, env, runs)],
    ];
    console.log(
      `Node ${version}, pnpm ${pnpmVersion}, ${runs} runs each, a migrate script that does nothing ("true")`,
    );
    console.log("runner                          median    min       max");
    for (const [name, times] of rows) {
      const cells = [median(times), Math.min(...times), Math.max(...times)].map((s) =>
        `${s.toFixed(3)} s`.padEnd(10),
      );
      console.log(`${name.padEnd(32)}${cells.join("")}`);
    }
    const [pnpmTimes, nodeTimes] = rows.map(([, times]) => median(times));
    console.log(`saved per migration: ${((pnpmTimes ?? 0) - (nodeTimes ?? 0)).toFixed(3)} s (medians)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
