// The in-place baseline against the pipeline with an app that has a real build step (tsc) and real dependencies
// (Fastify): the Fastify fixture app. In place, the host installs (dev dependencies too) and builds; the pipeline
// builds once on the runner (timed apart: CI's build job) and the host installs production dependencies, or copies
// them from the current release when the lockfile did not change.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { execFileSync } from "node:child_process";
import type { PipelineConfig } from "../src/config/types";
import {
  buildAppArtifact,
  generateDeployKey,
  provisionHost,
  shipRelease,
  stackOnHosts,
  writeRunnerFiles,
} from "../src/sandbox";
import type { HostHandle, HostSession } from "../src/testhost";
import type { Endpoint } from "./load";
import { type OperationRun, measureOperation } from "./measure";

const FASTIFY_APP_DIR = resolve(__dirname, "../test/fixtures/apps/fastify-app");
const PIPELINE_PORT = 3100;
const IN_PLACE = { name: "fastify-inplace", port: 3101 };

export interface RealAppRuns {
  /** CI's build job on this machine: install with dev dependencies, tsc, tar. */
  ciBuildSeconds: number[];
  pipeline: OperationRun[];
  inPlace: OperationRun[];
}

function realAppConfig(host: HostHandle): PipelineConfig {
  return stackOnHosts([host], {
    app: {
      name: "fastify-hello",
      port: PIPELINE_PORT,
      healthPath: "/health",
      startScript: "dist/main.js",
      services: [],
    },
    firewall: { extraTcpPorts: [PIPELINE_PORT, IN_PLACE.port] },
  });
}

function setVersion(dir: string, version: string): void {
  const file = join(dir, "package.json");
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), version }, null, 2));
}

async function asDeployUser(
  session: HostSession,
  user: string,
  script: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return session.exec(`su - ${user} -c 'bash -s'`, { stdin: script, timeoutMs: 600_000 });
}

async function mustRun(session: HostSession, user: string, what: string, script: string): Promise<void> {
  const result = await asDeployUser(session, user, script);
  if (result.code !== 0)
    throw new Error(`in-place ${what} failed:\n${(result.stdout + result.stderr).slice(-3000)}`);
}

const COMMIT = "git -c user.name=bench -c user.email=bench@localhost commit -q -am";

/** The usual in-place procedure for this app: reset to origin, install, build, reload, wait, health check. */
function inPlaceDeploy(checkout: string): string {
  return [
    "set -e",
    `cd ${checkout}`,
    "git fetch -q origin main",
    "git reset -q --hard origin/main",
    "pnpm install --frozen-lockfile --reporter=silent",
    "pnpm run build >/dev/null",
    `pm2 reload ${IN_PLACE.name} --update-env >/dev/null`,
    "sleep 5",
    `curl -fsS -o /dev/null http://localhost:${IN_PLACE.port}/health`,
  ].join("\n");
}

