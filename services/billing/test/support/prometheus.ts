/**
 * Just enough of Prometheus for tests: the text exposition format read into
 * samples, and the metric names a PromQL expression refers to.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  /** Every metric name with a sample or a `# TYPE` line (histograms: their _bucket/_sum/_count too). */
  names(): string[];
  has(name: string): boolean;
  samples(name: string): Sample[];
  /** The sum of the samples of `name` whose labels include `labels`; NaN when there is none. */
  value(name: string, labels?: Record<string, string>): number;
  /** The sum over every sample of `name` (0 when there is none). */
  sum(name: string): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type?.[1]) {
      names.add(type[1]);
      if (type[2] === 'histogram' || type[2] === 'summary')
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${type[1]}${suffix}`);
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match?.[1] || match[3] === undefined) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL))
      if (key) labels[key] = (value ?? '').replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    names.add(match[1]);
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  const of = (name: string) => samples.filter((s) => s.name === name);
  return {
    names: () => [...names],
    has: (name) => names.has(name),
    samples: of,
    value(name, labels = {}) {
      const matching = of(name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      return matching.length === 0 ? Number.NaN : matching.reduce((n, s) => n + s.value, 0);
    },
    sum: (name) => of(name).reduce((n, s) => n + s.value, 0),
  };
}

/** PromQL words that are not metric names. */
const PROMQL_WORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: identifiers that are not a
 * function call, a keyword, a label inside `{...}` or `by (...)`, a range or
 * a string.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = stripped.slice((match.index ?? 0) + word.length).trimStart();
    if (after.startsWith('(')) continue;
    if (PROMQL_WORDS.has(word.toLowerCase())) continue;
    // A number's exponent (1e-9) or a duration's unit is not a name.
    const before = stripped[(match.index ?? 0) - 1];
    if (before && /[0-9.]/.test(before)) continue;
    names.add(word);
  }
  return [...names];
}
