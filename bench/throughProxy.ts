// The reverse proxy under in-place deploys and rollbacks (deploy.strategy reload). Two apps: example-app as it is (drains its connections on SIGINT)
// and example-app with EXAMPLE_APP_DRAIN=off (exits at once on SIGINT, as most apps do). Each is deployed and rolled
// back under load sent straight to its port and through the proxy (HTTPS, Caddy's local CA), at 200 req/s and near
// the highest rate this machine sustains through the proxy; and the proxy's latency is compared with the direct path.
import {
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
import type { HostHandle } from "../src/testhost";
import { INPLACE } from "./inplace";
import { LOAD, type LoadTarget, type SteadyLoad, steadyLoad } from "./load";
import { type OperationRun, type SideRuns, measureOperation } from "./measure";

/** The site the proxy serves in the bench (Host header and SNI; the load connects to the host's address). */
export const SITE = "app.pipeline.test";
/** "Highest rate the host sustains": this share of the rate measured with unthrottled connections. */
export const SUSTAINED_SHARE = 0.9;
export const MAX_RATE_CONNECTIONS = 32;
export const MAX_RATE_SECONDS = 6;
const LATENCY_SECONDS = 10;

export interface LoadCase {
  via: "direct" | "proxy";
  rate: number;
  runs: SideRuns;
}

export interface AppCase {
  app: string;
  cases: LoadCase[];
}

export interface ProxyBench {
  /** Unthrottled, through the proxy, nothing deploying. */
  capacity: SteadyLoad;
  sustainedRate: number;
  latency: { direct: SteadyLoad; proxy: SteadyLoad };
  apps: AppCase[];
}

/** The two apps every proxy part deploys: one that drains on SIGINT and one that exits at once. */
export const APPS = [
  { app: "example-app (drains on SIGINT)", env: "" },
  { app: "example-app, EXAMPLE_APP_DRAIN=off (exits at once on SIGINT)", env: "EXAMPLE_APP_DRAIN=off\n" },
] as const;

export async function benchProxy(
  host: HostHandle,
  workDir: string,
  repeat: number,
  log: (message: string) => void,
): Promise<ProxyBench> {
  // The in-place reload (deploy.strategy reload), whose app answers on app.port for the direct path; side-by-side
  // releases through the proxy are the releases part (releases.ts).
  const config = stackOnHosts([host], {
    url: `https://${SITE}`,
    firewall: { extraTcpPorts: [EXAMPLE_APP.port, INPLACE.port] },
    deploy: { healthTimeoutSeconds: 20, lockTimeoutSeconds: 30, strategy: "reload" },
  });
  const key = generateDeployKey("pipeline-ci-0");
  const files = writeRunnerFiles(config, key.privateKey, workDir);
  const watchUrl = `http://${host.address}:${config.app.port}/`;
  const direct = (rate: number): LoadTarget => ({ url: watchUrl, rate });
  const proxied = (rate: number): LoadTarget => ({ url: `https://${host.address}/`, site: SITE, rate });

  let capacity: SteadyLoad | undefined;
  const apps: AppCase[] = [];
  for (const { app, env } of APPS) {
    log(`proxy: provisioning for ${app} ...`);
    await provisionHost(host, config, {
      npmRegistry: host.npmRegistry,
      appEnv: `GREETING=hello from the bench\n${env}`,
      deployPublicKey: key.publicKey,
    });
    // Its workers start with the app's new environment: the release every rollback goes back to.
    const releaseA = newReleaseId();
    const warmUp = await shipRelease(
      config,
      files,
      buildArtifact(config, { label: releaseA }, workDir),
      releaseA,
    );
    if (warmUp.code !== 0) throw new Error(`proxy: warm-up deploy failed:\n${warmUp.stdout}${warmUp.stderr}`);

    if (capacity === undefined) {
      capacity = await steadyLoad(proxied(Infinity), MAX_RATE_SECONDS, MAX_RATE_CONNECTIONS);
      log(
        `proxy: capacity ${capacity.rate.toFixed(0)} req/s (${MAX_RATE_CONNECTIONS} connections, ${capacity.failed} failed)`,
      );
    }
    const sustained = Math.floor(capacity.rate * SUSTAINED_SHARE);
    const cases: LoadCase[] = [
      { via: "direct", rate: LOAD.rate, runs: { deploys: [], rollbacks: [] } },
      { via: "proxy", rate: LOAD.rate, runs: { deploys: [], rollbacks: [] } },
      { via: "proxy", rate: sustained, runs: { deploys: [], rollbacks: [] } },
    ];
    for (const loadCase of cases) {
      const target = loadCase.via === "direct" ? direct(loadCase.rate) : proxied(loadCase.rate);
      for (let i = 1; i <= repeat; i++) {
        const releaseB = newReleaseId();
        const artifact = buildArtifact(config, { label: releaseB }, workDir);
        const deploy = await measureOperation(
          watchUrl,
          releaseB,
          () => shipRelease(config, files, artifact, releaseB),
          target,
        );
        loadCase.runs.deploys.push(checked(deploy, `deploy ${i}`, app, loadCase, log));
        const rollback = await measureOperation(
          watchUrl,
          releaseA,
          () => rollbackRelease(config, files, releaseA),
          target,
        );
        loadCase.runs.rollbacks.push(checked(rollback, `rollback ${i}`, app, loadCase, log));
      }
    }
    apps.push({ app, cases });
  }
  if (capacity === undefined) throw new Error("proxy: no app measured");
  log("proxy: latency, direct and through the proxy ...");
  const latency = {
    direct: await steadyLoad(direct(LOAD.rate), LATENCY_SECONDS),
    proxy: await steadyLoad(proxied(LOAD.rate), LATENCY_SECONDS),
  };
  return { capacity, sustainedRate: Math.floor(capacity.rate * SUSTAINED_SHARE), latency, apps };
}

function checked(
  run: OperationRun,
  what: string,
  app: string,
  loadCase: LoadCase,
  log: (message: string) => void,
): OperationRun {
  const kinds = Object.entries(run.load.errorKinds)
    .map(([kind, count]) => `${kind} x${count}`)
    .join(", ");
  log(
    `proxy: ${app}, ${loadCase.via} at ${loadCase.rate} req/s, ${what}: exit ${run.ok ? 0 : "non-zero"}, ` +
      `failed ${run.load.failed}/${run.load.sent} (non-2xx ${run.load.non2xx}, errors ${run.load.errors}${kinds ? `: ${kinds}` : ""})`,
  );
  if (!run.ok) log(`proxy: ${what} failed; its output:\n${run.output.slice(-3000)}`);
  return run;
}

function failedCounts(runs: readonly OperationRun[]): string {
  const counts = runs.map((r) => r.load.failed);
  return `${counts.reduce((a, b) => a + b, 0)} (${counts.join(", ")})`;
}

function sentCount(runs: readonly OperationRun[]): number {
  return runs.reduce((sum, r) => sum + r.load.sent, 0);
}

/** The proxy's table: failed requests per app, path and rate; then capacity and latency. */
export function proxyReport(bench: ProxyBench, repeat: number): string[] {
  const header =
    "| app | load | failed during deploys (per run) | failed during rollbacks (per run) | requests sent |";
  const rows = bench.apps.flatMap(({ app, cases }) =>
    cases.map(
      ({ via, rate, runs }) =>
        `| ${app} | ${via} ${rate} req/s | ${failedCounts(runs.deploys)} | ${failedCounts(runs.rollbacks)} | ${sentCount([...runs.deploys, ...runs.rollbacks])} |`,
    ),
  );
  const { direct, proxy } = bench.latency;
  const proxied = bench.apps.flatMap(({ cases }) => cases.filter((c) => c.via === "proxy"));
  const proxyFailed = proxied.reduce(
    (sum, c) => sum + [...c.runs.deploys, ...c.runs.rollbacks].reduce((s, r) => s + r.load.failed, 0),
    0,
  );
  return [
    `through the reverse proxy (Caddy, HTTPS), ${repeat} deploys and ${repeat} rollbacks per line; target: 0 failed through the proxy`,
    "",
    header,
    "|---|---|---|---|---|",
    ...rows,
    "",
    `highest rate through the proxy: ${bench.capacity.rate.toFixed(0)} req/s unthrottled (${MAX_RATE_CONNECTIONS} connections, ${MAX_RATE_SECONDS} s, ${bench.capacity.failed} failed, p99 ${bench.capacity.p99} ms); ` +
      `the "sustained" lines run at ${Math.round(SUSTAINED_SHARE * 100)}% of it: ${bench.sustainedRate} req/s. Load generator and host share this machine's cores.`,
    `latency at ${LOAD.rate} req/s over ${LATENCY_SECONDS} s, GET /: direct p50 ${direct.p50} ms, p99 ${direct.p99} ms; ` +
      `through the proxy (TLS) p50 ${proxy.p50} ms, p99 ${proxy.p99} ms; overhead p50 +${(proxy.p50 - direct.p50).toFixed(1)} ms, p99 +${(proxy.p99 - direct.p99).toFixed(1)} ms.`,
    proxyFailed === 0
      ? "failed requests through the proxy: 0 (target met)"
      : `target missed: ${proxyFailed} failed requests through the proxy`,
  ];
}
