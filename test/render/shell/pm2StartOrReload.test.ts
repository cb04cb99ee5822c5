// agent/pm2StartOrReload.js against a stand-in of pm2's API (lib/API.js, constants.js, bin/pm2) that behaves as
// pm2 6 does where the script relies on it: _startJson hands a running app to _operate by name, and _operate on
// one id reloads that worker (here: 50 ms). Every call is recorded, with how many reloads were in flight.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pm2StartOrReloadSource } from "../../../src/render/shell/pm2StartOrReload";

interface Recorded {
  call: string;
  name?: string | number;
  action?: string;
  inFlight?: number;
  sameEnv?: boolean;
  usage?: string;
  argv?: string[];
}

const FAKE_API = `
const fs = require("fs");
const log = (entry) => fs.appendFileSync(process.env.FAKE_LOG, JSON.stringify(entry) + "\\n");
const ids = JSON.parse(process.env.FAKE_IDS);
const env = { marker: "from _startJson" };
let inFlight = 0;
module.exports = class {
  Client = {
    getProcessIdByName: (name, cb) => setImmediate(() => cb(null, ids)),
  };
  connect(cb) { log({ call: "connect" }); cb(); }
  disconnect(cb) { log({ call: "disconnect" }); cb(); }
  _operate(action, name, envs, cb) {
    inFlight += 1;
    log({ call: "operate", action, name, inFlight, sameEnv: envs === env, usage: process.env.PM2_USAGE });
    setTimeout(() => {
      inFlight -= 1;
      cb(process.env.FAKE_FAIL_ID === String(name) ? new Error("Process " + name + " not found") : null, [{ pm_id: name }]);
    }, 50);
  }
  _startJson(file, opts, action, cb) {
    log({ call: "startJson", name: file, action, sameEnv: opts.updateEnv === true });
    this._operate(action, "app", env, (err) => cb(err));
  }
};
`;

const FAKE_CLI = `
require("fs").appendFileSync(process.env.FAKE_LOG, JSON.stringify({ call: "cli", argv: process.argv.slice(2) }) + "\\n");
process.exit(7);
`;

let scratch = "";
afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = "";
});

function run(options: { ids: number[]; concurrentActions?: number; failId?: number; api?: string }) {
  scratch = mkdtempSync(join(tmpdir(), "pm2-start-or-reload-"));
  const pm2 = join(scratch, "pm2");
  mkdirSync(join(pm2, "lib"), { recursive: true });
  mkdirSync(join(pm2, "bin"));
  writeFileSync(join(pm2, "lib", "API.js"), options.api ?? FAKE_API);
  writeFileSync(
    join(pm2, "constants.js"),
    `module.exports = { CONCURRENT_ACTIONS: ${options.concurrentActions ?? 2} };`,
  );
  writeFileSync(join(pm2, "bin", "pm2"), FAKE_CLI);
  const script = join(scratch, "pm2-start-or-reload.js");
  writeFileSync(script, pm2StartOrReloadSource());
  const logFile = join(scratch, "calls.log");
  writeFileSync(logFile, "");
  const result = spawnSync(process.execPath, [script, pm2, "/srv/shared/ecosystem.config.js"], {
    encoding: "utf8",
    timeout: 10_000,
    env: {
      PATH: process.env.PATH,
      FAKE_LOG: logFile,
      FAKE_IDS: JSON.stringify(options.ids),
      FAKE_FAIL_ID: String(options.failId ?? ""),
    },
  });
  const calls = readFileSync(logFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Recorded);
  return { status: result.status, stderr: result.stderr, calls };
}

const operations = (calls: Recorded[]) => calls.filter((c) => c.call === "operate");

describe("pm2StartOrReload.js", () => {
  it("runs pm2's startOrReload of the ecosystem file with --update-env, then disconnects and exits 0", () => {
    const { status, calls } = run({ ids: [0, 1] });
    expect(status).toBe(0);
    expect(calls[0]).toEqual({ call: "connect" });
    expect(calls[1]).toEqual({
      call: "startJson",
      name: "/srv/shared/ecosystem.config.js",
      action: "reloadProcessId",
      sameEnv: true,
    });
    expect(calls.at(-1)).toEqual({ call: "disconnect" });
  });

  it("reloads both workers of a two-worker app at once (pm2 alone would do one, then the other)", () => {
    const reloads = operations(run({ ids: [0, 1] }).calls);
    expect(reloads.map((c) => c.name)).toEqual([0, 1]);
    expect(reloads.map((c) => c.inFlight)).toEqual([1, 2]);
  });

  it("passes each worker pm2's own env object and the CLI's PM2_USAGE, as pm2's loop over ids does", () => {
    for (const call of operations(run({ ids: [0, 1] }).calls)) {
      expect(call).toMatchObject({ action: "reloadProcessId", sameEnv: true, usage: "CLI" });
    }
  });

  it("keeps to pm2's CONCURRENT_ACTIONS from three workers on (at most that many reloads in flight)", () => {
    const reloads = operations(run({ ids: [3, 4, 5, 6, 7], concurrentActions: 2 }).calls);
    expect(reloads.map((c) => c.name)).toEqual([3, 4, 5, 6, 7]);
    expect(Math.max(...reloads.map((c) => c.inFlight ?? 0))).toBe(2);
    const wider = operations(run({ ids: [3, 4, 5], concurrentActions: 3 }).calls);
    expect(wider.map((c) => c.inFlight)).toEqual([1, 2, 3]);
  });

  it("leaves a single worker to pm2 itself (one _operate by name)", () => {
    const reloads = operations(run({ ids: [0] }).calls);
    expect(reloads.map((c) => c.name)).toEqual(["app"]);
  });

  it("reports a worker that failed to reload after the others ended, and exits 1", () => {
    const { status, stderr, calls } = run({ ids: [0, 1, 2], failId: 0 });
    expect(operations(calls).map((c) => c.name)).toEqual([0, 1, 2]);
    expect(stderr).toContain("pm2 startOrReload /srv/shared/ecosystem.config.js failed: Process 0 not found");
    expect(status).toBe(1);
  });

  it("falls back to pm2's own CLI (and its exit status) when this pm2 lacks the calls it uses", () => {
    const { status, stderr, calls } = run({ ids: [0, 1], api: "module.exports = class { Client = {}; };" });
    expect(stderr).toContain("lacks the calls for a concurrent reload: reloading through its CLI");
    expect(calls).toEqual([
      { call: "cli", argv: ["startOrReload", "/srv/shared/ecosystem.config.js", "--update-env"] },
    ]);
    expect(status).toBe(7);
  });

  it("falls back to pm2's own CLI when pm2's API cannot be loaded at all", () => {
    const { status, calls } = run({ ids: [0, 1], api: "throw new Error('not this pm2');" });
    expect(calls.map((c) => c.call)).toEqual(["cli"]);
    expect(status).toBe(7);
  });
});
