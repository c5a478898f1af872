// HTTP ingest benchmark: the real daemon (`mutt serve`, listeners role) writing into its embedded Redis
// (Unix socket, AOF fsync every second — the product default), loaded by wrk over loopback.
//
//   single   one event per POST, keep-alive, wrk -t2 -c64         → requests/s, p99
//   batch    100 events per POST (JSON array), wrk -t2 -c16       → events/s, p99
//   ceiling  a bare Node.js HTTP server answering without any work  → the platform's requests/s
//   5k rate  open-loop 5,000 requests/s for the run length          → p50 / p99 / max latency
//
// Every scenario runs three times; the report gives medians. Every accepted event is checked against
// the queue length in Redis, so a figure cannot come from requests that were not really queued.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ensureTool, fmt, machine, median, percentile, scratchDir } from './lib/env.ts';
import { startMutt } from './lib/mutt.ts';
import { openLoop } from './lib/openloop.ts';
import { writeSection } from './lib/report.ts';
import { postScript, runWrk, type WrkResult } from './lib/wrk.ts';

const KEY = 'bench-key';
const event = (i: number) => ({
  hostname: `router${i % 50}`,
  message: `%LINK-3-UPDOWN: Interface GigabitEthernet0/${i % 48}, changed state to down`,
  timestamp: '2026-11-24T12:00:00Z',
  syslog_severity: 3,
  source: 'bench',
});

