// Which release answers GET /: polled on a fresh connection each time (pm2 cluster mode spreads connections over
// its workers), bounded by a deadline, so "the new release is serving" is observed from outside the host.
import http from "node:http";

export interface Sample {
  /** ms since the watch started, taken when the request was sent. */
  sentAt: number;
  /** The `build` field of the answer; null for an error or a non-200 answer. */
  label: string | null;
}

export interface Watch {
  /** performance.now() at the start of the watch: sample times are relative to it. */
  origin: number;
  /** Stops polling (after the request in flight) and returns every sample. */
  stop(): Promise<Sample[]>;
}

function fetchLabel(url: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        if (response.statusCode !== 200) return resolve(null);
        try {
          const parsed: unknown = JSON.parse(body);
          const build =
            typeof parsed === "object" && parsed !== null && "build" in parsed ? parsed.build : null;
          resolve(typeof build === "string" ? build : null);
        } catch {
          resolve(null);
        }
      });
      response.on("error", () => resolve(null));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(null));
  });
}

/** Polls `url` every `intervalMs` until stop() or `maxMs`, whichever comes first. */
export function watchRelease(url: string, intervalMs = 50, maxMs = 90_000): Watch {
  const origin = performance.now();
  const samples: Sample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped && performance.now() - origin < maxMs) {
      const sentAt = performance.now() - origin;
      samples.push({ sentAt, label: await fetchLabel(url, 1000) });
      const wait = intervalMs - (performance.now() - origin - sentAt);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    origin,
    async stop() {
      stopped = true;
      await loop;
      return samples;
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
