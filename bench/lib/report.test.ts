import { describe, expect, it } from 'vitest';
import {
  type BenchReport,
  compareCell,
  formatFigure,
  formatTable,
  parseRunReport,
  type Row,
  type RunReport,
  ratioOf,
  summary,
  verdict,
} from './report.js';

const machine = { cores: 2, node: 'v24.0.0', cpu: 'test cpu', load1: 1 };
const login: Row = {
  measure: 'POST /v1/auth/login',
  figure: 90,
  unit: '/s',
  baseline: { label: 'raw argon2id', value: 100, unit: '/s' },
  goal: { on: 'ratio', op: '>=', value: 0.85, text: '>= 85% of raw' },
};
const rss: Row = {
  measure: 'auth idle RSS',
  figure: 130,
  unit: 'MB',
  goal: { on: 'figure', op: '<=', value: 120, text: '<= 120 MB' },
};
const bench = (rows: Row[], name = 'auth'): BenchReport => ({ bench: name, machine, seconds: 1, rows });

describe('bench report', () => {
  it('checks a goal on the ratio or on the figure, whichever it names', () => {
    expect(ratioOf(login)).toBeCloseTo(0.9);
    expect(verdict(login)).toBe('met');
    expect(verdict({ ...login, figure: 80 })).toBe('NOT met');
    // A bench may give its own ratio (the worst round's), which then decides.
    expect(verdict({ ...login, ratio: 0.81 })).toBe('NOT met');
    expect(verdict(rss)).toBe('NOT met');
    expect(verdict({ ...rss, figure: 120 })).toBe('met');
  });

  it('says "not measured" for a missing figure, and nothing for a row without a goal', () => {
    expect(verdict({ ...rss, figure: null })).toBe('not measured');
    expect(verdict({ ...login, baseline: undefined })).toBe('not measured');
    expect(verdict({ measure: 'grants', figure: 10, unit: '/s' })).toBe('');
  });

  it('prints one row per figure under the six headers, figures with their units', () => {
    const lines = formatTable([bench([login, rss])]).split('\n');
    expect(lines[0]!.split('|').map((c) => c.trim())).toEqual([
      'measure',
      'figure',
      'baseline in the same run',
      'ratio',
      'goal',
      'met?',
    ]);
    expect(lines).toHaveLength(4);
    expect(lines[2]!.split('|').map((c) => c.trim())).toEqual([
      'auth: POST /v1/auth/login',
      '90/s',
      'raw argon2id 100/s',
      '90.0%',
      '>= 85% of raw',
      'met',
    ]);
    expect(lines[3]).toContain('130 MB');
    expect(formatFigure(1234.5, '/s')).toBe('1,235/s');
    expect(formatFigure(null, 'MB')).toBe('-');
  });

  it('shows a bench that failed before any figure as not measured', () => {
    const failed: BenchReport = { ...bench([], 'memory'), error: 'stopped at its 110 s budget' };
    expect(formatTable([failed])).toMatch(/memory: \(no figures\).*not measured/);
    expect(summary([bench([login, rss]), failed])).toBe('1 of 2 goals met');
    expect(summary([bench([login, { ...rss, figure: null }])])).toBe('1 of 2 goals met, 1 not measured');
  });

  it('compares with an earlier run: ratio points when both have a ratio, else the figure', () => {
    expect(compareCell(login, { ...login, figure: 80 })).toBe('ratio was 80.0% (+10.0 pt)');
    expect(compareCell(rss, { ...rss, figure: 100 })).toBe('was 100 MB (+30.0%)');
    expect(compareCell(rss, undefined)).toBe('new');
    expect(compareCell(rss, { ...rss, figure: null })).toBe('was not measured');
  });

  it('round-trips a run through JSON and adds a compare column', () => {
    const earlier: RunReport = {
      startedAt: '2026-12-01T10:00:00.000Z',
      machine,
      seconds: 500,
      benches: [bench([{ ...login, figure: 80 }])],
    };
    const parsed = parseRunReport(JSON.parse(JSON.stringify(earlier)));
    const table = formatTable([bench([login, rss])], parsed);
    expect(table.split('\n')[0]).toContain('vs 2026-12-01T10:00:00.000Z');
    expect(table).toContain('ratio was 80.0% (+10.0 pt)');
    expect(table.split('\n')[3]).toMatch(/\| new$/);
    expect(() => parseRunReport({ benches: 'no' })).toThrow(/not a bench run report/);
    expect(() => parseRunReport({ startedAt: 'x', benches: [{ rows: [] }] })).toThrow(/no name/);
  });
});
