// Forwarder benchmark: the real daemon (`mutt serve`, MUTT_ROLES=forwarder) draining alerts from Redis
// to the mock Moogsoft (test/harness/mock-moogsoft.ts) over loopback HTTP.
//
//   limited    MOOG_RATE_LIMIT=50/s, batches of 100       → alerts/s at the mock (the bound is 5,000/s)
//   unlimited  no effective limit, batches of 100         → alerts/s at the mock, with one forwarder
//              worker and with two (FORWARDER_WORKERS=2, one per core of the reference machine)
//   latency    1,000 alerts/s pushed open loop, defaults  → p50/p99 from LPUSH to receipt at the mock
//
// The queue is filled before the forwarder starts (so the producer does not compete with it), and the
// rate is counted at the mock over a window that skips the first second (start-up, the first burst of
// the sliding window). Every run then waits for every alert to arrive and checks that the queue, the
// processing and retry lists and the DLQ are empty: a figure cannot come from alerts that were lost.
// Redis is a private redis-server with MUTT's embedded settings (Unix socket, AOF everysec).
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createLogger } from '../src/runtime/logging.ts';
import { findRedisServer } from '../src/runtime/services/binaries.ts';
import { startRedisServer } from '../src/runtime/services/redis-server.ts';
import { muttAlert, pythonAlert } from '../test/fixtures/alerts.ts';
import { MockMoogsoft } from '../test/harness/mock-moogsoft.ts';
import { fmt, machine, median, percentile, scratchDir } from './lib/env.ts';
import { startMutt } from './lib/mutt.ts';
import { writeSection } from './lib/report.ts';

const alertJson = (i: number, cid: string) =>
  JSON.stringify((i % 2 ? muttAlert : pythonAlert)(i, { _correlation_id: cid }));

interface Env {
  redis: Redis;
  socket: string;
  dir: string;
  mock: MockMoogsoft;
}

async function fill(redis: Redis, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const chunk: string[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) chunk.push(alertJson(j, `${tag}-${j}`));
    await redis.lpush('mutt:alert_queue', ...chunk);
  }
}

