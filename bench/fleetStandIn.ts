// Fleet deploys on CPU-light stand-in hosts (standInHosts.ts): the real ship script, fleet loop, OpenSSH client and
// sshd with the real deploy key line, but each host's agent drains the artifact and sleeps a fixed time per phase.
// Eight real agents on this machine's two cores measure CPU contention (fleetDeploys.ts); eight stand-ins measure
// what the orchestration itself adds, as on eight servers that each bring their own CPU.
import type { PipelineConfig } from "../src/config/types";
import {
  buildArtifact,
  generateDeployKey,
  newReleaseId,
  runSteps,
  stackOnHosts,
  writeRunnerFiles,
} from "../src/sandbox";
import type { HostHandle } from "../src/testhost";
import { busyCpuSeconds } from "./machineCpu";
import { type PhaseSeconds, STAND_IN_PHASE_SECONDS } from "./standInAgent";
import { standInHostSteps } from "./standInHosts";
import { type TimedRun, type Timing, timedShip, timingOf } from "./timedShip";

export const STAND_IN_LABEL = "CPU-light stand-ins (fixed sleeps for the agent's phases)";

interface Mode {
  name: string;
  batchSize: number | string;
  /** At most this many times one host's median. */
  target?: number;
}

const MODES: readonly Mode[] = [
  { name: "8 hosts, batchSize 4 (two batches)", batchSize: 4, target: 2.2 },
  { name: "8 hosts, batchSize 100% (one batch)", batchSize: "100%", target: 1.2 },
  { name: "8 hosts, batchSize 1 (one after another)", batchSize: 1 },
];

/** How long the machine's load is sampled before the runs, while the stand-ins sit idle. */
const IDLE_SAMPLE_SECONDS = 5;

export interface StandInBench {
  phaseSeconds: PhaseSeconds;
  cores: number;
  /** Cores' worth of CPU the machine spends while the stand-ins sit idle: other work on this machine. */
  idleCores: number;
  oneHost: Timing;
  modes: (Mode & Timing)[];
}

export async function benchStandInFleet(
  fleet: readonly HostHandle[],
  workDir: string,
  repeat: number,
  cores: number,
  log: (message: string) => void,
  phaseSeconds: PhaseSeconds = STAND_IN_PHASE_SECONDS,
): Promise<StandInBench> {
  const withBatch = (batchSize: number | string, hosts = fleet): PipelineConfig =>
    stackOnHosts(hosts, { deploy: { batchSize } });
  const config = withBatch(1);
  const key = generateDeployKey("pipeline-ci-0");
  const input = { npmRegistry: fleet[0]?.npmRegistry ?? "", deployPublicKey: key.publicKey };
  log(`setting up ${fleet.length} stand-in hosts ...`);
  await Promise.all(fleet.map((host) => runSteps(host, standInHostSteps(config, input, phaseSeconds))));
  const files = writeRunnerFiles(config, key.privateKey, workDir);
  // The example app's real artifact, so the upload carries what a real deploy carries; built once (CI's job).
  const artifact = buildArtifact(config, { label: "stand-in" }, workDir);

  const timedDeploy = (target: PipelineConfig, label: string): Promise<TimedRun> =>
    timedShip(target, files, artifact, newReleaseId(), label, log);

  await timedDeploy(withBatch("100%"), "stand-ins: warm-up deploy to every host");
  const idleBefore = busyCpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_SECONDS * 1000));
  const idleCores = (busyCpuSeconds() - idleBefore) / IDLE_SAMPLE_SECONDS;
  log(`stand-ins idle: the machine is busy ${idleCores.toFixed(2)} of ${cores} cores`);
  const first = fleet[0];
  if (!first) throw new Error("benchStandInFleet: no host");
  const single = withBatch(1, [first]);
  const oneHost: TimedRun[] = [];
  const modeRuns: TimedRun[][] = MODES.map(() => []);
  for (let i = 1; i <= repeat; i++) {
    oneHost.push(await timedDeploy(single, `stand-ins: one host, run ${i}`));
    for (const [index, mode] of MODES.entries()) {
      modeRuns[index]?.push(
        await timedDeploy(withBatch(mode.batchSize), `stand-ins: ${mode.name}, run ${i}`),
      );
    }
  }
  return {
    phaseSeconds,
    cores,
    idleCores,
    oneHost: timingOf(oneHost),
    modes: MODES.map((mode, index) => ({ ...mode, ...timingOf(modeRuns[index] ?? []) })),
  };
}

/** The ratio of two medians, and whether it meets `target` (null: no figure). */
function versus(
  value: number | null,
  one: number | null,
  target?: number,
): { text: string; met: boolean | null } {
  if (value === null || one === null || one === 0) return { text: "n/a", met: null };
  const ratio = value / one;
  return { text: `${ratio.toFixed(2)}x`, met: target === undefined ? null : ratio <= target };
}

export function standInReport(bench: StandInBench, repeat: number): string[] {
  const one = bench.oneHost.seconds.median;
  const slept = Object.values(bench.phaseSeconds).reduce((sum, value) => sum + value, 0);
  const seconds = (timing: Timing): string =>
    `${timing.seconds.median?.toFixed(2) ?? "n/a"} (${timing.seconds.max?.toFixed(2) ?? "n/a"})`;
  const cpu = (timing: Timing): string => timing.cpuSeconds.median?.toFixed(2) ?? "n/a";
  const row = (mode: Mode & Timing): string => {
    const ratio = versus(mode.seconds.median, one, mode.target);
    const verdict = ratio.met === null ? "-" : ratio.met ? "met" : "MISSED";
    const target = mode.target === undefined ? "-" : `<= ${mode.target}x`;
    return `| ${mode.name} | ${seconds(mode)} | ${ratio.text} | ${target} | ${verdict} | ${cpu(mode)} |`;
  };
  const phases = Object.entries(bench.phaseSeconds)
    .map(([phase, value]) => `${phase} ${value} s`)
    .join(", ");
  return [
    `fleet deploys on ${STAND_IN_LABEL}, ${repeat} runs each: median (max)`,
    "",
    "| deploy | seconds | vs one host | target | met? | machine CPU s |",
    "| --- | --- | --- | --- | --- | --- |",
    `| 1 host | ${seconds(bench.oneHost)} | 1.00x | - | - | ${cpu(bench.oneHost)} |`,
    ...bench.modes.map(row),
    "",
    `Each stand-in host is a test host with a real sshd, the real deploy user and the real deploy key line (forced ` +
      `command, restrictions); its agent drains the artifact (upload, timed as it goes) and sleeps ${phases} ` +
      `(${slept.toFixed(1)} s in all): the real ship script and fleet loop, without the agents' CPU. ` +
      `Real hosts: npm run bench -- --only fleet.`,
    `While the stand-ins sit idle the machine is busy ${bench.idleCores.toFixed(2)} of ${bench.cores} cores ` +
      `(other work on this machine): the runs share what is left with the ssh clients, sshd and the stand-ins.`,
  ];
}
