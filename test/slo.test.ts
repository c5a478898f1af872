// The SLO report from MUTT's own counters in a real Redis: the recorders of several threads (or
// nodes) add to one set of hour buckets, the report reads them back over the window with the dynamic
// objectives, and a Prometheus that fails (unreachable, 500, not Prometheus, too slow) makes it answer
// from those counters, saying so, counting it, and never failing. The report from a real Prometheus is
// tested in test/observability/prometheus.test.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsFromRedis, sloAnswer, SloRecorder, SloService } from '../src/core/slo.ts';
import { runMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => svc.cleanup());

const HOUR = 3_600_000;
const hourIso = (ms: number) => new Date(ms).toISOString().slice(0, 13);

function ingestCounter() {
  return new Counter({
    name: 'mutt_ingest_requests_total',
    help: 'h',
    labelNames: ['status', 'reason'],
    registers: [],
  });
}

describe('SloRecorder', () => {
  it("adds each thread's gains to the fleet's hour bucket, once, and only what the objective counts", async () => {
    const now = Date.parse('2026-03-10T12:30:00Z');
    const a = ingestCounter();
    const b = ingestCounter();
    const rec = (counter: Counter<string>) =>
      new SloRecorder({
        redis: svc.redis,
        keys: svc.keys,
        component: 'ingestor',
        counter,
        log: svc.log,
        now: () => now,
      });
    const ra = rec(a);
    const rb = rec(b);
    a.inc({ status: 'success', reason: '' }, 90);
    a.inc({ status: 'fail', reason: 'queue_full' }, 3);
    a.inc({ status: 'fail', reason: 'auth' }, 50); // the sender's fault: not counted
    b.inc({ status: 'success', reason: '' }, 10);
    b.inc({ status: 'fail', reason: 'redis_unavailable' }, 2);
    await Promise.all([ra.flush(), rb.flush(), ra.flush()]);
    const key = svc.keys.sloHour('2026-03-10T12');
    expect(await svc.redis.hgetall(key)).toEqual({ 'ingestor:good': '100', 'ingestor:bad': '5' });
    expect(await svc.redis.ttl(key)).toBeGreaterThan(700 * 3600);
    a.inc({ status: 'success', reason: '' }, 7);
    await ra.flush();
    await rb.flush(); // nothing new: nothing written
    expect(await svc.redis.hgetall(key)).toEqual({ 'ingestor:good': '107', 'ingestor:bad': '5' });
  });

  it('keeps what it could not write and adds it with the next flush', async () => {
    const now = Date.parse('2026-03-10T13:05:00Z');
    const dead = new Redis({ port: await freePort(), lazyConnect: true, enableOfflineQueue: false });
    let target: Redis = dead;
    const counter = new Counter({
      name: 'mutt_moog_requests_total',
      help: 'h',
      labelNames: ['status', 'reason'],
      registers: [],
    });
    const rec = new SloRecorder({
      redis: { multi: () => target.multi() },
      keys: svc.keys,
      component: 'forwarder',
      counter,
      log: svc.log,
      now: () => now,
    });
    counter.inc({ status: 'success', reason: '' }, 4);
    counter.inc({ status: 'fail', reason: 'http_503' }, 6);
    await rec.flush(); // Redis unreachable: logged, kept
    target = svc.redis;
    counter.inc({ status: 'success', reason: '' }, 1);
    await rec.stop();
    expect(await svc.redis.hgetall(svc.keys.sloHour('2026-03-10T13'))).toEqual({
      'forwarder:good': '5',
      'forwarder:bad': '6',
    });
    dead.disconnect();
  });
});

describe('countsFromRedis', () => {
  it('sums the hours of the window and pro-rates the oldest one', async () => {
    const now = Date.parse('2026-04-01T10:15:00Z');
    // 10:15 now, 2 h window → from 08:15: 08:00 counts 3/4, 09:00 and 10:00 whole; 07:00 not at all.
    const put = (ms: number, good: number, bad: number) =>
      svc.redis.hset(svc.keys.sloHour(hourIso(ms)), { 'ingestor:good': good, 'ingestor:bad': bad });
    await put(now - 3 * HOUR, 1000, 1000);
    await put(now - 2 * HOUR, 400, 40);
    await put(now - HOUR, 100, 1);
    await put(now, 10, 0);
    const c = await countsFromRedis(svc.redis, svc.keys, 2, now);
    expect(c.ingestor).toEqual({ good: 300 + 100 + 10, bad: 30 + 1 });
    expect(c.forwarder).toEqual({ good: 0, bad: 0 });
  });
});

