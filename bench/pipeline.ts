// End-to-end latency benchmark: syslog over UDP → listener → ingest queue → alerter (rule match,
// audit row committed in PostgreSQL) → alert queue → forwarder → the mock Moogsoft, at a fixed
// 1,000 events/s, with the product's defaults: `mutt serve` with no Redis or PostgreSQL configured
// (its private redis-server with AOF everysec and its private PostgreSQL), one alerter and one
// forwarder worker, MOOG_BATCH_LINGER_MS 50, MOOG_RATE_LIMIT 50 requests/s.
//
// Each message carries a unique token; latency is the time from the send of its datagram to the
// arrival of the Moogsoft request holding its event at the mock. Every run checks that every message
// sent arrived exactly once: a figure cannot come from messages that were lost.
import { createSocket } from 'node:dgram';
import { loadavg } from 'node:os';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { MockMoogsoft } from '../test/harness/mock-moogsoft.ts';
import { freeUdpPort } from '../test/harness/ports.ts';
import { capacityBench, DEFAULT_RATES } from './capacity.ts';
import { fmt, machine, median, percentile, scratchDir } from './lib/env.ts';
import { startMutt } from './lib/mutt.ts';
import { writeSection } from './lib/report.ts';
import type { BenchOptions } from './run.ts';

const RATE = 1000;
const MARK = 'bench-e2e';

/** An RFC 3164 Cisco-style line of about 150 bytes with a unique token. */
const line = (token: string) =>
  `<187>Nov 24 12:00:00 edge-router-17 %LINK-3-UPDOWN: Interface GigabitEthernet1/0/17, changed state to down [${MARK} ${token}]`;

