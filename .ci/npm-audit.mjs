#!/usr/bin/env node
// Reads `npm audit --json` output on stdin and decides: exit 1 when the
// advisory service answered and reported high or critical advisories; exit 0
// when it answered with none, and also when it could not be reached (the
// registry mirror here has no advisory endpoint), saying so plainly: an
// unreachable service must not fail CI, nor pass for a clean report.
import { readFileSync } from 'node:fs';

const text = readFileSync(0, 'utf8');
let report;
try {
  report = JSON.parse(text);
} catch {
  report = undefined;
}
const counts = report?.metadata?.vulnerabilities;
if (!counts || typeof counts !== 'object') {
  const why = report?.message ?? report?.error?.summary ?? (text.trim().split('\n')[0] || 'no output');
  console.log(`npm audit: NOT CHECKED - the advisory service could not be reached (${why}).`);
  process.exit(0);
}
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
const summary = ['critical', 'high', 'moderate', 'low', 'info']
  .map((level) => `${counts[level] ?? 0} ${level}`)
  .join(', ');
if (serious > 0) {
  const names = Object.entries(report.vulnerabilities ?? {})
    .filter(([, v]) => v.severity === 'high' || v.severity === 'critical')
    .map(([name, v]) => `${name} (${v.severity})`);
  console.log(`npm audit: FAILED - ${summary}: ${names.join(', ')}`);
  process.exit(1);
}
console.log(`npm audit: passed - ${summary}`);