export async function ingestBench(o: { seconds: number; runs: number }): Promise<void> {
  ensureTool('wrk', 'wrk');
  const dir = scratchDir('ingest');
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const ceilingPort = port + 1;
  const mutt = await startMutt({
    MUTT_ROLES: 'listeners',
    MUTT_DATA_DIR: join(dir, 'data'),
    INGEST_API_KEY: KEY,
    SERVER_PORT_INGESTOR: String(port),
    MAX_INGEST_QUEUE_SIZE: '50000000',
    SYSLOG_UDP_PORT: '0',
    SYSLOG_TCP_PORT: '0',
    SYSLOG_TLS_PORT: '0',
    SNMP_TRAP_PORT: '0',
    SERVER_PORT_WEBUI: '0',
  });
  const redis = new Redis({ path: join(dir, 'data', 'redis', 'redis.sock') });
  const ceilingFile = join(dir, 'ceiling.mjs');
  writeFileSync(
    ceilingFile,
    `import http from 'node:http';
const body = '{"status":"queued"}';
http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length }); res.end(body); }); }).listen(${ceilingPort}, '127.0.0.1');`,
  );
  const ceiling = spawn(process.execPath, [ceilingFile], { stdio: 'ignore' });

  const single = JSON.stringify(event(1));
  const batch = JSON.stringify(Array.from({ length: 100 }, (_, i) => event(i)));
  const headers = { 'X-API-KEY': KEY, 'Content-Type': 'application/json' };
  const singleLua = postScript(dir, 'single', single, headers);
  const batchLua = postScript(dir, 'batch', batch, headers);
  const url = `http://127.0.0.1:${port}/ingest`;

  // Nothing consumes the queue here, so it is emptied (UNLINK: freed in the background) after each
  // scenario, as an alerter would keep it short in production.
  const emptyQueue = async () => {
    await redis.unlink('mutt:ingest_queue');
  };

  /** Runs wrk and checks the queue grew by at least every acknowledged event. */
  const measured = async (script: string, connections: number, perRequest: number): Promise<WrkResult> => {
    const r = await runWrk({ url, script, threads: 2, connections, seconds: o.seconds });
    await new Promise((res) => setTimeout(res, 300));
    const depth = await redis.llen('mutt:ingest_queue');
    await emptyQueue();
    const acked = (r.requests - r.non2xx) * perRequest;
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`ingest answered ${r.non2xx} non-2xx and ${r.errors} socket errors`);
    if (depth < acked) throw new Error(`only ${depth} events in Redis for ${acked} acknowledged`);
    return r;
  };

  const rows: { single: WrkResult; batch: WrkResult; ceiling: WrkResult }[] = [];
  const rate: { p50: number; p99: number; max: number; ok: number; due: number }[] = [];
  try {
    await new Promise((res) => setTimeout(res, 500));
    // Warm-up of MUTT and of the open-loop generator (JIT), not measured.
    await runWrk({ url, script: singleLua, threads: 2, connections: 64, seconds: 2 });
    await openLoop({
      host: '127.0.0.1',
      port,
      path: '/ingest',
      body: single,
      headers,
      rate: 5000,
      seconds: 3,
      connections: 64,
    });
    await emptyQueue();
    for (let run = 1; run <= o.runs; run++) {
      const ol = await openLoop({
        host: '127.0.0.1',
        port,
        path: '/ingest',
        body: single,
        headers,
        rate: 5000,
        seconds: o.seconds,
        connections: 64,
      });
      if (ol.failed > 0) throw new Error(`${ol.failed} requests failed at 5,000/s`);
      if ((await redis.llen('mutt:ingest_queue')) < ol.ok)
        throw new Error('events acknowledged at 5,000/s are missing from Redis');
      await emptyQueue();
      const s = await measured(singleLua, 64, 1);
      const b = await measured(batchLua, 16, 100);
      const c = await runWrk({
        url: `http://127.0.0.1:${ceilingPort}/ingest`,
        script: singleLua,
        threads: 2,
        connections: 64,
        seconds: o.seconds,
      });
      rows.push({ single: s, batch: b, ceiling: c });
      rate.push({
        p50: percentile(ol.latenciesMs, 50),
        p99: percentile(ol.latenciesMs, 99),
        max: ol.latenciesMs[ol.latenciesMs.length - 1]!,
        ok: ol.ok,
        due: ol.due,
      });
      process.stderr.write(
        `run ${run}: single ${fmt(s.rps)} req/s (p99 ${s.p99ms} ms), batch ${fmt(b.rps * 100)} events/s, ceiling ${fmt(c.rps)} req/s, 5k/s p99 ${fmt(rate.at(-1)!.p99, 2)} ms\n`,
      );
    }
  } finally {
    redis.disconnect();
    ceiling.kill();
    await mutt.stop();
  }

  const m = {
    single: median(rows.map((r) => r.single.rps)),
    singleP99: median(rows.map((r) => r.single.p99ms)),
    batchEvents: median(rows.map((r) => r.batch.rps * 100)),
    batchRps: median(rows.map((r) => r.batch.rps)),
    batchP99: median(rows.map((r) => r.batch.p99ms)),
    ceiling: median(rows.map((r) => r.ceiling.rps)),
    rateP50: median(rate.map((r) => r.p50)),
    rateP99: median(rate.map((r) => r.p99)),
    rateMax: median(rate.map((r) => r.max)),
  };
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  const md = `## HTTP ingest

Command: \`npm run bench -- ingest\` (${o.runs} runs of ${o.seconds} s per scenario; medians). Measured ${new Date().toISOString().slice(0, 10)} on: ${machine()}.
Load: wrk 2 threads on the same machine (closed loop, keep-alive); open-loop generator in Node.js for the fixed rate.
MUTT: \`mutt serve\` with \`MUTT_ROLES=listeners\`, embedded Redis (Unix socket, AOF \`everysec\`). Each run checks that Redis holds every acknowledged event.

| scenario | result | target | |
|---|---|---|---|
| single event per POST (64 connections) | **${fmt(m.single)} requests/s**, p99 ${fmt(m.singleP99, 1)} ms | ≥ 15,000 requests/s | ${verdict(m.single >= 15_000)} |
| 100-event batch per POST (16 connections) | **${fmt(m.batchEvents)} events/s** (${fmt(m.batchRps)} requests/s), p99 ${fmt(m.batchP99, 1)} ms | ≥ 150,000 events/s | ${verdict(m.batchEvents >= 150_000)} |
| fixed 5,000 requests/s (open loop) | p50 ${fmt(m.rateP50, 2)} ms, **p99 ${fmt(m.rateP99, 2)} ms**, max ${fmt(m.rateMax, 1)} ms | p99 < 20 ms | ${verdict(m.rateP99 < 20)} |
| platform ceiling: bare Node.js HTTP server, same wrk load | ${fmt(m.ceiling)} requests/s | — | MUTT single-event = **${fmt((100 * m.single) / m.ceiling)} %** of it |

Per run (requests/s single · events/s batch · ceiling requests/s · 5k/s p99 ms): ${rows
    .map(
      (r, i) =>
        `${fmt(r.single.rps)} · ${fmt(r.batch.rps * 100)} · ${fmt(r.ceiling.rps)} · ${fmt(rate[i]!.p99, 2)}`,
    )
    .join('; ')}.
`;
  writeSection('ingest', md);
  process.stdout.write(`${md}\n`);
}
