#!/usr/bin/env node
// `npm test`: the fast suite, then each long suite (chaos, ha, ui, packaging, observability) as its
// own step, so one command runs everything CI runs and a failing step is named. A suite with no test
// files yet is skipped and said so. Pass suite names to run only those: `npm test -- fast ui`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const SUITES = ['fast', 'chaos', 'ha', 'ui', 'packaging', 'observability'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const w of wanted) {
  if (!SUITES.includes(w)) {
    console.error(`test: unknown suite "${w}" (one of ${SUITES.join(', ')})`);
    process.exit(64);
  }
}

const hasTests = (dir) =>
  existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.test.ts'));

const failed = [];
const times = [];
for (const suite of wanted.length ? wanted : SUITES) {
  if (suite !== 'fast' && !hasTests(`test/${suite}`)) {
    console.log(`\n── ${suite}: no tests in test/${suite}/, skipped`);
    continue;
  }
  console.log(`\n── ${suite} suite ──────────────────────────────────────────────`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--project', suite], {
    stdio: 'inherit',
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  times.push(`${suite} ${seconds} s${r.status === 0 ? '' : ' FAILED'}`);
  if (r.status !== 0) failed.push(suite);
}
console.log(`\n── test summary: ${times.join(' · ')}`);
if (failed.length) {
  console.error(`test: failed suites: ${failed.join(', ')}`);
  process.exit(1);
}
