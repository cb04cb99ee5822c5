// How busy the whole machine is (every local host shares its cores): what the fleet parts print beside wall times.
import { readFileSync } from "node:fs";

/** CPU seconds this machine has been busy since boot (all cores; /proc/stat, USER_HZ = 100). */
export function busyCpuSeconds(): number {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return (fields.reduce((sum, value) => sum + value, 0) - idle) / 100;
}
