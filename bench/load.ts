// Steady HTTP load (autocannon, programmatic) for the duration of one operation, bounded in count and time.
import autocannon from "autocannon";
import { answeringBuild } from "./answer";

interface LoadSettings {
  /** Requests per second over all connections (autocannon overallRate). */
  rate: number;
  connections: number;
  /** Load runs this long before the operation starts, so the operation meets a steady stream. */
  leadMs: number;
  /** And this long after it ends: requests in flight when it ends resolve or time out inside this window. */
  tailMs: number;
  /** Per-request timeout (s); a timed-out request counts as failed. */
  timeoutSeconds: number;
  /** Hard bound: the load stops by itself after this many seconds, whatever the operation does. */
  maxSeconds: number;
}

export const LOAD: LoadSettings = {
  rate: 200,
  connections: 10,
  leadMs: 1000,
  tailMs: 2500,
  timeoutSeconds: 2,
  maxSeconds: 90,
};

export interface LoadCount {
  sent: number;
  non2xx: number;
  /** Connection errors, timeouts included (autocannon counts timeouts in errors). */
  errors: number;
  timeouts: number;
  /** non2xx + errors: every request that did not get a 2xx answer. */
  failed: number;
  seconds: number;
  /** Request errors by kind (errno code, or the message when there is none), e.g. ECONNRESET, "request timed out". */
  errorKinds: Record<string, number>;
  /** Answers received per method, and how many of them were not 2xx (errors have no answer: see errors). */
  answers: Record<LoadMethod, { received: number; non2xx: number }>;
  /** 200 answers to GET / per release (the example app's `build` label; answers without one are not counted). */
  builds: Record<string, number>;
}

/** Where requests go: a url, and for the proxy the site name (Host header and TLS SNI) it serves. */
export interface Endpoint {
  url: string;
  site?: string;
}

export interface LoadTarget extends Endpoint {
  /** Requests per second over all connections. */
  rate: number;
  /** Every connection sends GET <url> and POST /upload (UPLOAD_BYTES of JSON) in turn; without it, GET only. */
  post?: boolean;
}

type LoadMethod = "GET" | "POST";

/** Body size of the load's POST /upload (the example app reads the whole body and answers its size). */
export const UPLOAD_BYTES = 1024;

interface Measured<T> {
  value: T;
  load: LoadCount;
}

const LOOPBACK_OR_TEST_HOST = /^https?:\/\/(127\.0\.0\.1|localhost|10\.200\.\d{1,3}\.2)(:\d+)?\//;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type OnAnswer = (method: LoadMethod, status: number, body: string) => void;

/** The requests every connection sends in turn; `onAnswer` sees each answer (autocannon keeps bodies for it). */
export function loadRequests(target: LoadTarget, onAnswer?: OnAnswer): autocannon.Request[] {
  const request = (method: LoadMethod, fields: autocannon.Request): autocannon.Request => ({
    method,
    ...fields,
    ...(onAnswer ? { onResponse: (status: number, body: string) => onAnswer(method, status, body) } : {}),
  });
  const get = request("GET", { path: new URL(target.url).pathname });
  if (target.post !== true) return [get];
  const body = JSON.stringify({ filler: "x".repeat(UPLOAD_BYTES - '{"filler":""}'.length) });
  return [get, request("POST", { path: "/upload", body, headers: { "content-type": "application/json" } })];
}

/** autocannon's options for a target; the certificate is not checked (the host tests check the proxy's TLS). */
function targetOptions(target: LoadTarget, onAnswer?: OnAnswer): autocannon.Options {
  if (!LOOPBACK_OR_TEST_HOST.test(target.url))
    throw new Error(`load may only target loopback or a test host (10.200.N.2): ${target.url}`);
  return {
    url: target.url,
    ...(target.site !== undefined ? { servername: target.site, headers: { host: target.site } } : {}),
    requests: loadRequests(target, onAnswer),
    connections: LOAD.connections,
    timeout: LOAD.timeoutSeconds,
  };
}

/** Counts answers per method and GET answers per release, for LoadCount. */
export function answerCounter(): Pick<LoadCount, "answers" | "builds"> & { onAnswer: OnAnswer } {
  const answers: LoadCount["answers"] = { GET: { received: 0, non2xx: 0 }, POST: { received: 0, non2xx: 0 } };
  const builds: Record<string, number> = {};
  return {
    answers,
    builds,
    onAnswer(method, status, body) {
      answers[method].received++;
      if (status < 200 || status > 299) answers[method].non2xx++;
      const build = method === "GET" ? answeringBuild(status, body) : null;
      if (build !== null) builds[build] = (builds[build] ?? 0) + 1;
    },
  };
}

/** Runs `operation` while the target receives a steady rate; returns its value and what the load saw. */
export async function underLoad<T>(target: LoadTarget, operation: () => Promise<T>): Promise<Measured<T>> {
  let instance: autocannon.Instance | undefined;
  const counter = answerCounter();
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        ...targetOptions(target, counter.onAnswer),
        overallRate: target.rate,
        duration: LOAD.maxSeconds,
        amount: target.rate * LOAD.maxSeconds,
      },
      (error: unknown, result: autocannon.Result) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result),
    );
  });
  done.catch(() => undefined); // awaited below; a failing operation must not leave an unhandled rejection
  const started = instance;
  if (!started) throw new Error("autocannon did not start");
  const errorKinds: Record<string, number> = {};
  started.on("reqError", (error: unknown) => {
    const kind = errorKind(error);
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  });
  const hardStop = setTimeout(() => started.stop(), LOAD.maxSeconds * 1000 + 1000);
  try {
    await sleep(LOAD.leadMs);
    const value = await operation();
    await sleep(LOAD.tailMs);
    started.stop();
    const result = await done;
    return {
      value,
      load: {
        sent: result.requests.sent,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        failed: result.non2xx + result.errors,
        seconds: result.duration,
        errorKinds,
        answers: counter.answers,
        builds: counter.builds,
      },
    };
  } finally {
    clearTimeout(hardStop);
    started.stop();
  }
}

export interface SteadyLoad {
  /** Requests per second the run achieved (sent / duration). */
  rate: number;
  sent: number;
  failed: number;
  p50: number;
  p99: number;
}

/**
 * Load for `seconds` with nothing else going on: at `target.rate`, or as fast as the connections go when the rate
 * is Infinity (the highest rate the host sustains). Latencies in ms, from autocannon's histogram.
 */
export function steadyLoad(
  target: LoadTarget,
  seconds: number,
  connections = LOAD.connections,
): Promise<SteadyLoad> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        ...targetOptions(target),
        connections,
        duration: seconds,
        ...(Number.isFinite(target.rate) ? { overallRate: target.rate } : {}),
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        resolve({
          rate: result.requests.sent / result.duration,
          sent: result.requests.sent,
          failed: result.non2xx + result.errors,
          p50: result.latency.p50,
          p99: result.latency.p99,
        });
      },
    );
  });
}

function errorKind(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    if ("code" in error && typeof error.code === "string") return error.code;
    if ("message" in error && typeof error.message === "string") return error.message;
  }
  return String(error);
}
