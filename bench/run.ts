// npm run bench: the pipeline's provisioning, deploy and rollback against the usual in-place deploy (inplace.ts), on
// one fresh local host (created and destroyed here), under steady HTTP load. Prints a table; asserts nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import {
  type StepRun,
  EXAMPLE_APP,
  buildArtifact,
  generateDeployKey,
  newReleaseId,
  provisionHost,
  rollbackRelease,
  shipRelease,
  stackOnHosts,
  writeRunnerFiles,
} from "../src/sandbox";
import {
  type HostHandle,
  type HostSession,
  connect,
  createHost,
  destroyHost,
  destroyHostsOnExit,
} from "../src/testhost";
import {
  INPLACE,
  type InPlace,
  headCommit,
  inPlaceDeployScript,
  inPlaceRollbackScript,
  pushCommit,
  runInPlace,
  setUpInPlace,
} from "./inplace";
import { agentPhases } from "./agentPhases";
import { type Endpoint, LOAD } from "./load";
import { type RealAppRuns, benchRealApp } from "./realApp";
import { type OperationRun, type SideRuns, measureOperation } from "./measure";
import { type ProxyBench, benchProxy, proxyReport } from "./throughProxy";
import { benchFleet, createFleet, fleetReport } from "./fleetDeploys";
import { benchStandInFleet, standInReport } from "./fleetStandIn";
import { type HostPool, benchReleases, releasesReport } from "./releases";
import { NONE, type Row, type Target, figure, formatFigure, met, renderTable } from "./table";

const OWNER = `${process.env["PIPELINE_HOST_OWNER_PREFIX"] ?? ""}bench`;
const REPEAT = 3;

/** A table row, and what to add to its "target missed" line when the pipeline misses its target. */
interface BenchRow extends Row {
  missedDetail?: string;
}

const NO_FAILED_REQUESTS: Target = { text: "0", atMost: 0 };
const atMostSeconds = (limit: number): Target => ({ text: `<= ${limit} s`, atMost: limit });

const seconds = (ms: number): number => ms / 1000;

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function describeRun(kind: string, run: OperationRun): string {
  const serving = run.servingSeconds === null ? "never" : `${run.servingSeconds.toFixed(2)} s`;
  const first = run.firstSeenSeconds === null ? "never" : `${run.firstSeenSeconds.toFixed(2)} s`;
  return (
    `${kind}: exit ${run.ok ? 0 : "non-zero"}, serving for good ${serving} (first answer ${first}), script ${run.totalSeconds.toFixed(2)} s, ` +
    `failed ${run.load.failed}/${run.load.sent} (non-2xx ${run.load.non2xx}, errors ${run.load.errors} incl. timeouts ${run.load.timeouts}${kinds(run)}), ` +
    `load ${(run.load.sent / run.load.seconds).toFixed(0)} req/s over ${run.load.seconds.toFixed(1)} s`
  );
}

function kinds(run: OperationRun): string {
  const entries = Object.entries(run.load.errorKinds);
  return entries.length === 0 ? "" : `: ${entries.map(([kind, count]) => `${kind} x${count}`).join(", ")}`;
}

function checkRun(kind: string, run: OperationRun): void {
  log(describeRun(kind, run));
  if (!run.ok) log(`${kind} script failed; its output:\n${run.output.slice(-3000)}`);
}

async function timed<T>(operation: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await operation();
  return { value, ms: performance.now() - started };
}

function stepTable(runs: readonly StepRun[]): string {
  return runs.map((r) => `${r.name}=${seconds(r.milliseconds).toFixed(2)}`).join("  ");
}

/** The three slowest steps. */
function dominantSteps(runs: readonly StepRun[]): string {
  return [...runs]
    .sort((a, b) => b.milliseconds - a.milliseconds)
    .slice(0, 3)
    .map((r) => `${r.name} ${seconds(r.milliseconds).toFixed(2)} s`)
    .join(", ");
}

