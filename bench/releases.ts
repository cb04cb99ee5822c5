// Side-by-side releases against the in-place reload (issue 17), in the same run, each on a fresh local host: rollback
// and deploy times as the client sees them through the proxy, the requests an unhealthy release answers during its
// deploy, failed GET and POST requests through the proxy for both example apps (drains / exits at once) at 200 req/s
// and at 90 % of the proxy's capacity, and the host memory the warm previous release costs.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { PipelineConfig } from "../src/config/types";
import {
  type RunnerFiles,
  buildArtifact,
  generateDeployKey,
  newReleaseId,
  provisionHost,
  rollbackRelease,
  shipRelease,
  stackOnHosts,
  writeRunnerFiles,
} from "../src/sandbox";
import { type HostHandle, connect } from "../src/testhost";
import { medianPhases } from "./agentPhases";
import { type HostMemory, MIB, hostMemory } from "./hostMemory";
import { type Endpoint, LOAD, type LoadTarget, type SteadyLoad, UPLOAD_BYTES, steadyLoad } from "./load";
import { type OperationRun, measureOperation } from "./measure";
import { type Figure, type Row, figure, met, renderTable } from "./table";
import { APPS, MAX_RATE_CONNECTIONS, MAX_RATE_SECONDS, SITE, SUSTAINED_SHARE } from "./throughProxy";

export type Strategy = PipelineConfig["deploy"]["strategy"];
type PreviousRelease = PipelineConfig["deploy"]["previousRelease"];

/** One app at one rate: the deploys and rollbacks (each deploy followed by a rollback), then one unhealthy deploy. */
export interface ReleaseCase {
  app: string;
  rate: number;
  deploys: OperationRun[];
  rollbacks: OperationRun[];
  unhealthy: { release: string; run: OperationRun };
}

export interface StrategyBench {
  strategy: Strategy;
  cases: ReleaseCase[];
  /** After the first deploy on the host: one release. */
  oneRelease: HostMemory;
  /** After each deploy of the first case: the previous release warm (sideBySide) or gone (reload). */
  afterDeploys: HostMemory[];
  /** sideBySide only: after two deploys with deploy.previousRelease "stopped". */
  previousStopped?: HostMemory;
}

export interface ReleasesBench {
  /** Unthrottled, through the proxy, GET and POST, nothing deploying (on the first strategy's host). */
  capacity: SteadyLoad;
  sustainedRate: number;
  strategies: StrategyBench[];
}

/** What the bench needs from its caller: hosts it creates and destroys (its exit handlers clean up after a crash). */
export interface HostPool {
  create(): Promise<HostHandle>;
  destroy(host: HostHandle): Promise<void>;
}

/** The judged side first: its host measures the proxy's capacity the other side's load is set from. */
export const STRATEGIES: readonly Strategy[] = ["sideBySide", "reload"];

function releaseConfig(
  host: HostHandle,
  strategy: Strategy,
  previousRelease: PreviousRelease,
): PipelineConfig {
  return stackOnHosts([host], {
    url: `https://${SITE}`,
    // stackOnHosts' deploy settings, and the strategy under test.
    deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 30, strategy, previousRelease },
  });
}

export async function benchReleases(
  pool: HostPool,
  workDir: string,
  repeat: number,
  log: (message: string) => void,
  strategies: readonly Strategy[] = STRATEGIES,
): Promise<ReleasesBench> {
  let capacity: SteadyLoad | undefined;
  const results: StrategyBench[] = [];
  for (const strategy of strategies) {
    const host = await pool.create();
    try {
      const result = await benchStrategy(host, strategy, workDir, repeat, log, async (target) => {
        capacity ??= await measureCapacity(target, log);
        return Math.floor(capacity.rate * SUSTAINED_SHARE);
      });
      results.push(result);
    } finally {
      await pool.destroy(host);
    }
  }
  if (capacity === undefined) throw new Error("releases: no strategy measured");
  return { capacity, sustainedRate: Math.floor(capacity.rate * SUSTAINED_SHARE), strategies: results };
}

async function measureCapacity(target: LoadTarget, log: (message: string) => void): Promise<SteadyLoad> {
  const capacity = await steadyLoad({ ...target, rate: Infinity }, MAX_RATE_SECONDS, MAX_RATE_CONNECTIONS);
  log(
    `releases: proxy capacity ${capacity.rate.toFixed(0)} req/s, GET and POST (${MAX_RATE_CONNECTIONS} connections, ${capacity.failed} failed)`,
  );
  return capacity;
}

interface Shipper {
  config: PipelineConfig;
  files: RunnerFiles;
  /** A fresh release built and deployed; throws when the deploy fails. */
  deployOk(what: string): Promise<string>;
}