async function waitFor(pred: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const tokenOf = (description: unknown): string | undefined => {
  const m = new RegExp(`\\[${MARK} (\\S+)\\]`).exec(String(description));
  return m?.[1];
};

async function oneRun(seconds: number, run: number) {
  const dir = scratchDir('pipeline');
  const mock = await MockMoogsoft.start();
  const udp = await freeUdpPort();
  const mutt = await startMutt({
    MUTT_DATA_DIR: join(dir, 'data'),
    INGEST_API_KEY: 'bench-pipeline-key',
    SERVER_PORT_INGESTOR: '0',
    SERVER_PORT_WEBUI: '0',
    SYSLOG_UDP_PORT: String(udp),
    SYSLOG_TCP_PORT: '0',
    SYSLOG_TLS_PORT: '0',
    SNMP_TRAP_PORT: '0',
    MOOG_WEBHOOK_URL: mock.url,
    MOOG_AUTH_MODE: 'none',
  });
  const db = new pg.Pool({
    host: join(dir, 'data', 'postgres', 'run'),
    port: 5432,
    user: 'mutt_user',
    database: 'mutt_db',
    max: 1,
  });
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.connect(udp, '127.0.0.1', () => r()));
  const send = (s: string) => new Promise<void>((r, j) => sock.send(s, (e) => (e ? j(e) : r())));
  try {
    // The schema is migrated in the background at start-up: write the rule once it exists.
    await waitFor(
      async () => {
        try {
          await db.query('SELECT 1 FROM alert_rules LIMIT 1');
          return true;
        } catch {
          return false;
        }
      },
      120_000,
      'schema',
    );
    await db.query(
      `INSERT INTO alert_rules (match_string, match_type, priority, prod_handling, dev_handling, team_assignment)
       VALUES ('LINK-3-UPDOWN', 'contains', 10, 'Page_and_ticket', 'Ignore', 'NETO')`,
    );
    // Warm-up: probes until one has gone all the way through (rules loaded, workers running).
    let probe = 0;
    await waitFor(
      async () => {
        await send(line(`probe-${probe++}`));
        return mock.acceptedEvents().length > 0;
      },
      120_000,
      'first alert at the mock',
    );
    await new Promise((r) => setTimeout(r, 1000));
    mock.clear();

    const total = RATE * seconds;
    const sentAt = new Map<string, number>();
    const started = performance.now();
    const t0 = Date.now();
    let i = 0;
    // Open loop: every millisecond tick, the messages due by now, whatever MUTT does.
    while (i < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      for (; i < due; i++) {
        const token = `r${run}-${i}`;
        sentAt.set(token, Date.now());
        await send(line(token));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const sendSeconds = (Date.now() - t0) / 1000;
    const received = () =>
      mock.acceptedEvents().filter((e) => tokenOf(e.description)?.startsWith(`r${run}-`));
    await waitFor(() => received().length >= total, 120_000, `${total} alerts at the mock`);
    await new Promise((r) => setTimeout(r, 500));

    const lat: number[] = [];
    const seen = new Set<string>();
    let duplicates = 0;
    for (const req of mock.posts()) {
      for (const e of req.events) {
        const token = tokenOf(e.description);
        if (!token || !sentAt.has(token)) continue;
        if (seen.has(token)) {
          duplicates++;
          continue;
        }
        seen.add(token);
        lat.push(req.at - sentAt.get(token)!);
      }
    }
    if (seen.size !== total) throw new Error(`lost ${total - seen.size} of ${total} messages`);
    const audited = Number(
      (
        await db.query(
          `SELECT count(*) AS n FROM event_audit_log WHERE raw_message LIKE '%${MARK} r${run}-%'`,
        )
      ).rows[0].n,
    );
    if (audited !== total) throw new Error(`${audited} audit rows for ${total} messages`);
    lat.sort((a, b) => a - b);
    return {
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: lat[lat.length - 1]!,
      offered: total / sendSeconds,
      duplicates,
      requests: mock.posts().length,
    };
  } finally {
    sock.close();
    await db.end();
    await mutt.stop();
    await mock.close();
    // The run's Redis and PostgreSQL data (hundreds of MB) are not kept.
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench -- pipeline`: the latency at 1,000 events/s; with `--ladder`, the capacity ladder
 * instead (bench/capacity.ts): `--rates 20000,30000` and `--env NAME=value,NAME=value` adjust it,
 * `--seconds` is the step length (30 s unless given), `--sender node` sends with Node's dgram instead
 * of the native sender.
 */
export async function pipelineBench(o: BenchOptions): Promise<void> {
  if (o.args.includes('--ladder')) {
    const value = (name: string) => {
      const i = o.args.indexOf(name);
      return i >= 0 ? o.args[i + 1] : undefined;
    };
    const rates = value('--rates')?.split(',').map(Number) ?? DEFAULT_RATES;
    const env = Object.fromEntries(
      (value('--env') ?? '')
        .split(',')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    const seconds = o.args.includes('--seconds') ? o.seconds : 30;
    await capacityBench({
      seconds,
      rates,
      env,
      profile: o.args.includes('--profile'),
      sender: value('--sender') === 'node' ? 'node' : 'native',
      command: `npm run bench -- pipeline ${o.args.filter((a) => a !== 'pipeline').join(' ')}`.trim(),
    });
    return;
  }
  const loadBefore = loadavg()[0]!;
  const results: Awaited<ReturnType<typeof oneRun>>[] = [];
  for (let run = 1; run <= o.runs; run++) {
    const r = await oneRun(o.seconds, run);
    results.push(r);
    process.stderr.write(
      `run ${run}: p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.max)} ms at ${fmt(r.offered)} events/s offered\n`,
    );
  }
  const loadAfter = loadavg()[0]!;
  const m = {
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    max: median(results.map((r) => r.max)),
    offered: median(results.map((r) => r.offered)),
  };
  const md = `## End to end: syslog to Moogsoft

Command: \`npm run bench -- pipeline\` (${o.runs} runs of ${o.seconds} s; medians). Measured ${new Date().toISOString().slice(0, 10)} on: ${machine()}. One-minute load average: ${fmt(loadBefore, 1)} before, ${fmt(loadAfter, 1)} after.
MUTT: \`mutt serve\` as the quick start runs it — its private Redis (AOF \`everysec\`) and PostgreSQL, one alerter and one forwarder worker, the defaults (MOOG_BATCH_LINGER_MS 50, MOOG_RATE_LIMIT 50 requests/s) — with one \`contains\` rule and MOOG_WEBHOOK_URL at the mock Moogsoft in the benchmark process. Load: RFC 3164 Cisco lines of about 150 bytes over UDP at a fixed ${fmt(RATE)} events/s (open loop), each with a unique token. Latency: from the send of a datagram to the arrival at the mock of the request holding its alert, after the alert's audit row was committed. Every run checks that each message arrived exactly once and has one audit row.

| scenario | p50 | p99 | max |
|---|---|---|---|
| syslog UDP → rule → audit → Moogsoft at ${fmt(m.offered)} events/s | **${fmt(m.p50)} ms** | **${fmt(m.p99)} ms** | ${fmt(m.max)} ms |

Per run (p50 · p99 · max ms): ${results.map((r) => `${fmt(r.p50)} · ${fmt(r.p99)} · ${fmt(r.max)}`).join('; ')}. Duplicates at the mock: ${Math.max(...results.map((r) => r.duplicates))}.
`;
  writeSection('pipeline', md);
  process.stdout.write(`${md}\n`);
}