async function benchPipeline(
  host: HostHandle,
  workDir: string,
): Promise<{ scratch: StepRun[]; scratchMs: number; again: StepRun[]; againMs: number; runs: SideRuns }> {
  // The firewall opens the in-place app's port too: the load comes from this machine.
  const config = stackOnHosts([host], { firewall: { extraTcpPorts: [EXAMPLE_APP.port, INPLACE.port] } });
  const key = generateDeployKey("pipeline-ci-0");
  const input = {
    npmRegistry: host.npmRegistry,
    appEnv: "GREETING=hello from the bench\n",
    deployPublicKey: key.publicKey,
  };
  log("provisioning from scratch ...");
  const scratch = await timed(() => provisionHost(host, config, input));
  log(`provisioned in ${seconds(scratch.ms).toFixed(1)} s: ${stepTable(scratch.value)}`);
  const again = await timed(() => provisionHost(host, config, input));
  log(`no-change re-provision in ${seconds(again.ms).toFixed(1)} s: ${stepTable(again.value)}`);

  const files = writeRunnerFiles(config, key.privateKey, workDir);
  const releaseA = newReleaseId();
  const warmUp = await shipRelease(
    config,
    files,
    buildArtifact(config, { label: releaseA }, workDir),
    releaseA,
  );
  if (warmUp.code !== 0)
    throw new Error(`warm-up deploy of ${releaseA} failed:\n${warmUp.stdout}${warmUp.stderr}`);
  log(`release A ${releaseA} deployed (warm-up)`);

  // Through the proxy: side by side (the default), the release that serves runs on app.port or the next one.
  const url: Endpoint = { url: `${config.url}/`, site: new URL(config.url).hostname };
  const runs: SideRuns = { deploys: [], rollbacks: [] };
  for (let i = 1; i <= REPEAT; i++) {
    const releaseB = newReleaseId();
    const artifact = buildArtifact(config, { label: releaseB }, workDir); // CI's build job: not part of the deploy
    const deploy = await measureOperation(url, releaseB, () =>
      shipRelease(config, files, artifact, releaseB),
    );
    checkRun(`pipeline deploy ${i} (${releaseB})`, deploy);
    runs.deploys.push(deploy);
    const rollback = await measureOperation(url, releaseA, () => rollbackRelease(config, files, releaseA));
    checkRun(`pipeline rollback ${i} (to ${releaseA})`, rollback);
    runs.rollbacks.push(rollback);
  }
  return { scratch: scratch.value, scratchMs: scratch.ms, again: again.value, againMs: again.ms, runs };
}

async function benchInPlace(host: HostHandle, session: HostSession): Promise<SideRuns> {
  const config = stackOnHosts([host]);
  const labelA = "inplace-a";
  log("setting up the in-place checkout (not timed) ...");
  const inPlace: InPlace = await setUpInPlace(session, config, labelA);
  const commitA = await headCommit(inPlace);
  const url = `http://${host.address}:${INPLACE.port}/`;
  const runs: SideRuns = { deploys: [], rollbacks: [] };
  for (let i = 1; i <= REPEAT; i++) {
    const labelB = `inplace-b${i}`;
    await pushCommit(inPlace, labelB); // the developer's push that triggers the deploy: not part of the deploy
    const deploy = await measureOperation(url, labelB, () =>
      runInPlace(inPlace, inPlaceDeployScript(inPlace)),
    );
    checkRun(`in-place deploy ${i} (${labelB})`, deploy);
    runs.deploys.push(deploy);
    const rollback = await measureOperation(url, labelA, () =>
      runInPlace(inPlace, inPlaceRollbackScript(inPlace, commitA)),
    );
    checkRun(`in-place rollback ${i} (to ${labelA})`, rollback);
    runs.rollbacks.push(rollback);
  }
  return runs;
}

