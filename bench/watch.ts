// Which release answers GET /: polled on a fresh connection each time (pm2 cluster mode spreads connections over
// its workers), bounded by a deadline, so "the new release is serving" is observed from outside the host.
import http from "node:http";
import https from "node:https";
import { answeringBuild } from "./answer";
import type { Endpoint } from "./load";

interface Sample {
  /** ms since the watch started, taken when the request was sent. */
  sentAt: number;
  /** The `build` field of the answer; null for an error or a non-200 answer. */
  label: string | null;
}

interface Watch {
  /** performance.now() at the start of the watch: sample times are relative to it. */
  origin: number;
  /** Stops polling, waits for the polls in flight and returns every sample in the order they were sent. */
  stop(): Promise<Sample[]>;
}

function fetchLabel(target: Endpoint, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const secure = target.url.startsWith("https:");
    const options: https.RequestOptions = {
      agent: false,
      timeout: timeoutMs,
      // Through the proxy: its site name, and Caddy's local CA, which this machine does not trust.
      ...(target.site !== undefined
        ? { servername: target.site, headers: { host: target.site }, rejectUnauthorized: false }
        : {}),
    };
    const request = (secure ? https : http).get(target.url, options, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve(answeringBuild(response.statusCode, body)));
      response.on("error", () => resolve(null));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(null));
  });
}

const POLL_INTERVAL_MS = 50;
const POLL_TIMEOUT_MS = 1000;
const WATCH_MAX_MS = 90_000;

/**
 * Sends a poll to `target` every POLL_INTERVAL_MS, without waiting for the previous one (a hung poll does not stop the
 * sampling), until stop() or WATCH_MAX_MS, whichever comes first. Each poll times out after POLL_TIMEOUT_MS, so
 * at most POLL_TIMEOUT_MS / POLL_INTERVAL_MS polls are in flight.
 */
export function watchRelease(target: Endpoint): Watch {
  const origin = performance.now();
  const pending: Promise<Sample>[] = [];
  const poll = (): void => {
    const sentAt = performance.now() - origin;
    pending.push(fetchLabel(target, POLL_TIMEOUT_MS).then((label) => ({ sentAt, label })));
  };
  poll();
  const timer = setInterval(() => {
    if (performance.now() - origin < WATCH_MAX_MS) poll();
    else clearInterval(timer);
  }, POLL_INTERVAL_MS);
  return {
    origin,
    async stop() {
      clearInterval(timer);
      const samples = await Promise.all(pending);
      return samples.sort((a, b) => a.sentAt - b.sentAt);
    },
  };
}

/**
 * When `label` started serving for good: the send time of the first sample of the last unbroken run of answers
 * from `label` (every later poll, to the end of the watch, answered `label`). null if the last answer was not it.
 */
export function servingSince(samples: readonly Sample[], label: string): number | null {
  let since: number | null = null;
  for (const sample of samples) {
    if (sample.label === label) since ??= sample.sentAt;
    else since = null;
  }
  return since;
}

/** The send time of the first sample answered by `label` (the first worker of the new release), or null. */
export function firstSeen(samples: readonly Sample[], label: string): number | null {
  return samples.find((s) => s.label === label)?.sentAt ?? null;
}