export async function benchRealApp(
  host: HostHandle,
  session: HostSession,
  workDir: string,
  repeat: number,
  log: (message: string) => void,
): Promise<RealAppRuns> {
  const config = realAppConfig(host);
  const key = generateDeployKey("pipeline-ci-0");
  log("real app: provisioning for the Fastify app ...");
  await provisionHost(host, config, { npmRegistry: host.npmRegistry, deployPublicKey: key.publicKey });
  const files = writeRunnerFiles(config, key.privateKey, workDir);
  const app = join(workDir, "fastify-app");
  cpSync(FASTIFY_APP_DIR, app, { recursive: true, filter: (src) => !/node_modules|\/dist$/.test(src) });
  const runs: RealAppRuns = { ciBuildSeconds: [], pipeline: [], inPlace: [] };
  // Through the proxy: side by side (the default), the release that serves runs on its port or the next one.
  const url: Endpoint = { url: `${config.url}/`, site: new URL(config.url).hostname };
  for (let i = 0; i <= repeat; i++) {
    const version = `1.1.${i}`;
    setVersion(app, version);
    const started = performance.now();
    const artifact = buildAppArtifact(config, app, `fastify-${version}`, workDir);
    runs.ciBuildSeconds.push((performance.now() - started) / 1000);
    const releaseId = `2030010100000${i}-${"0".repeat(11)}${i}`;
    const run = await measureOperation(url, version, () => shipRelease(config, files, artifact, releaseId));
    log(
      `real app: pipeline deploy ${version}: serving ${run.servingSeconds ?? "never"} s, script ${run.totalSeconds.toFixed(2)} s`,
    );
    if (!run.ok) throw new Error(`real app deploy failed:\n${run.output.slice(-3000)}`);
    if (i > 0) runs.pipeline.push(run); // the first deploy installs from nothing: a warm-up, as in place
  }

  const user = config.deployUser;
  const root = `/home/${user}/inplace-fastify`;
  const source = execFileSync("tar", [
    "-cz",
    "--exclude=node_modules",
    "--exclude=dist",
    "-C",
    FASTIFY_APP_DIR,
    ".",
  ]);
  const unpack = await session.exec(
    `install -d -o ${user} -g ${user} ${root} && runuser -u ${user} -- tar -xz -C ${root} --one-top-level=work`,
    { stdin: source },
  );
  if (unpack.code !== 0) throw new Error(`could not copy the Fastify app to the host: ${unpack.stderr}`);
  const ecosystem = {
    apps: [
      {
        name: IN_PLACE.name,
        cwd: `${root}/app`,
        script: "dist/main.js",
        exec_mode: "cluster",
        instances: config.app.instances,
        env: { NODE_ENV: "production", PORT: String(IN_PLACE.port) },
      },
    ],
  };
  log("real app: setting up the in-place checkout (not timed) ...");
  await mustRun(
    session,
    user,
    "setup",
    [
      "set -euo pipefail",
      `cd ${root}`,
      "git init -q --bare -b main origin.git",
      "cd work && printf 'node_modules/\\ndist/\\n' > .gitignore",
      `sed -i -E 's/"version": "[^"]*"/"version": "1.2.0"/' package.json`,
      "git init -q -b main && git add -A && git -c user.name=bench -c user.email=bench@localhost commit -q -m v1.2.0",
      "git remote add origin ../origin.git && git push -q origin main",
      "cd .. && git clone -q origin.git app && cd app",
      "pnpm install --frozen-lockfile --reporter=silent && pnpm run build >/dev/null",
      `printf '%s\\n' 'module.exports = ${JSON.stringify(ecosystem)};' > ${root}/ecosystem.config.js`,
      `pm2 start ${root}/ecosystem.config.js >/dev/null`,
      `for _ in $(seq 1 100); do curl -fsS -o /dev/null http://localhost:${IN_PLACE.port}/health && exit 0; sleep 0.2; done; exit 1`,
    ].join("\n"),
  );
  const inPlaceUrl = `http://${host.address}:${IN_PLACE.port}/`;
  for (let i = 1; i <= repeat; i++) {
    const version = `1.2.${i}`;
    await mustRun(
      session,
      user,
      "push",
      `set -e\ncd ${root}/work\nsed -i -E 's/"version": "[^"]*"/"version": "${version}"/' package.json\n${COMMIT} v${version}\ngit push -q origin main`,
    );
    const run = await measureOperation(inPlaceUrl, version, () =>
      asDeployUser(session, user, inPlaceDeploy(`${root}/app`)),
    );
    log(
      `real app: in-place deploy ${version}: serving ${run.servingSeconds ?? "never"} s, script ${run.totalSeconds.toFixed(2)} s`,
    );
    runs.inPlace.push(run);
  }
  await asDeployUser(session, user, `pm2 delete ${IN_PLACE.name} >/dev/null 2>&1 || true`);
  return runs;
}