function report(
  pipeline: Awaited<ReturnType<typeof benchPipeline>>,
  inPlace: SideRuns,
  realApp: RealAppRuns,
  proxy: ProxyBench,
): void {
  const p = pipeline.runs;
  const failed = (runs: readonly OperationRun[]): number[] => runs.map((r) => r.load.failed);
  const rows: BenchRow[] = [
    {
      name: "failed requests during deploy",
      unit: "count",
      pipeline: figure(failed(p.deploys)),
      inPlace: figure(failed(inPlace.deploys)),
      target: NO_FAILED_REQUESTS,
      missedDetail: `per run: ${failedPerRun(p.deploys)}`,
    },
    {
      name: "failed requests during rollback",
      unit: "count",
      pipeline: figure(failed(p.rollbacks)),
      inPlace: figure(failed(inPlace.rollbacks)),
      target: NO_FAILED_REQUESTS,
      missedDetail: `per run: ${failedPerRun(p.rollbacks)}`,
    },
    {
      name: "deploy start -> new release serving (unchanged lockfile)",
      unit: "s",
      pipeline: figure(p.deploys.map((r) => r.servingSeconds)),
      inPlace: figure(inPlace.deploys.map((r) => r.servingSeconds)),
      target: atMostSeconds(1.5),
      missedDetail: `deploy script total ${figure(p.deploys.map((r) => r.totalSeconds)).median?.toFixed(2) ?? "n/a"} s median`,
    },
    {
      name: "deploy total",
      unit: "s",
      pipeline: figure(p.deploys.map((r) => r.totalSeconds)),
      inPlace: figure(inPlace.deploys.map((r) => r.totalSeconds)),
    },
    {
      name: "rollback start -> old release serving",
      unit: "s",
      pipeline: figure(p.rollbacks.map((r) => r.servingSeconds)),
      inPlace: figure(inPlace.rollbacks.map((r) => r.servingSeconds)),
      target: atMostSeconds(1),
      missedDetail: `rollback script total ${figure(p.rollbacks.map((r) => r.totalSeconds)).median?.toFixed(2) ?? "n/a"} s median`,
    },
    {
      name: "real app (Fastify + tsc): deploy start -> serving",
      unit: "s",
      pipeline: figure(realApp.pipeline.map((r) => r.servingSeconds)),
      inPlace: figure(realApp.inPlace.map((r) => r.servingSeconds)),
    },
    {
      name: "real app: failed requests during deploy",
      unit: "count",
      pipeline: figure(failed(realApp.pipeline)),
      inPlace: figure(failed(realApp.inPlace)),
      target: NO_FAILED_REQUESTS,
      missedDetail: `per run: ${failedPerRun(realApp.pipeline)}`,
    },
    {
      name: "real app: CI build job (runner, not the host)",
      unit: "s",
      pipeline: figure(realApp.ciBuildSeconds),
      inPlace: NONE,
    },
    {
      name: "re-provision, no change",
      unit: "s",
      pipeline: figure([seconds(pipeline.againMs)]),
      inPlace: NONE,
      target: atMostSeconds(5),
      missedDetail: `dominated by ${dominantSteps(pipeline.again)}`,
    },
    {
      name: "provision from scratch",
      unit: "s",
      pipeline: figure([seconds(pipeline.scratchMs)]),
      inPlace: NONE,
    },
  ];
  const all = [...p.deploys, ...p.rollbacks, ...inPlace.deploys, ...inPlace.rollbacks];
  const sent = (runs: readonly OperationRun[]): number => runs.reduce((sum, r) => sum + r.load.sent, 0);
  console.log("");
  console.log(`pipeline vs the in-place deploy, one local host, ${REPEAT} runs per operation: median (max)`);
  console.log("");
  console.log(renderTable(rows));
  console.log("");
  console.log(
    `load: autocannon, overallRate ${LOAD.rate} req/s over ${LOAD.connections} keep-alive connections, GET / (pipeline :3000, in-place :${INPLACE.port}), ` +
      `from ${LOAD.leadMs / 1000} s before each script to ${(LOAD.tailMs + 1000) / 1000} s after it, per-request timeout ${LOAD.timeoutSeconds} s; ` +
      `failed = non-2xx + errors (timeouts included).`,
  );
  const loadSeconds = all.reduce((sum, r) => sum + r.load.seconds, 0);
  console.log(
    `achieved load rate: ${(sent(all) / loadSeconds).toFixed(0)} req/s (requests sent / seconds under load, all operations)`,
  );
  console.log(
    `requests sent: pipeline ${sent([...p.deploys, ...p.rollbacks])}, in-place ${sent([...inPlace.deploys, ...inPlace.rollbacks])}, total ${sent(all)}; ` +
      `failed: pipeline ${p.deploys.concat(p.rollbacks).reduce((s, r) => s + r.load.failed, 0)}, in-place ${inPlace.deploys.concat(inPlace.rollbacks).reduce((s, r) => s + r.load.failed, 0)}.`,
  );
  console.log(
    "times: from script start (shipRelease/rollbackRelease = the workflow's run: step over OpenSSH; in-place = bench/inplace.ts as the deploy user) to the " +
      "first poll of GET / (a new connection every 50 ms, 1 s timeout, polls overlap) after which every answer, until 1 s past the script's end, came from the expected release.",
  );
  console.log(`re-provision steps (s): ${stepTable(pipeline.again)}`);
  console.log(`from-scratch steps (s): ${stepTable(pipeline.scratch)}`);
  for (const row of rows) if (met(row) === false) console.log(missedTargetLine(row));
  console.log("");
  for (const line of proxyReport(proxy, REPEAT)) console.log(line);
}

