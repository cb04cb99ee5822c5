// Medians, maxima and the printed comparison table.

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? 0) + upper) / 2;
}

function max(values: readonly number[]): number | null {
  return values.length === 0 ? null : Math.max(...values);
}

/** A figure of one side: median and max over the repetitions (or one value), or absent ("n/a"). */
export interface Figure {
  median: number | null;
  max: number | null;
  /** Repetitions that produced no value (e.g. the release was never seen serving). */
  missing: number;
  count: number;
}

export function figure(values: readonly (number | null)[]): Figure {
  const present = values.filter((v): v is number => v !== null);
  return {
    median: median(present),
    max: max(present),
    missing: values.length - present.length,
    count: values.length,
  };
}

export const NONE: Figure = { median: null, max: null, missing: 0, count: 0 };

/** What the pipeline's worst repetition must not exceed (none: reported only), and how the table shows it. */
export interface Target {
  text: string;
  atMost?: number;
}

export interface Row {
  name: string;
  unit: "count" | "s" | "MiB";
  pipeline: Figure;
  inPlace: Figure;
  target?: Target;
}

function formatValue(value: number | null, unit: Row["unit"]): string {
  if (value === null) return "n/a";
  return unit === "s" ? value.toFixed(2) : String(Math.round(value * 10) / 10);
}

export function formatFigure(f: Figure, unit: Row["unit"]): string {
  if (f.count === 0) return "n/a";
  if (f.median === null) return `never (${f.missing}/${f.count})`;
  const main = formatValue(f.median, unit);
  const text = f.count > 1 ? `${main} (max ${formatValue(f.max, unit)})` : main;
  return f.missing > 0 ? `${text} [${f.missing}/${f.count} never]` : text;
}

function ratio(row: Row, sides: Sides): string {
  const a = row.pipeline.median;
  const b = row.inPlace.median;
  if (a === null || b === null || row.pipeline.count === 0 || row.inPlace.count === 0) return "n/a";
  if (a === 0) return b === 0 ? "1 (both 0)" : `inf (${sides.pipeline} 0)`;
  return `${(b / a).toFixed(1)}x`;
}

/** The pipeline side is judged: its worst repetition must meet the target. */
export function met(row: Row): boolean | null {
  if (row.target?.atMost === undefined || row.pipeline.count === 0) return null;
  if (row.pipeline.missing > 0 || row.pipeline.max === null) return false;
  return row.pipeline.max <= row.target.atMost;
}

/** The headings of the two compared sides: the judged one (Row.pipeline) and the baseline (Row.inPlace). */
export interface Sides {
  pipeline: string;
  inPlace: string;
}

export function renderTable(
  rows: readonly Row[],
  sides: Sides = { pipeline: "pipeline", inPlace: "in-place" },
): string {
  const header = [
    "",
    sides.pipeline,
    sides.inPlace,
    `ratio (${sides.inPlace} / ${sides.pipeline})`,
    "target",
    "met?",
  ];
  const body = rows.map((row) => {
    const verdict = met(row);
    return [
      row.unit === "count" ? row.name : `${row.name} (${row.unit})`,
      formatFigure(row.pipeline, row.unit),
      formatFigure(row.inPlace, row.unit),
      ratio(row, sides),
      row.target?.text ?? "-",
      verdict === null ? "-" : verdict ? "yes" : "NO",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(" | ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join("\n");
}
