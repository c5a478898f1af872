#!/usr/bin/env node
// `npm run chaos`: the chaos suite's long versions (test/chaos/, MUTT_CHAOS=long) — Moogsoft down for
// 3 minutes, PostgreSQL stopped for 60 s, Redis killed for 20 s, MUTT killed under load — each with
// default settings and counted by event id. Prints one table of the figures (docs/RELIABILITY.md
// quotes it) with the machine's load average, and keeps each scenario's JSON in the report directory
// (MUTT_CHAOS_REPORT, default a new directory under the system's temporary directory).
// `npm test -- chaos` runs the short versions, with the same pass criteria.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const report = process.env.MUTT_CHAOS_REPORT || mkdtempSync(join(tmpdir(), 'mutt-chaos-'));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const startLoad = load();
const started = new Date();
console.log(`chaos: long versions; load average before: ${startLoad}; report: ${report}`);
const r = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--project', 'chaos', ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, MUTT_CHAOS: 'long', MUTT_CHAOS_REPORT: report } },
);

const rows = existsSync(report)
  ? readdirSync(report)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(report, f), 'utf8')))
  : [];
const s = (v) => (v === undefined || v === null ? '—' : String(v));
const lines = [
  `Chaos suite, long versions (\`npm run chaos\`), ${started.toISOString().slice(0, 16)}Z, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average before ${startLoad}, after ${load()}.`,
  '',
  '| scenario | load | fault | acknowledged | audited (dup.) | delivered (dup.) | dead-lettered | lost | HTTP 503s (span s) | HTTP refused (span s) | TCP stalled s | resumed after s | caught up after s | load avg |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const t of rows.filter((t) => t.scenario)) {
  const unconfirmed = t.unconfirmed
    ? ` + ${t.unconfirmed} unconfirmed (${t.unconfirmedArrived} arrived)`
    : '';
  lines.push(
    `| ${t.scenario} | ${t.load} | ${t.fault} | ${t.acknowledged}${unconfirmed} | ${t.audited} (${t.auditDuplicates}) | ${t.delivered} (${t.deliveryDuplicates}) | ${t.deadLettered} | ${t.lost} | ${t.http503} (${t.http503Seconds}) | ${t.httpRefused} (${t.httpRefusedSeconds}) | ${t.tcpStallSeconds} | ${s(t.resumeSeconds)} | ${s(t.caughtUpSeconds)} | ${t.loadAverage} |`,
  );
}
for (const t of rows.filter((t) => t.measurement))
  lines.push('', `${t.measurement}: \`${JSON.stringify(t.figures)}\``);
const text = `${lines.join('\n')}\n`;
writeFileSync(join(report, 'chaos-report.md'), text);
console.log(`\n${text}\n(also in ${join(report, 'chaos-report.md')})`);
process.exit(r.status ?? 1);
