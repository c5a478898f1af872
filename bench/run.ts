// `npm run bench [-- <suite> ...] [--seconds N] [--runs N]`: runs the benchmark suites and writes
// their figures into docs/BENCHMARKS.md.
import { alerterBench } from './alerter.ts';
import { apiBench } from './api.ts';
import { forwarderBench } from './forwarder.ts';
import { ingestBench } from './ingest.ts';
import { pipelineBench } from './pipeline.ts';
import { snmpBench } from './snmp.ts';
import { syslogBench } from './syslog.ts';

const SUITES: Record<string, (o: { seconds: number; runs: number }) => Promise<void>> = {
  ingest: ingestBench,
  snmp: snmpBench,
  syslog: syslogBench,
  forwarder: forwarderBench,
  alerter: alerterBench,
  pipeline: pipelineBench,
  api: apiBench,
};

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const seconds = opt('seconds', 10);
const runs = opt('runs', 3);
const names = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const chosen = names.length > 0 ? names : Object.keys(SUITES);
for (const n of chosen) {
  const suite = SUITES[n];
  if (!suite) {
    process.stderr.write(`unknown suite "${n}"; suites: ${Object.keys(SUITES).join(', ')}\n`);
    process.exit(2);
  }
  process.stderr.write(`== ${n} ==\n`);
  await suite({ seconds, runs });
}