async function benchStrategy(
  host: HostHandle,
  strategy: Strategy,
  workDir: string,
  repeat: number,
  log: (message: string) => void,
  sustainedRate: (target: LoadTarget) => Promise<number>,
): Promise<StrategyBench> {
  const key = generateDeployKey("pipeline-ci-0");
  const dir = mkdtempSync(join(workDir, `${strategy}-`));
  const provision = async (previousRelease: PreviousRelease, env: string): Promise<Shipper> => {
    const config = releaseConfig(host, strategy, previousRelease);
    await provisionHost(host, config, {
      npmRegistry: host.npmRegistry,
      appEnv: `GREETING=hello from the bench\n${env}`,
      deployPublicKey: key.publicKey,
    });
    const files = writeRunnerFiles(config, key.privateKey, dir);
    return {
      config,
      files,
      async deployOk(what) {
        const release = newReleaseId();
        const artifact = buildArtifact(config, { label: release }, dir);
        const result = await shipRelease(config, files, artifact, release);
        if (result.code !== 0)
          throw new Error(`releases: ${strategy}: ${what} failed:\n${result.stdout}${result.stderr}`);
        return release;
      },
    };
  };
  const watched: Endpoint = { url: `https://${host.address}/`, site: SITE };
  const proxied = (rate: number): LoadTarget => ({ ...watched, rate, post: true });
  const session = await connect(host);
  try {
    let oneRelease: HostMemory | undefined;
    const afterDeploys: HostMemory[] = [];
    const cases: ReleaseCase[] = [];
    for (const { app, env } of APPS) {
      log(`releases: ${strategy}: provisioning for ${app} ...`);
      const { config, files, deployOk } = await provision("warm", env);
      // Its workers start with the app's new environment: the release every rollback goes back to.
      const releaseA = await deployOk("warm-up deploy");
      oneRelease ??= await hostMemory(session, config);
      for (const rate of [LOAD.rate, await sustainedRate(proxied(Infinity))]) {
        const measured = (
          release: string,
          operation: Parameters<typeof measureOperation>[2],
        ): Promise<OperationRun> => measureOperation(watched, release, operation, proxied(rate));
        const releaseCase: Omit<ReleaseCase, "unhealthy"> = { app, rate, deploys: [], rollbacks: [] };
        for (let i = 1; i <= repeat; i++) {
          const releaseB = newReleaseId();
          const artifact = buildArtifact(config, { label: releaseB }, dir); // CI's build job: not part of the deploy
          const deploy = await measured(releaseB, () => shipRelease(config, files, artifact, releaseB));
          logRun(log, strategy, app, rate, `deploy ${i}`, deploy);
          releaseCase.deploys.push(deploy);
          if (cases.length === 0) afterDeploys.push(await hostMemory(session, config));
          const rollback = await measured(releaseA, () => rollbackRelease(config, files, releaseA));
          logRun(log, strategy, app, rate, `rollback ${i}`, rollback);
          releaseCase.rollbacks.push(rollback);
        }
        const bad = newReleaseId();
        const badArtifact = buildArtifact(config, { label: bad, healthy: false }, dir);
        // Its deploy fails by design: the previous release (A) must be serving once it ends.
        const unhealthy = await measured(releaseA, () => shipRelease(config, files, badArtifact, bad));
        logRun(log, strategy, app, rate, `unhealthy deploy (${bad})`, unhealthy, bad);
        cases.push({ ...releaseCase, unhealthy: { release: bad, run: unhealthy } });
      }
    }
    if (oneRelease === undefined) throw new Error("releases: no app measured");
    let previousStopped: HostMemory | undefined;
    if (strategy === "sideBySide") {
      log(`releases: ${strategy}: memory with deploy.previousRelease stopped ...`);
      const stopped = await provision("stopped", APPS[0].env);
      await stopped.deployOk("deploy with previousRelease stopped");
      await stopped.deployOk("second deploy with previousRelease stopped");
      previousStopped = await hostMemory(session, stopped.config);
    }
    return { strategy, cases, oneRelease, afterDeploys, ...(previousStopped ? { previousStopped } : {}) };
  } finally {
    session.end();
  }
}

function errorKinds(run: OperationRun): string {
  return Object.entries(run.load.errorKinds)
    .map(([kind, count]) => `${kind} x${count}`)
    .join(", ");
}

function logRun(
  log: (message: string) => void,
  strategy: Strategy,
  app: string,
  rate: number,
  what: string,
  run: OperationRun,
  unhealthyRelease?: string,
): void {
  const { answers } = run.load;
  const kinds = errorKinds(run);
  log(
    `releases: ${strategy}, ${app}, ${rate} req/s, ${what}: exit ${run.ok ? 0 : "non-zero"}, ` +
      `serving ${run.servingSeconds?.toFixed(2) ?? "never"} s, script ${run.totalSeconds.toFixed(2)} s, ` +
      `failed ${run.load.failed}/${run.load.sent} (GET non-2xx ${answers.GET.non2xx}, POST non-2xx ${answers.POST.non2xx}, ` +
      `errors ${run.load.errors}${kinds ? `: ${kinds}` : ""})` +
      (unhealthyRelease === undefined ? "" : `, answers from it ${run.load.builds[unhealthyRelease] ?? 0}`),
  );
  // An unhealthy deploy fails by design.
  if (!run.ok && unhealthyRelease === undefined)
    log(`releases: ${what} failed; its output:\n${run.output.slice(-3000)}`);
}

