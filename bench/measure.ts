// One measured operation: a script (deploy or rollback) run under steady load while GET / is watched for the
// release that should end up serving.
import { type Endpoint, LOAD, type LoadCount, type LoadTarget, underLoad } from "./load";
import { firstSeen, servingSince, watchRelease } from "./watch";

interface ScriptOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface OperationRun {
  ok: boolean;
  /** Script start → script end. */
  totalSeconds: number;
  /** Script start → the first poll of the last unbroken run of answers from the expected release; null: never. */
  servingSeconds: number | null;
  /** Script start → the first answer from the expected release (first new worker up); null: never. */
  firstSeenSeconds: number | null;
  load: LoadCount;
  output: string;
}

/** The deploys and rollbacks of one side of a comparison. */
export interface SideRuns {
  deploys: OperationRun[];
  rollbacks: OperationRun[];
}

const endpoint = (watched: string | Endpoint): Endpoint =>
  typeof watched === "string" ? { url: watched } : watched;

/** Polls continue this long after the script ends, so "serving for good" is checked past the script's end. */
const SETTLE_MS = 1000;

/**
 * Runs `operation` under load while `watched` (the app's own port, or the proxy: which release answers) is watched.
 * The load goes to `watched` at LOAD.rate too, unless `load` sends it elsewhere (through the proxy) or at another rate.
 */
export async function measureOperation(
  watched: string | Endpoint,
  expectedLabel: string,
  operation: () => Promise<ScriptOutcome>,
  load: LoadTarget = { ...endpoint(watched), rate: LOAD.rate },
): Promise<OperationRun> {
  const { value, load: seen } = await underLoad(load, async () => {
    const watch = watchRelease(endpoint(watched));
    const start = performance.now() - watch.origin;
    const outcome = await operation();
    const end = performance.now() - watch.origin;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const samples = await watch.stop();
    const since = servingSince(samples, expectedLabel);
    const first = firstSeen(samples, expectedLabel);
    return {
      ok: outcome.code === 0,
      totalSeconds: (end - start) / 1000,
      servingSeconds: since === null ? null : Math.max(0, since - start) / 1000,
      firstSeenSeconds: first === null ? null : Math.max(0, first - start) / 1000,
      output: outcome.stdout + outcome.stderr,
    };
  });
  return { ...value, load: seen };
}
