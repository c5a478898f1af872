// The cost of REDIS_MIN_REPLICAS_ACK on HTTP ingest: the same wrk load on two MUTT nodes in front of
// one Redis master with one replica (private redis-servers on loopback, AOF everysec), one node
// acknowledging once the master has the events (0, the default) and one once the replica confirmed
// them too (1, WAIT after each batch), measured one after the other in each run.
//
//   single   one event per POST, wrk -t2 -c64     → requests/s, p99
//   batch    100 events per POST, wrk -t2 -c16    → events/s, p99
//   5k rate  open loop, 5,000 requests/s          → p50 / p99
//
// Every run checks that Redis (and, with the acknowledgement, the replica) holds every event
// acknowledged.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '../src/runtime/services/redis-server.ts';
import { findRedisServer } from '../src/runtime/services/binaries.ts';
import { createLogger } from '../src/runtime/logging.ts';
import { ensureTool, fmt, machine, median, percentile, scratchDir } from './lib/env.ts';
import { startMutt } from './lib/mutt.ts';
import { openLoop } from './lib/openloop.ts';
import { writeSection } from './lib/report.ts';
import { postScript, runWrk } from './lib/wrk.ts';

const KEY = 'bench-key';
const QUEUE = 'mutt:ingest_queue';
const event = (i: number) => ({
  hostname: `router${i % 50}`,
  message: `%LINK-3-UPDOWN: Interface GigabitEthernet0/${i % 48}, changed state to down`,
  timestamp: '2026-11-24T12:00:00Z',
  syslog_severity: 3,
  source: 'bench',
});

interface ModeResult {
  single: number;
  singleP99: number;
  batchEvents: number;
  batchP99: number;
  rateP50: number;
  rateP99: number;
}

