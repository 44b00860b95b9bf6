/**
 * .ci/npm-audit.mjs, the CI step's verdict on `npm audit --json`: fails on
 * high or critical advisories, passes a clean report, and says plainly (and
 * does not fail) when the advisory service could not be reached.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = path.join(import.meta.dirname, '..', '..', '.ci', 'npm-audit.mjs');

function verdict(input: string) {
  const run = spawnSync(process.execPath, [SCRIPT], { input, encoding: 'utf8' });
  return { status: run.status, output: run.stdout.trim() };
}

const report = (counts: Record<string, number>, vulnerabilities: Record<string, { severity: string }> = {}) =>
  JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities,
    metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts } },
  });

describe('.ci/npm-audit.mjs', () => {
  it('fails on a high or critical advisory and names the package', () => {
    const result = verdict(report({ critical: 1, moderate: 2 }, { fastify: { severity: 'critical' } }));
    expect(result.status).toBe(1);
    expect(result.output).toMatch(
      /^npm audit: FAILED - 1 critical, 0 high, 2 moderate.*fastify \(critical\)/,
    );
  });

  it('passes when only low and moderate advisories are reported', () => {
    const result = verdict(report({ moderate: 3, low: 1 }));
    expect(result.status).toBe(0);
    expect(result.output).toMatch(/^npm audit: passed/);
  });

  it('does not fail, and does not claim a pass, when the service is unreachable', () => {
    const unreachable = JSON.stringify({
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    });
    for (const input of [unreachable, '', 'npm error network ENOTFOUND']) {
      const result = verdict(input);
      expect(result.status).toBe(0);
      expect(result.output).toMatch(/^npm audit: NOT CHECKED - the advisory service could not be reached/);
    }
  });
});
