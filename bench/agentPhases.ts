// The deploy phases the release agent reports on stderr (`release-agent: phase <name> <seconds>s`, core.sh phase_done).
import { figure } from "./table";

export interface AgentPhase {
  name: string;
  seconds: number;
  /** The agent marked the phase it failed in. */
  failed: boolean;
}

export function agentPhases(output: string): AgentPhase[] {
  return [...output.matchAll(/release-agent: phase (\w+) (\d+\.\d+)s( failed)?/g)].map(
    ([, name, seconds, failed]) => ({
      name: name ?? "",
      seconds: Number(seconds),
      failed: failed !== undefined,
    }),
  );
}

/** `<phase> <median>` for every phase of the runs, in the order they first appear: "upload 0.05, health 0.40". */
export function medianPhases(outputs: readonly string[]): string {
  const byName = new Map<string, number[]>();
  for (const output of outputs)
    for (const phase of agentPhases(output))
      byName.set(phase.name, [...(byName.get(phase.name) ?? []), phase.seconds]);
  return [...byName]
    .map(([name, values]) => `${name} ${figure(values).median?.toFixed(2) ?? "n/a"}`)
    .join(", ");
}
