// Which hosts a deploy or rollback works on together: batches of deploy.batchSize hosts (a count or a percentage),
// one batch after the other, the canary alone first when deploy.canary is set. Pure, rendered into the scripts.
import type { PipelineConfig } from "../../config/types";

export type FleetSettings = Pick<PipelineConfig["deploy"], "batchSize" | "canary">;

/** Hosts per batch: the count, or the percentage of `hostCount` rounded up; at least 1, at most every host. */
export function hostsPerBatch(hostCount: number, batchSize: FleetSettings["batchSize"]): number {
  const size =
    typeof batchSize === "number" ? batchSize : Math.ceil((hostCount * Number.parseInt(batchSize, 10)) / 100);
  return Math.max(1, Math.min(size, hostCount));
}

/**
 * The size of each batch, in deploy order (the hosts keep their config order): with a canary, the first host
 * alone, then the others in batches of hostsPerBatch() (computed on every host, the canary included).
 */
export function planBatches(hostCount: number, fleet: FleetSettings): number[] {
  const size = hostsPerBatch(hostCount, fleet.batchSize);
  const batches: number[] = [];
  let left = hostCount;
  if (fleet.canary && left > 1) {
    batches.push(1);
    left -= 1;
  }
  while (left > 0) {
    const next = Math.min(size, left);
    batches.push(next);
    left -= next;
  }
  return batches;
}