async function drained(e: Env, n: number, timeoutMs: number): Promise<void> {
  await e.mock.until(() => e.mock.uniqueAcceptedIds().size >= n, timeoutMs, `${n} alerts delivered`);
  const end = Date.now() + 10_000;
  for (;;) {
    const lists = await e.redis.keys('mutt:processing:moog:*');
    let inHand = 0;
    for (const l of lists) inHand += await e.redis.llen(l);
    const [queue, dlq] = [await e.redis.llen('mutt:alert_queue'), await e.redis.llen('mutt:dlq:moog')];
    if (queue === 0 && dlq === 0 && inHand === 0) return;
    if (Date.now() > end) throw new Error(`not drained: queue ${queue}, dlq ${dlq}, in hand ${inHand}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function forwarder(e: Env, extra: Record<string, string>) {
  return startMutt({
    MUTT_ROLES: 'forwarder',
    MUTT_DATA_DIR: join(e.dir, 'data'),
    REDIS_HOST: e.socket,
    SERVER_PORT_INGESTOR: '0',
    MOOG_WEBHOOK_URL: e.mock.url,
    ...extra,
  });
}

/** Alerts per second received in [first receipt + 1 s, + seconds). */
function windowRate(e: Env, seconds: number): { alertsPerSecond: number; requestsPerSecond: number } {
  const posts = e.mock.posts();
  const t0 = posts[0]!.at + 1000;
  const inside = posts.filter((r) => r.at >= t0 && r.at < t0 + seconds * 1000);
  return {
    alertsPerSecond: inside.reduce((n, r) => n + r.ids.length, 0) / seconds,
    requestsPerSecond: inside.length / seconds,
  };
}

async function throughput(e: Env, seconds: number, rate: number | undefined, workers: number, tag: string) {
  // Enough work that the queue never runs dry inside the window (2 s of margin).
  const n = rate ? rate * 100 * (seconds + 2) : 30_000 * (seconds + 2);
  await e.redis.del('mutt:alert_queue');
  e.mock.clear();
  await fill(e.redis, n, tag);
  const mutt = await forwarder(e, {
    MOOG_RATE_LIMIT: String(rate ?? 1_000_000),
    MOOG_BATCH_SIZE: '100',
    FORWARDER_WORKERS: String(workers),
  });
  try {
    await drained(e, n, (seconds + 120) * 1000);
  } finally {
    await mutt.stop();
  }
  if (e.mock.invalid().length > 0) throw new Error('the mock saw invalid payloads');
  const r = windowRate(e, seconds);
  return { ...r, n, duplicates: e.mock.duplicates() };
}

async function latency(e: Env, seconds: number, tag: string) {
  await e.redis.del('mutt:alert_queue');
  e.mock.clear();
  const mutt = await forwarder(e, {});
  const rate = 1000;
  const sent = new Map<string, number>();
  try {
    await new Promise((r) => setTimeout(r, 500));
    const start = Date.now();
    let i = 0;
    // Open loop: every 10 ms, the alerts due by now (10 at 1,000/s), whatever the forwarder does.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const due = Math.min(rate * seconds, Math.floor(((Date.now() - start) / 1000) * rate));
        const chunk: string[] = [];
        const now = Date.now();
        for (; i < due; i++) {
          const cid = `${tag}-${i}`;
          sent.set(cid, now);
          chunk.push(alertJson(i, cid));
        }
        if (chunk.length > 0) e.redis.lpush('mutt:alert_queue', ...chunk).catch(reject);
        if (i >= rate * seconds) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    await drained(e, rate * seconds, 60_000);
  } finally {
    await mutt.stop();
  }
  const lat: number[] = [];
  const seen = new Set<string>();
  for (const r of e.mock.posts()) {
    for (const id of r.ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      lat.push(r.at - sent.get(id)!);
    }
  }
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1]! };
}

export async function forwarderBench(o: { seconds: number; runs: number }): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const dir = scratchDir('forwarder');
  const log = createLogger({ level: 'WARNING', destination: process.stderr });
  const binary = findRedisServer();
  if (!binary) throw new Error('redis-server is missing: apt-get install redis-server');
  const server = await startRedisServer({ binary, dir: join(dir, 'redis'), persistence: 'aof', log });
  const mock = await MockMoogsoft.start({ keepEvents: false });
  const redis = new Redis({ path: server.socketPath });
  const e: Env = { redis, socket: server.socketPath, dir, mock };
  const limited: Awaited<ReturnType<typeof throughput>>[] = [];
  const unlimited: Awaited<ReturnType<typeof throughput>>[] = [];
  const unlimited2: Awaited<ReturnType<typeof throughput>>[] = [];
  const lat: Awaited<ReturnType<typeof latency>>[] = [];
  try {
    for (let run = 1; run <= o.runs; run++) {
      limited.push(await throughput(e, o.seconds, 50, 1, `l${run}`));
      unlimited.push(await throughput(e, o.seconds, undefined, 1, `u${run}`));
      unlimited2.push(await throughput(e, o.seconds, undefined, 2, `w${run}`));
      lat.push(await latency(e, o.seconds, `t${run}`));
      const [l, u, u2, t] = [limited.at(-1)!, unlimited.at(-1)!, unlimited2.at(-1)!, lat.at(-1)!];
      process.stderr.write(
        `run ${run}: limited ${fmt(l.alertsPerSecond)} alerts/s (${fmt(l.requestsPerSecond, 1)} req/s), unlimited ${fmt(u.alertsPerSecond)} alerts/s (2 workers: ${fmt(u2.alertsPerSecond)}), 1k/s p50 ${fmt(t.p50)} ms p99 ${fmt(t.p99)} ms\n`,
      );
    }
  } finally {
    redis.disconnect();
    await mock.close();
    await server.stop();
  }

  const loadAfter = loadavg()[0]!;
  const m = {
    limited: median(limited.map((r) => r.alertsPerSecond)),
    limitedRps: median(limited.map((r) => r.requestsPerSecond)),
    unlimited: median(unlimited.map((r) => r.alertsPerSecond)),
    unlimitedRps: median(unlimited.map((r) => r.requestsPerSecond)),
    unlimited2: median(unlimited2.map((r) => r.alertsPerSecond)),
    unlimited2Rps: median(unlimited2.map((r) => r.requestsPerSecond)),
    p50: median(lat.map((r) => r.p50)),
    p99: median(lat.map((r) => r.p99)),
    max: median(lat.map((r) => r.max)),
    dups: Math.max(...[...limited, ...unlimited, ...unlimited2].map((r) => r.duplicates)),
  };
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  const md = `## Forwarder to Moogsoft

Command: \`npm run bench -- forwarder\` (${o.runs} runs of ${o.seconds} s per scenario; medians). Measured ${new Date().toISOString().slice(0, 10)} on: ${machine()}.
MUTT: \`mutt serve\` with \`MUTT_ROLES=forwarder\` (MOOG_MAX_IN_FLIGHT 4 per worker), Redis with the embedded settings (Unix socket, AOF \`everysec\`), the mock Moogsoft in the benchmark process over loopback HTTP. Rates are counted at the mock over ${o.seconds} s, after the first second; each run then checks that every alert arrived and that the queue, the processing and retry lists and the DLQ are empty. One-minute load average of the machine: ${fmt(loadBefore, 1)} before, ${fmt(loadAfter, 1)} after (the benchmark itself adds about 2).

| scenario | result | target | |
|---|---|---|---|
| MOOG_RATE_LIMIT 50/s, batches of 100, one worker | **${fmt(m.limited)} alerts/s** (${fmt(m.limitedRps, 1)} requests/s; the limit allows 5,000) | ≥ 4,500 alerts/s, bound by the limit | ${verdict(m.limited >= 4500 && m.limitedRps <= 55)} |
| no effective limit, batches of 100, FORWARDER_WORKERS=2 | **${fmt(m.unlimited2)} alerts/s** (${fmt(m.unlimited2Rps, 1)} requests/s) | ≥ 20,000 alerts/s | ${verdict(m.unlimited2 >= 20_000)} |
| the same with one worker (the default) | **${fmt(m.unlimited)} alerts/s** (${fmt(m.unlimitedRps, 1)} requests/s) | ≥ 20,000 alerts/s | ${verdict(m.unlimited >= 20_000)} |
| 1,000 alerts/s pushed open loop (default linger 50 ms), LPUSH → receipt at the mock | p50 ${fmt(m.p50)} ms, **p99 ${fmt(m.p99)} ms**, max ${fmt(m.max)} ms | — (forwarder leg of the end-to-end figure) | |

Duplicates seen by the mock in any run: ${m.dups}. Per run (limited alerts/s · unlimited, 2 workers · unlimited, 1 worker · latency p99 ms): ${limited
    .map(
      (l, i) =>
        `${fmt(l.alertsPerSecond)} · ${fmt(unlimited2[i]!.alertsPerSecond)} · ${fmt(unlimited[i]!.alertsPerSecond)} · ${fmt(lat[i]!.p99)}`,
    )
    .join('; ')}.

The end-to-end latency from a syslog message to its receipt at the mock at 1,000 events/s needs the syslog listener and the alerter in the same run; that figure is recorded with the whole pipeline.
`;
  writeSection('forwarder', md);
  process.stdout.write(`${md}\n`);
}
