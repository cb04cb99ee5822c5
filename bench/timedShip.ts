// One deploy as the fleet parts time it: the ship script's wall time, and the CPU the whole machine (runner, hosts,
// apps) spent meanwhile, since every local host shares this machine's cores.
import type { PipelineConfig } from "../src/config/types";
import { type RunnerFiles, shipRelease } from "../src/sandbox";
import { busyCpuSeconds } from "./machineCpu";
import { type Figure, figure } from "./table";

/** Wall time of the ship script, and the CPU time the whole machine spent meanwhile. */
export interface Timing {
  seconds: Figure;
  cpuSeconds: Figure;
}

export type TimedRun = readonly [seconds: number, cpuSeconds: number];

/** Ships `artifact` as `releaseId` with the ship script; a failed deploy throws with the script's output. */
export async function timedShip(
  target: PipelineConfig,
  files: RunnerFiles,
  artifact: string,
  releaseId: string,
  label: string,
  log: (message: string) => void,
): Promise<TimedRun> {
  const begin = performance.now();
  const cpuBefore = busyCpuSeconds();
  const result = await shipRelease(target, files, artifact, releaseId);
  const cpu = busyCpuSeconds() - cpuBefore;
  const seconds = (performance.now() - begin) / 1000;
  if (result.code !== 0) throw new Error(`${label} failed:\n${result.stdout}${result.stderr}`);
  log(`${label}: ${seconds.toFixed(2)} s, machine CPU ${cpu.toFixed(2)} s`);
  return [seconds, cpu];
}

export function timingOf(runs: readonly TimedRun[]): Timing {
  return {
    seconds: figure(runs.map(([seconds]) => seconds)),
    cpuSeconds: figure(runs.map(([, cpu]) => cpu)),
  };
}