const PARTS = ["proxy", "pipeline", "fleet", "fleet-standin", "releases"] as const;

/**
 * `npm run bench -- --only proxy|pipeline|fleet|fleet-standin|releases`: just the proxy's part, just the pipeline's
 * deploys and rollbacks with the agent's phase timings, just the fleet deploys (on hosts each provisions itself),
 * just the fleet deploys on CPU-light stand-in hosts, or just side-by-side releases against the in-place reload
 * (each strategy on a fresh host of its own).
 */
function onlyPart(): (typeof PARTS)[number] | undefined {
  const index = process.argv.indexOf("--only");
  if (index === -1) return undefined;
  const part = PARTS.find((name) => name === process.argv[index + 1]);
  if (part === undefined) throw new Error(`--only takes one part: ${PARTS.join(" or ")}`);
  return part;
}

/** Each run's times and the phases the agent reported (`release-agent: phase <name> <s>s`). */
function pipelineRunsReport(runs: SideRuns): string[] {
  const phases = (output: string): string =>
    agentPhases(output)
      .map((phase) => `${phase.name} ${phase.seconds.toFixed(2)}${phase.failed ? " failed" : ""}`)
      .join(", ");
  const line = (kind: string, run: OperationRun): string =>
    `${kind}: serving ${run.servingSeconds?.toFixed(2) ?? "never"} s (first answer ${run.firstSeenSeconds?.toFixed(2) ?? "never"} s), ` +
    `script ${run.totalSeconds.toFixed(2)} s, failed ${run.load.failed}/${run.load.sent}; phases (s): ${phases(run.output) || "-"}`;
  return [
    ...runs.deploys.map((run, i) => line(`deploy ${i + 1}`, run)),
    ...runs.rollbacks.map((run, i) => line(`rollback ${i + 1}`, run)),
    `deploy serving median ${figure(runs.deploys.map((r) => r.servingSeconds)).median?.toFixed(2) ?? "n/a"} s (target <= 1.5 s), ` +
      `rollback serving median ${figure(runs.rollbacks.map((r) => r.servingSeconds)).median?.toFixed(2) ?? "n/a"} s (target <= 1 s)`,
  ];
}

function failedPerRun(runs: readonly OperationRun[]): string {
  return runs
    .map(
      (r) =>
        `${r.load.failed}/${r.load.sent} (non-2xx ${r.load.non2xx}, errors ${r.load.errors}, timeouts ${r.load.timeouts}${kinds(r)})`,
    )
    .join(", ");
}