const SIDES = { pipeline: "sideBySide (warm)", inPlace: "reload" };

const mib = (bytes: number): string => (bytes / MIB).toFixed(1);

/** GET / answers through the proxy that came from the unhealthy release. */
export function unhealthyAnswers(releaseCase: ReleaseCase): number {
  return releaseCase.unhealthy.run.load.builds[releaseCase.unhealthy.release] ?? 0;
}

function operations(releaseCase: ReleaseCase): OperationRun[] {
  return [...releaseCase.deploys, ...releaseCase.rollbacks, releaseCase.unhealthy.run];
}

/** The figures of one side, or none when that strategy was not measured. */
function sideFigure(
  side: StrategyBench | undefined,
  values: (s: StrategyBench) => (number | null)[],
): Figure {
  return figure(side === undefined ? [] : values(side));
}

/** The timed runs: the first app (it drains) at LOAD.rate. */
function timedCase(side: StrategyBench): ReleaseCase | undefined {
  return side.cases[0];
}

export function releasesRows(bench: ReleasesBench): Row[] {
  const sideBySide = bench.strategies.find((s) => s.strategy === "sideBySide");
  const reload = bench.strategies.find((s) => s.strategy === "reload");
  const row = (
    name: string,
    unit: Row["unit"],
    values: (s: StrategyBench) => (number | null)[],
    target: Row["target"],
    reloadValues = values,
  ): Row => ({
    name,
    unit,
    pipeline: sideFigure(sideBySide, values),
    inPlace: sideFigure(reload, reloadValues),
    ...(target ? { target } : {}),
  });
  const warmRss = (s: StrategyBench): number[] => s.afterDeploys.map((m) => m.rssBytes / MIB);
  return [
    row(
      "rollback start -> previous release serving (warm)",
      "s",
      (s) => timedCase(s)?.rollbacks.map((r) => r.servingSeconds) ?? [],
      { text: "<= 0.3 s", atMost: 0.3 },
    ),
    row(
      "deploy start -> new release serving, lockfile unchanged",
      "s",
      (s) => timedCase(s)?.deploys.map((r) => r.servingSeconds) ?? [],
      { text: "<= 1.5 s", atMost: 1.5 },
    ),
    row(
      "requests answered by an unhealthy release during its deploy",
      "count",
      (s) => s.cases.map(unhealthyAnswers),
      {
        text: "0",
        atMost: 0,
      },
    ),
    row(
      "failed requests, GET and POST, per deploy or rollback (both apps, both rates)",
      "count",
      (s) => s.cases.flatMap(operations).map((r) => r.load.failed),
      { text: "0", atMost: 0 },
    ),
    row("memory, previous release warm: app RSS", "MiB", warmRss, { text: "reported" }),
    row(
      "memory, previousRelease stopped: app RSS",
      "MiB",
      (s) => (s.previousStopped ? [s.previousStopped.rssBytes / MIB] : []),
      { text: "reported" },
      warmRss,
    ),
  ];
}

function perRun(runs: readonly OperationRun[]): string {
  const counts = runs.map((r) => r.load.failed);
  return `${counts.reduce((a, b) => a + b, 0)} (${counts.join(", ")})`;
}

function memoryText(memory: HostMemory): string {
  const apps = memory.apps.map((a) => `${a.name} ${a.processes} proc ${mib(a.rssBytes)}`).join(", ");
  return `app RSS ${mib(memory.rssBytes)} MiB (pm2: ${apps || "no app"}), MemAvailable ${mib(memory.memAvailableBytes)} MiB`;
}

function memoryLines(side: StrategyBench): string[] {
  const last = side.afterDeploys.at(-1);
  const lines = [
    `memory, ${side.strategy}: one release (after the first deploy): ${memoryText(side.oneRelease)}`,
    ...side.afterDeploys.map(
      (m, i) => `memory, ${side.strategy}: after measured deploy ${i + 1}: ${memoryText(m)}`,
    ),
  ];
  if (last)
    lines.push(
      `memory, ${side.strategy}: MemAvailable before -> after the deploys ${mib(side.oneRelease.memAvailableBytes)} -> ${mib(last.memAvailableBytes)} MiB ` +
        `(change ${mib(last.memAvailableBytes - side.oneRelease.memAvailableBytes)} MiB); app RSS ${mib(side.oneRelease.rssBytes)} -> ${mib(last.rssBytes)} MiB`,
    );
  if (side.previousStopped)
    lines.push(
      `memory, ${side.strategy} with previousRelease stopped (after two deploys): ${memoryText(side.previousStopped)}`,
    );
  return lines;
}