export async function replicasBench(o: { seconds: number; runs: number }): Promise<void> {
  ensureTool('wrk', 'wrk');
  const loadBefore = loadavg()[0]!;
  const dir = scratchDir('replicas');
  const log = createLogger({ level: 'ERROR', destination: process.stderr });
  const binary = findRedisServer()!;
  const base = 20_000 + Math.floor(Math.random() * 1000);
  const master = await startRedisServer({ binary, dir: join(dir, 'master'), port: base, log });
  const replica = await startRedisServer({
    binary,
    dir: join(dir, 'replica'),
    port: base + 1,
    log,
    extraArgs: ['--replicaof', '127.0.0.1', String(base)],
  });
  const m = new Redis({ port: base, host: '127.0.0.1' });
  const r = new Redis({ port: base + 1, host: '127.0.0.1' });
  for (let i = 0; i < 100 && !/slave0:.*state=online/.test(await m.info('replication')); i++)
    await new Promise((res) => setTimeout(res, 100));

  const modes = [0, 1] as const;
  const ports = { 0: base + 2, 1: base + 3 };
  const nodes = await Promise.all(
    modes.map((ack) =>
      startMutt({
        MUTT_ROLES: 'listeners',
        MUTT_DATA_DIR: join(dir, `node${ack}`),
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(base),
        REDIS_MIN_REPLICAS_ACK: String(ack),
        INGEST_API_KEY: KEY,
        SERVER_PORT_INGESTOR: String(ports[ack]),
        MAX_INGEST_QUEUE_SIZE: '50000000',
        SYSLOG_UDP_PORT: '0',
        SYSLOG_TCP_PORT: '0',
        SYSLOG_TLS_PORT: '0',
        SNMP_TRAP_PORT: '0',
        SERVER_PORT_WEBUI: '0',
      }),
    ),
  );
  const single = JSON.stringify(event(1));
  const batch = JSON.stringify(Array.from({ length: 100 }, (_, i) => event(i)));
  const headers = { 'X-API-KEY': KEY, 'Content-Type': 'application/json' };
  const singleLua = postScript(dir, 'single', single, headers);
  const batchLua = postScript(dir, 'batch', batch, headers);

  /** Checks that the master — and with the acknowledgement the replica — holds what was acknowledged. */
  const check = async (ack: number, acked: number) => {
    await new Promise((res) => setTimeout(res, 300));
    const onMaster = await m.llen(QUEUE);
    const onReplica = await r.llen(QUEUE);
    if (onMaster < acked) throw new Error(`only ${onMaster} events on the master for ${acked} acknowledged`);
    if (ack > 0 && onReplica < acked)
      throw new Error(`only ${onReplica} events on the replica for ${acked} acknowledged with the replica`);
    await m.unlink(QUEUE);
  };

  const results: Record<0 | 1, ModeResult[]> = { 0: [], 1: [] };
  try {
    for (const ack of modes) {
      const url = `http://127.0.0.1:${ports[ack]}/ingest`;
      await runWrk({ url, script: singleLua, threads: 2, connections: 64, seconds: 2 });
      await m.unlink(QUEUE);
    }
    for (let run = 1; run <= o.runs; run++) {
      for (const ack of modes) {
        const url = `http://127.0.0.1:${ports[ack]}/ingest`;
        const s = await runWrk({ url, script: singleLua, threads: 2, connections: 64, seconds: o.seconds });
        if (s.non2xx || s.errors) throw new Error(`single: ${s.non2xx} non-2xx, ${s.errors} errors`);
        await check(ack, s.requests);
        const b = await runWrk({ url, script: batchLua, threads: 2, connections: 16, seconds: o.seconds });
        if (b.non2xx || b.errors) throw new Error(`batch: ${b.non2xx} non-2xx, ${b.errors} errors`);
        await check(ack, b.requests * 100);
        const ol = await openLoop({
          host: '127.0.0.1',
          port: ports[ack],
          path: '/ingest',
          body: single,
          headers,
          rate: 5000,
          seconds: o.seconds,
          connections: 64,
        });
        if (ol.failed > 0) throw new Error(`${ol.failed} requests failed at 5,000/s`);
        await check(ack, ol.ok);
        results[ack].push({
          single: s.rps,
          singleP99: s.p99ms,
          batchEvents: b.rps * 100,
          batchP99: b.p99ms,
          rateP50: percentile(ol.latenciesMs, 50),
          rateP99: percentile(ol.latenciesMs, 99),
        });
        process.stderr.write(
          `run ${run}, REDIS_MIN_REPLICAS_ACK=${ack}: single ${fmt(s.rps)} req/s (p99 ${s.p99ms} ms), batch ${fmt(b.rps * 100)} events/s (p99 ${b.p99ms} ms), 5k/s p50 ${fmt(percentile(ol.latenciesMs, 50), 2)} ms p99 ${fmt(percentile(ol.latenciesMs, 99), 2)} ms\n`,
        );
      }
    }
  } finally {
    m.disconnect();
    r.disconnect();
    for (const n of nodes) await n.stop();
    await replica.stop();
    await master.stop();
  }
  const loadAfter = loadavg()[0]!;
  const med = (ack: 0 | 1, k: keyof ModeResult) => median(results[ack].map((x) => x[k]));
  const row = (ack: 0 | 1) =>
    `| ${ack === 0 ? '0 (default): acknowledged once the master has them' : '1: acknowledged once the replica confirmed them (WAIT)'} | **${fmt(med(ack, 'single'))}** requests/s, p99 ${fmt(med(ack, 'singleP99'), 1)} ms | **${fmt(med(ack, 'batchEvents'))}** events/s, p99 ${fmt(med(ack, 'batchP99'), 1)} ms | p50 ${fmt(med(ack, 'rateP50'), 2)} ms, p99 ${fmt(med(ack, 'rateP99'), 2)} ms |`;
  const pct = (k: keyof ModeResult) => fmt((100 * med(1, k)) / med(0, k));
  const md = `## HTTP ingest with REDIS_MIN_REPLICAS_ACK

Command: \`npm run bench -- replicas${o.runs !== 3 ? ` --runs ${o.runs}` : ''}${o.seconds !== 10 ? ` --seconds ${o.seconds}` : ''}\` (${o.runs} runs of ${o.seconds} s per scenario; medians). Measured ${new Date().toISOString().slice(0, 10)} on: ${machine()}; 1-minute load average ${fmt(loadBefore, 1)} before and ${fmt(loadAfter, 1)} after the run (on 2 cores, anything above about 1 is other work competing).
Redis: a master and one replica (private redis-servers on loopback TCP, AOF \`everysec\`). MUTT: two \`mutt serve\` nodes with \`MUTT_ROLES=listeners\` in front of the master, one per setting, measured one after the other in each run with the same wrk load (2 threads; 64 connections for single events, 16 for 100-event batches) and the same open-loop generator at 5,000 requests/s. Each run checks that the master (and, with the acknowledgement, the replica) holds every acknowledged event.

| REDIS_MIN_REPLICAS_ACK | single event per POST | 100-event batch per POST | fixed 5,000 requests/s |
|---|---|---|---|
${row(0)}
${row(1)}

With the acknowledgement: single events at ${pct('single')} % of the rate without, batches at ${pct('batchEvents')} %. Each batch of events (all the requests that arrived while the previous batch was written) costs one more round trip to the master, which waits for the replica's confirmation — on loopback a fraction of a millisecond; across a network, the round trip between the master and its replica. Per run (single requests/s 0 · 1; batch events/s 0 · 1): ${results[0]
    .map(
      (x, i) =>
        `${fmt(x.single)} · ${fmt(results[1][i]!.single)}; ${fmt(x.batchEvents)} · ${fmt(results[1][i]!.batchEvents)}`,
    )
    .join(' | ')}.
`;
  writeSection('replicas', md);
  process.stdout.write(`${md}\n`);
}