function missedTargetLine(row: BenchRow): string {
  const value = formatFigure(row.pipeline, row.unit);
  let line = `target missed: ${row.name}: pipeline ${value}${row.unit === "s" ? " s" : ""}, target ${row.target?.text ?? "-"}`;
  if (row.unit === "s" && row.pipeline.max !== null && row.target?.atMost !== undefined) {
    line += ` (worst run ${(row.pipeline.max - row.target.atMost).toFixed(2)} s over)`;
  }
  if (row.missedDetail) line += `; ${row.missedDetail}`;
  return line;
}

/** Destroys `which` and takes them off `hosts` (the list the exit handlers clean up). */
async function destroyHosts(hosts: HostHandle[], which: readonly HostHandle[]): Promise<void> {
  for (const host of which) {
    log(`destroying ${host.address}`);
    await destroyHost(host);
    hosts.splice(hosts.indexOf(host), 1);
  }
}

async function main(): Promise<void> {
  if (process.platform !== "linux" || process.getuid?.() !== 0)
    throw new Error("the bench needs Linux and root (it creates namespaces)");
  const hosts: HostHandle[] = [];
  const removeHandlers = destroyHostsOnExit(() => hosts);
  const workDir = mkdtempSync(join(tmpdir(), "bench-"));
  let session: HostSession | undefined;
  try {
    if (onlyPart() === "fleet") {
      const fleet = await createFleet(hosts, OWNER);
      for (const line of fleetReport(await benchFleet(fleet, workDir, REPEAT, cpus().length, log), REPEAT))
        console.log(line);
      return;
    }
    // Each strategy gets a fresh host of its own, destroyed when its runs are done.
    const pool: HostPool = {
      create: async () => {
        const host = await createHost({ owner: OWNER });
        hosts.push(host);
        log(`host ${host.address} created`);
        return host;
      },
      destroy: (host) => destroyHosts(hosts, [host]),
    };
    if (onlyPart() === "releases") {
      for (const line of releasesReport(await benchReleases(pool, workDir, REPEAT, log), REPEAT))
        console.log(line);
      return;
    }
    if (onlyPart() === "fleet-standin") {
      const fleet = await createFleet(hosts, OWNER);
      for (const line of standInReport(
        await benchStandInFleet(fleet, workDir, REPEAT, cpus().length, log),
        REPEAT,
      ))
        console.log(line);
      return;
    }
    const created = await timed(() => createHost({ owner: OWNER }));
    hosts.push(created.value);
    const host = created.value;
    log(`host ${host.address} created in ${seconds(created.ms).toFixed(1)} s`);
    if (onlyPart() === "proxy") {
      for (const line of proxyReport(await benchProxy(host, workDir, REPEAT, log), REPEAT)) console.log(line);
      return;
    }
    if (onlyPart() === "pipeline") {
      for (const line of pipelineRunsReport((await benchPipeline(host, workDir)).runs)) console.log(line);
      return;
    }
    const pipeline = await benchPipeline(host, workDir);
    const proxy = await benchProxy(host, workDir, REPEAT, log);
    session = await connect(host);
    const inPlace = await benchInPlace(host, session);
    const realApp = await benchRealApp(host, session, workDir, REPEAT, log);
    const releases = await benchReleases(pool, workDir, REPEAT, log);
    const realFleet = await createFleet(hosts, OWNER);
    const fleet = await benchFleet(realFleet, workDir, REPEAT, cpus().length, log);
    // The real hosts' idle apps and daemons would load the cores the stand-ins are meant to leave free.
    await destroyHosts(hosts, realFleet);
    const standIn = await benchStandInFleet(
      await createFleet(hosts, OWNER),
      workDir,
      REPEAT,
      cpus().length,
      log,
    );
    report(pipeline, inPlace, realApp, proxy);
    console.log("");
    for (const line of releasesReport(releases, REPEAT)) console.log(line);
    console.log("");
    for (const line of fleetReport(fleet, REPEAT)) console.log(line);
    console.log("");
    for (const line of standInReport(standIn, REPEAT)) console.log(line);
  } finally {
    session?.end();
    await destroyHosts(hosts, [...hosts]);
    removeHandlers();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
