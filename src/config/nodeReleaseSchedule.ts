// The Node.js release schedule (nodejs/Release schedule.json) for the lines app.nodeVersion accepts: the default
// line, and a warning for a stack that names a line past its end of life or one that is never an LTS.
import { PROJECT } from "./keys";

/** One release line's phases, ISO dates (UTC). A line without `lts` is a Current line that never becomes LTS. */
export interface ReleaseLine {
  start: string;
  lts?: string;
  maintenance: string;
  end: string;
}

/** Where the snapshot below comes from, and the day it was read (the default line is the Active LTS of that day). */
export const SCHEDULE_SOURCE = {
  file: "nodejs/Release schedule.json",
  commit: "e4bf922d83b877a116763e2f83d2d9b6701871f9",
  committedOn: "2026-07-02",
  readOn: "2026-12-06",
} as const;

export const NODE_RELEASE_SCHEDULE: Readonly<Record<number, ReleaseLine>> = {
  18: { start: "2022-04-19", lts: "2022-10-25", maintenance: "2023-10-18", end: "2025-04-30" },
  19: { start: "2022-10-18", maintenance: "2023-04-01", end: "2023-06-01" },
  20: { start: "2023-04-18", lts: "2023-10-24", maintenance: "2024-10-22", end: "2026-04-30" },
  21: { start: "2023-10-17", maintenance: "2024-04-01", end: "2024-06-01" },
  22: { start: "2024-04-24", lts: "2024-10-29", maintenance: "2025-10-21", end: "2027-04-30" },
  23: { start: "2024-10-16", maintenance: "2025-04-01", end: "2025-06-01" },
  24: { start: "2025-05-06", lts: "2025-10-28", maintenance: "2026-10-20", end: "2028-04-30" },
  25: { start: "2025-10-15", maintenance: "2026-04-01", end: "2026-06-01" },
  26: { start: "2026-05-05", lts: "2026-10-28", maintenance: "2027-10-20", end: "2029-04-30" },
};

/** YYYY-MM-DD of a moment, in UTC (the schedule's dates are days). */
function dayOf(moment: Date): string {
  return moment.toISOString().slice(0, 10);
}

function lines(): [number, ReleaseLine][] {
  return Object.entries(NODE_RELEASE_SCHEDULE).map(([major, line]) => [Number(major), line]);
}

/**
 * The line to recommend on `day`: the Active LTS one (LTS, not yet in maintenance) or, when the snapshot knows
 * none that day, the newest LTS line still supported.
 */
export function recommendedLine(day: string): { major: number; phase: "Active LTS" | "Maintenance LTS" } {
  const lts = lines()
    .filter(([, line]) => line.lts !== undefined && line.lts <= day && day < line.end)
    .sort(([a], [b]) => b - a);
  const active = lts.find(([, line]) => day < line.maintenance);
  if (active) return { major: active[0], phase: "Active LTS" };
  const newest = lts[0] ?? lines().at(-1);
  if (newest === undefined) throw new Error("the Node.js release schedule snapshot is empty");
  return { major: newest[0], phase: "Maintenance LTS" };
}

/** app.nodeVersion's default: the Active LTS line on the day the schedule was read. */
export const DEFAULT_NODE_LINE = recommendedLine(SCHEDULE_SOURCE.readOn).major;

/**
 * A warning (`pipeline:app.nodeVersion: ...`) when `major` is past its end of life on `today`, or is a line that
 * never becomes LTS; undefined otherwise, and for lines the snapshot does not know (newer than it).
 */
export function nodeLineWarning(major: number, today: Date): string | undefined {
  const line = NODE_RELEASE_SCHEDULE[major];
  if (line === undefined) return undefined;
  const day = dayOf(today);
  const { major: suggested, phase } = recommendedLine(day);
  const fix = `set app.nodeVersion to ${suggested}, the ${phase} line; Node.js release schedule of ${SCHEDULE_SOURCE.committedOn}`;
  const key = `${PROJECT}:app.nodeVersion`;
  if (line.end <= day) return `${key}: Node.js ${major} reached end of life on ${line.end} (${fix})`;
  if (line.lts === undefined) {
    return `${key}: Node.js ${major} is a Current line that never becomes LTS and reaches end of life on ${line.end} (${fix})`;
  }
  return undefined;
}