/** A server that answers every request the same way (a Prometheus that is broken). */
async function brokenPrometheus(answer: (res: http.ServerResponse) => void) {
  const server = http.createServer((_req, res) => answer(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('SloService', () => {
  const now = Date.parse('2026-05-20T08:30:00Z');
  beforeAll(async () => {
    await svc.redis.hset(svc.keys.sloHour('2026-05-20T08'), {
      'ingestor:good': 9990,
      'ingestor:bad': 10,
      'forwarder:good': 970,
      'forwarder:bad': 30,
    });
  });

  const service = (extra: Record<string, string> = {}, registry?: Registry) =>
    new SloService({
      redis: svc.redis,
      keys: svc.keys,
      config: svc.config(extra),
      registry,
      log: svc.log,
      prometheusTimeoutMs: 500,
      now: () => now,
    });

  it("answers from MUTT's counters without PROMETHEUS_URL, with the dynamic objectives", async () => {
    await svc.redis.set(svc.keys.config('slo_forward_success_target'), '0.95');
    await svc.redis.set(svc.keys.config('slo_window_hours'), '6');
    // Written around `mutt config set`: invalid, so the static value applies.
    await svc.redis.set(svc.keys.config('slo_ingest_success_target'), '1.5');
    try {
      const r = await service({ SLO_INGEST_SUCCESS_TARGET: '0.98' }).report();
      expect(r).toMatchObject({
        window_hours: 6,
        source: 'mutt_counters',
        source_detail: `Redis ${svc.prefix}:slo:1h:<hour> (request counts of every MUTT node)`,
        generated_at: '2026-05-20T08:30:00.000Z',
        components: {
          ingestor: {
            target: 0.98,
            availability: 0.999,
            state: 'ok',
            window_hours: 6,
            good: 9990,
            total: 10000,
          },
          forwarder: {
            target: 0.95,
            availability: 0.97,
            burn_rate: 0.6,
            error_budget_remaining: 0.4,
            state: 'ok',
          },
        },
      });
      expect(r.warning).toBeUndefined();
    } finally {
      await svc.redis.del(
        svc.keys.config('slo_forward_success_target'),
        svc.keys.config('slo_window_hours'),
        svc.keys.config('slo_ingest_success_target'),
      );
    }
  });

  // Bad input: PROMETHEUS_URL unreachable or answering 500 → the counters answer, the report says so,
  // a warning metric counts it, and nothing fails.
  it.each([
    [
      'unreachable',
      async () => ({ url: `http://127.0.0.1:${await freePort()}`, close: async () => {} }),
      /unreachable/,
    ],
    [
      'http_500',
      () =>
        brokenPrometheus((res) =>
          res.writeHead(500).end('{"status":"error","error":"query processing failed"}'),
        ),
      /http_500: HTTP 500: query processing failed/,
    ],
    [
      'http_503',
      () => brokenPrometheus((res) => res.writeHead(503).end('<html>maintenance</html>')),
      /HTTP 503/,
    ],
    [
      'invalid_answer',
      () =>
        brokenPrometheus((res) =>
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
        ),
      /invalid_answer/,
    ],
    ['timeout', () => brokenPrometheus(() => {}), /timeout: no answer within 500 ms/],
  ])('PROMETHEUS_URL %s → the counters answer, with a warning and a count', async (reason, start, detail) => {
    const prom = await start();
    const registry = new Registry();
    try {
      const s = service({ PROMETHEUS_URL: prom.url }, registry);
      const r = await s.report();
      expect(r.source).toBe('mutt_counters');
      expect(r.warning).toMatch(new RegExp(`^Prometheus at ${prom.url}/? failed`));
      expect(r.warning).toMatch(detail);
      expect(r.components.ingestor).toMatchObject({ availability: 0.999, total: 10000 });
      await s.report();
      expect(await registry.metrics()).toMatch(
        new RegExp(`^mutt_slo_prometheus_failures_total\\{reason="${reason}"\\} 2$`, 'm'),
      );
    } finally {
      await prom.close();
    }
  });

  it('mutt slo prints the same report (text and --json)', async () => {
    // The CLI reads the real clock: put counts in the current hour.
    await svc.redis.hset(svc.keys.sloHour(hourIso(Date.now())), { 'forwarder:good': 99, 'forwarder:bad': 1 });
    const json = runMutt(['slo', '--json'], svc.env);
    expect(json.status).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(r).toMatchObject({ window_hours: 24, source: 'mutt_counters' });
    expect(r.components.forwarder).toMatchObject({ target: 0.99, burn_rate: 1, state: 'ok' });
    const text = runMutt(['slo'], { ...svc.env, PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` });
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^SLO over the last 24 h, from MUTT's own counters/m);
    expect(text.stdout).toMatch(/^warning: Prometheus at http:\/\/127\.0\.0\.1:\d+\/? failed \(unreachable/m);
    expect(text.stdout).toMatch(/^forwarder\s+99\.00%/m);
  });
});

// What the admin API's SLO route answers (src/core/slo.ts sloAnswer).
describe('sloAnswer', () => {
  it('200 with the report, even when Prometheus fails; 503 only when Redis cannot be read', async () => {
    const config = svc.config({ PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` });
    const ok = await sloAnswer(
      new SloService({ redis: svc.redis, keys: svc.keys, config, prometheusTimeoutMs: 500 }),
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ source: 'mutt_counters', warning: expect.stringMatching(/unreachable/) });
    const dead = new Redis({ port: await freePort(), lazyConnect: true, enableOfflineQueue: false });
    const down = await sloAnswer(new SloService({ redis: dead, keys: svc.keys, config: svc.config() }));
    expect(down).toEqual({
      status: 503,
      body: { error: expect.stringMatching(/^SLO report unavailable: Redis: /) },
    });
    dead.disconnect();
  });
});
