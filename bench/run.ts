// `npm run bench [-- <suite> ...] [--seconds N] [--runs N]`: runs the benchmark suites and writes
// their figures into docs/BENCHMARKS.md. `pipeline --ladder [--rates a,b,…] [--env K=V,…]` runs the
// capacity ladder instead of the latency run (bench/capacity.ts).
import { alerterBench } from './alerter.ts';
import { apiBench } from './api.ts';
import { forwarderBench } from './forwarder.ts';
import { ingestBench } from './ingest.ts';
import { pipelineBench } from './pipeline.ts';
import { replicasBench } from './replicas.ts';
import { snmpBench } from './snmp.ts';
import { syslogBench } from './syslog.ts';
import { uiBench } from './ui.ts';

export interface BenchOptions {
  seconds: number;
  runs: number;
  /** The arguments as given (for suites with options of their own, e.g. `pipeline --ladder`). */
  args: readonly string[];
}

const SUITES: Record<string, (o: BenchOptions) => Promise<void>> = {
  ingest: ingestBench,
  snmp: snmpBench,
  syslog: syslogBench,
  forwarder: forwarderBench,
  alerter: alerterBench,
  pipeline: pipelineBench,
  replicas: replicasBench,
  api: apiBench,
  ui: uiBench,
};

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const seconds = opt('seconds', 10);
const runs = opt('runs', 3);
// Options that take a value; `--ladder` stands alone.
const valued = new Set(['--seconds', '--runs', '--rates', '--env', '--sender']);
const names = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1] ?? ''));
const chosen = names.length > 0 ? names : Object.keys(SUITES);
for (const n of chosen) {
  const suite = SUITES[n];
  if (!suite) {
    process.stderr.write(`unknown suite "${n}"; suites: ${Object.keys(SUITES).join(', ')}\n`);
    process.exit(2);
  }
  process.stderr.write(`== ${n} ==\n`);
  await suite({ seconds, runs, args });
}
