// `pm2 startOrReload <ecosystem file> --update-env` through the same calls and environment as pm2's own CLI
// (lib/binaries/CLI.js), except that the workers of a running app are reloaded CONCURRENT_ACTIONS at a time
// (pm2's setting: 2 unless PM2_CONCURRENT_ACTIONS says otherwise). pm2 itself reloads an app of one or two
// workers one by one (_operate in lib/API.js), and each step waits until the old worker has drained and exited,
// so the last old worker serves the previous release for a whole extra drain. Reloading workers together is as
// safe: pm2 stops each old worker only once its own replacement listens (hardReload in lib/God/Reload.js).
//
// Run as: node pm2-start-or-reload.js <pm2 package directory> <ecosystem file>. Exits as pm2's CLI would (0 also when a
// worker failed to reload: the caller's health check decides). A pm2 without these internals gets its own CLI.
"use strict";
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const [pm2Directory, ecosystemFile] = process.argv.slice(2);
process.env.PM2_USAGE = "CLI"; // set by pm2's CLI before it loads: the workers inherit this environment

function runPm2Cli() {
  const cli = path.join(pm2Directory, "bin", "pm2");
  const result = spawnSync(process.execPath, [cli, "startOrReload", ecosystemFile, "--update-env"], {
    stdio: "inherit",
  });
  process.exit(result.status ?? 1);
}

let API;
let concurrentActions;
try {
  API = require(path.join(pm2Directory, "lib", "API.js"));
  concurrentActions = Number(require(path.join(pm2Directory, "constants.js")).CONCURRENT_ACTIONS) || 2;
} catch {
  runPm2Cli();
}
const pm2 = new API();
if (typeof pm2._operate !== "function" || typeof pm2._startJson !== "function" || !pm2.Client) {
  console.error(`pm2 in ${pm2Directory} lacks the calls for a concurrent reload: reloading through its CLI`);
  runPm2Cli();
}

/** Calls `operate(id, done)` for every id, at most `limit` at once; `done(error, results)` once all ended. */
function eachLimited(ids, limit, operate, done) {
  const results = [];
  let next = 0;
  let running = 0;
  let firstError = null;
  const startMore = () => {
    if (next === ids.length && running === 0) return done(firstError, results);
    while (running < limit && next < ids.length) {
      const id = ids[next++];
      running += 1;
      operate(id, (error, result) => {
        running -= 1;
        if (error) firstError = firstError ?? error;
        else if (Array.isArray(result)) results.push(...result);
        startMore();
      });
    }
  };
  startMore();
}

const operateOnIds = pm2._operate;
pm2._operate = function (action, name, env, callback) {
  if (action !== "reloadProcessId" || typeof name !== "string")
    return operateOnIds.call(this, action, name, env, callback);
  this.Client.getProcessIdByName(name, (error, ids) => {
    if (error || !Array.isArray(ids) || ids.length < 2)
      return operateOnIds.call(this, action, name, env, callback);
    // The same env for every worker, as pm2's own loop passes it (_operate reads it, never changes it).
    const reloadOne = (id, done) => operateOnIds.call(this, action, id, env, done);
    eachLimited(ids, concurrentActions, reloadOne, callback);
  });
};

pm2.connect((connectError) => {
  if (connectError) {
    console.error(`cannot reach the pm2 daemon: ${connectError.message ?? connectError}`);
    process.exit(1);
  }
  pm2._startJson(ecosystemFile, { updateEnv: true }, "reloadProcessId", (error) => {
    if (error) console.error(`pm2 startOrReload ${ecosystemFile} failed: ${error.message ?? error}`);
    pm2.disconnect(() => process.exit(error ? 1 : 0));
  });
});