function scriptMedians(side: StrategyBench): string {
  const c = timedCase(side);
  const median = (runs: readonly OperationRun[]): string =>
    figure(runs.map((r) => r.totalSeconds)).median?.toFixed(2) ?? "n/a";
  const phases = (runs: readonly OperationRun[]): string =>
    medianPhases(runs.map((r) => r.output)) || "none reported";
  return (
    `${side.strategy}, timed runs (medians): deploy script ${median(c?.deploys ?? [])} s, agent phases (s) ${phases(c?.deploys ?? [])}; ` +
    `rollback script ${median(c?.rollbacks ?? [])} s, agent phases (s) ${phases(c?.rollbacks ?? [])}`
  );
}

/** The releases part's table, its notes and the per-case breakdown. */
export function releasesReport(bench: ReleasesBench, repeat: number): string[] {
  const rows = releasesRows(bench);
  const header =
    "| strategy | app | load | failed in deploys (per run) | failed in rollbacks (per run) | failed in the unhealthy deploy | GET non-2xx | POST non-2xx | errors | requests sent | achieved rate | answers from the unhealthy release |";
  const caseRows = bench.strategies.flatMap((side) =>
    side.cases.map((c) => {
      const all = operations(c);
      const sum = (value: (r: OperationRun) => number): number => all.reduce((s, r) => s + value(r), 0);
      const kinds = [...new Set(all.flatMap((r) => Object.keys(r.load.errorKinds)))].join(", ");
      return (
        `| ${side.strategy} | ${c.app} | ${c.rate} req/s | ${perRun(c.deploys)} | ${perRun(c.rollbacks)} | ${c.unhealthy.run.load.failed} | ` +
        `${sum((r) => r.load.answers.GET.non2xx)} | ${sum((r) => r.load.answers.POST.non2xx)} | ${sum((r) => r.load.errors)}${kinds ? ` (${kinds})` : ""} | ` +
        `${sum((r) => r.load.sent)} | ${(sum((r) => r.load.sent) / sum((r) => r.load.seconds)).toFixed(0)} req/s | ${unhealthyAnswers(c)} of ${c.unhealthy.run.load.answers.GET.received} GET answers |`
      );
    }),
  );
  const missed = rows.filter((r) => met(r) === false);
  return [
    `side-by-side releases (deploy.strategy sideBySide, previousRelease warm) vs the in-place reload (deploy.strategy reload), ` +
      `each on a fresh local host, same run: median (max)`,
    "",
    renderTable(rows, SIDES),
    "",
    `times: ${repeat} deploys and ${repeat} rollbacks of example-app (drains on SIGINT) at ${LOAD.rate} req/s, from script start (shipRelease/rollbackRelease over OpenSSH) ` +
      "to the first poll through the proxy (a new TLS connection every 50 ms, 1 s timeout) after which every answer, until 1 s past the script's end, " +
      "came from the expected release (the build label in GET /'s body).",
    `load: autocannon through the proxy (Caddy, HTTPS, site ${SITE}), GET / and POST /upload (${UPLOAD_BYTES} bytes of JSON) in turn on ${LOAD.connections} keep-alive connections, ` +
      `at ${LOAD.rate} req/s and at ${bench.sustainedRate} req/s (${Math.round(SUSTAINED_SHARE * 100)} % of ${bench.capacity.rate.toFixed(0)} req/s, the same mix unthrottled over ` +
      `${MAX_RATE_CONNECTIONS} connections, ${bench.capacity.failed} failed); failed = non-2xx + errors (timeouts included); achieved rate = requests sent / seconds under load (the load generator shares this machine's cores with the host); per app and rate: ${repeat} deploys, ${repeat} rollbacks, ` +
      "then one deploy of a release whose /health answers 503 (its GET / answers 200 with its build label: those answers are the unhealthy row).",
    `memory: app RSS = resident set of every process of the stack's app under pm2 (pm2 jlist: <app> or both <app>-<port> slots; pm2's modules listed, not counted), after each measured deploy at ${LOAD.rate} req/s of the first app; ` +
      "MemAvailable is this machine's (a test host is a namespace of it): other work on the machine moves it.",
    "",
    header,
    `|${"---|".repeat(12)}`,
    ...caseRows,
    "",
    ...bench.strategies.map(scriptMedians),
    ...bench.strategies.flatMap(memoryLines),
    missed.length === 0
      ? "targets: all met by sideBySide"
      : `target missed by sideBySide: ${missed.map((r) => r.name).join("; ")}`,
  ];
}
