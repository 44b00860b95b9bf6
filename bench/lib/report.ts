/**
 * The one shape every bench reports in, and the table `npm run bench` prints
 * from it. A row is a figure measured in this run, the baseline it is
 * compared with (measured in the same run, on the same busy machine: the
 * ratio is what carries from one run to the next), and the goal from the
 * issue it is held to. Pure functions: bench/lib/report.test.ts covers them.
 */

/** What a goal is checked on: the figure itself, or its ratio to the baseline. */
export interface Goal {
  on: 'figure' | 'ratio';
  op: '>=' | '<=';
  value: number;
  /** As the issue words it, e.g. ">= 85% of raw argon2 in every round". */
  text: string;
}

export interface Row {
  measure: string;
  /** null: not measured in this run (the note says why). */
  figure: number | null;
  unit: string;
  baseline?: { label: string; value: number; unit: string };
  /** figure / baseline, unless the bench gives a different one (e.g. the worst round). */
  ratio?: number;
  goal?: Goal;
  note?: string;
}

export interface Machine {
  cores: number;
  node: string;
  cpu: string;
  /** 1-minute load average when the bench started: how busy the shared machine was. */
  load1: number;
}

export interface BenchReport {
  bench: string;
  machine: Machine;
  seconds: number;
  rows: Row[];
  /** Set when the bench failed or ran out of its time budget. */
  error?: string;
}

export interface RunReport {
  startedAt: string;
  machine: Machine;
  seconds: number;
  benches: BenchReport[];
}

export type Verdict = 'met' | 'NOT met' | 'not measured' | '';

export function ratioOf(row: Row): number | undefined {
  if (row.ratio !== undefined) return row.ratio;
  if (row.figure === null || !row.baseline || row.baseline.value === 0) return undefined;
  return row.figure / row.baseline.value;
}

export function verdict(row: Row): Verdict {
  if (!row.goal) return row.figure === null ? 'not measured' : '';
  const value = row.goal.on === 'ratio' ? ratioOf(row) : row.figure;
  if (value === undefined || value === null || Number.isNaN(value)) return 'not measured';
  return (row.goal.op === '>=' ? value >= row.goal.value : value <= row.goal.value) ? 'met' : 'NOT met';
}

/** 1234.5 -> "1,235"; 12.34 -> "12.3"; 0.1234 -> "0.123". */
export function formatNumber(n: number): string {
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatFigure(value: number | null, unit: string): string {
  if (value === null) return '-';
  return unit.startsWith('/') || unit === '%'
    ? `${formatNumber(value)}${unit}`
    : `${formatNumber(value)} ${unit}`;
}

export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined ? '' : `${(ratio * 100).toFixed(1)}%`;
}

const HEADERS = ['measure', 'figure', 'baseline in the same run', 'ratio', 'goal', 'met?'] as const;

/** The rows of every bench as text cells, in the order of the printed table. */
export function tableCells(benches: readonly BenchReport[], previous?: RunReport): string[][] {
  const before = previous ? indexRows(previous) : undefined;
  const cells: string[][] = [];
  for (const bench of benches) {
    for (const row of bench.rows) {
      const ratio = ratioOf(row);
      const line = [
        `${bench.bench}: ${row.measure}`,
        formatFigure(row.figure, row.unit),
        row.baseline ? `${row.baseline.label} ${formatFigure(row.baseline.value, row.baseline.unit)}` : '',
        formatRatio(ratio),
        row.goal?.text ?? '',
        verdict(row),
      ];
      if (before) line.push(compareCell(row, before.get(key(bench.bench, row.measure))));
      cells.push(line);
    }
    if (bench.error && bench.rows.length === 0) {
      cells.push([`${bench.bench}: (no figures)`, '-', '', '', '', 'not measured']);
      if (before) cells[cells.length - 1]!.push('');
    }
  }
  return cells;
}

/** How a row moved against the same row of an earlier run: ratios when both have one, else figures. */
export function compareCell(row: Row, earlier: Row | undefined): string {
  if (!earlier) return 'new';
  const now = ratioOf(row);
  const then = ratioOf(earlier);
  if (now !== undefined && then !== undefined)
    return `ratio was ${formatRatio(then)} (${signed((now - then) * 100)} pt)`;
  if (row.figure !== null && earlier.figure !== null && earlier.figure !== 0)
    return `was ${formatFigure(earlier.figure, earlier.unit)} (${signed(((row.figure - earlier.figure) / earlier.figure) * 100)}%)`;
  return earlier.figure === null ? 'was not measured' : `was ${formatFigure(earlier.figure, earlier.unit)}`;
}

function signed(n: number): string {
  return `${n >= 0 ? '+' : ''}${n.toFixed(1)}`;
}

function key(bench: string, measure: string): string {
  return `${bench}\u0000${measure}`;
}

function indexRows(run: RunReport): Map<string, Row> {
  const map = new Map<string, Row>();
  for (const bench of run.benches) for (const row of bench.rows) map.set(key(bench.bench, row.measure), row);
  return map;
}

/** The table as fixed-width text; a compare column when an earlier run is given. */
export function formatTable(benches: readonly BenchReport[], previous?: RunReport): string {
  const headers: string[] = [...HEADERS];
  if (previous) headers.push(`vs ${previous.startedAt}`);
  const rows = [headers, ...tableCells(benches, previous)];
  const widths = headers.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join(' | ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)].join(
    '\n',
  );
}

/** Every goal-carrying row, summed up: "9 of 14 goals met, 2 not measured". */
export function summary(benches: readonly BenchReport[]): string {
  const verdicts = benches.flatMap((b) => b.rows.filter((r) => r.goal).map(verdict));
  const met = verdicts.filter((v) => v === 'met').length;
  const missing = verdicts.filter((v) => v === 'not measured').length;
  return `${met} of ${verdicts.length} goals met${missing ? `, ${missing} not measured` : ''}`;
}

/** Checks that a parsed JSON file is a run report (for --compare), naming what is wrong. */
export function parseRunReport(json: unknown): RunReport {
  const run = json as Partial<RunReport> | null;
  if (!run || typeof run !== 'object' || !Array.isArray(run.benches) || typeof run.startedAt !== 'string')
    throw new Error('not a bench run report (expected startedAt and benches[])');
  for (const bench of run.benches) {
    if (typeof bench?.bench !== 'string' || !Array.isArray(bench.rows))
      throw new Error('a bench in the report has no name or rows');
  }
  return run as RunReport;
}

/** Each row's note (round by round ratios, p99s, why a figure is missing), below the table. */
export function formatNotes(benches: readonly BenchReport[]): string {
  return benches
    .flatMap((b) => b.rows.filter((r) => r.note).map((r) => `  ${b.bench}: ${r.measure}: ${r.note}`))
    .join('\n');
}
