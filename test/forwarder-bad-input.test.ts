// Bad input for the forwarder, one row per case: each gets a clear answer (a DLQ entry with a reason,
// a metric, a rate-limited log line) and the worker keeps going. Real `mutt` processes, real Redis,
// the mock Moogsoft.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServerHandle, startRedisServer } from '../src/runtime/services/redis-server.ts';
import { pythonAlert } from './fixtures/alerts.ts';
import { census, metric, pushAlerts, type Scenario, scenario, until } from './harness/forwarding.ts';
import { MockMoogsoft, ok } from './harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices({ database: false });
  mock = await MockMoogsoft.start({ auth: { bearer: 'right-key-77aa' } });
});
afterEach(() => {
  for (const p of procs.splice(0))
    if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
  mock.respond(ok());
  mock.clear();
});
afterAll(async () => {
  await mock.close();
  await svc.cleanup();
});

const start = async (env: Record<string, string>) => {
  const p = startMutt(env);
  procs.push(p);
  await p.running();
  await p.waitForMessage('forwarder started');
  return p;
};
const moog = (key = 'right-key-77aa') => ({ MOOG_WEBHOOK_URL: mock.url, MOOG_API_KEY: key });
const good = (n: number, from = 0) => Array.from({ length: n }, (_, i) => pythonAlert(from + i));
const settledClean = async (s: Scenario, n: number) => {
  await mock.until(() => mock.uniqueAcceptedIds().size === n, 30_000, `${n} alerts accepted`);
  await until(async () => (await census(svc.redis, s.keys)).inHand === 0, 10_000, 'processing lists empty');
  expect(await census(svc.redis, s.keys)).toEqual({ queue: 0, dlq: 0, dead: 0, inHand: 0 });
};

interface Row {
  input: string;
  expected: string;
  run: () => Promise<void>;
}

const rows: Row[] = [
  {
    input: 'a non-JSON alert in the queue',
    expected: 'DLQ with reason; no crash loop',
    async run() {
      const s = await scenario(svc, moog());
      const p = await start(s.env);
      await pushAlerts(svc.redis, s.keys, [
        'router1 LINK DOWN',
        ...good(5),
        '{"hostname":"r1","mess',
        '[1,2,3]',
        ...good(5, 5),
        JSON.stringify({ message_body: 'no host' }),
      ]);
      await mock.until(() => mock.uniqueAcceptedIds().size === 10, 20_000, 'the good alerts');
      await until(async () => (await census(svc.redis, s.keys)).dlq === 4, 5000, 'four DLQ entries');
      const dlq = (await svc.redis.lrange(s.keys.moogDlq, 0, -1)).map((x) => JSON.parse(x)).reverse();
      expect(dlq.map((d) => [d._dlq_code, d._raw ?? d.message_body])).toEqual([
        ['invalid_json', 'router1 LINK DOWN'],
        ['invalid_json', '{"hostname":"r1","mess'],
        ['invalid_alert', '[1,2,3]'],
        ['invalid_alert', 'no host'],
      ]);
      for (const d of dlq)
        expect(d._dlq_reason).toMatch(
          /^(not JSON: |an alert must be a JSON object|missing or empty "hostname")/,
        );
      expect(await metric(s.port, 'mutt_moog_dlq_writes_total', 'reason="invalid_json"')).toBe(2);
      expect(await metric(s.port, 'mutt_moog_dlq_writes_total', 'reason="invalid_alert"')).toBe(2);
      expect(await metric(s.port, 'mutt_worker_restarts_total', 'role="forwarder"')).toBe(0);
      // Rate-limited logging: one line per reason per minute, whatever the flood.
      expect(p.lines.filter((l) => l.msg === 'alert dead-lettered')).toHaveLength(2);
    },
  },
  {
    input: 'the mock answers 200 with a body that is not JSON',
    expected: 'delivered; counted',
    async run() {
      const s = await scenario(svc, moog());
      mock.respond({ kind: 'invalid_json' });
      await start(s.env);
      await pushAlerts(svc.redis, s.keys, good(50));
      await settledClean(s, 50);
      expect(
        await metric(s.port, 'mutt_moog_response_anomalies_total', 'reason="invalid_json"'),
      ).toBeGreaterThanOrEqual(1);
    },
  },
  {
    input: 'the mock answers with a 10 MB body',
    expected: 'read up to 64 KiB, the rest discarded; delivered; counted',
    async run() {
      const s = await scenario(svc, moog());
      mock.respond({ kind: 'huge' });
      await start(s.env);
      await pushAlerts(svc.redis, s.keys, good(50));
      await settledClean(s, 50);
      expect(
        await metric(s.port, 'mutt_moog_response_anomalies_total', 'reason="oversized"'),
      ).toBeGreaterThanOrEqual(1);
    },
  },
  {
    input: 'the mock never answers',
    expected: 'timeout (MOOG_WEBHOOK_TIMEOUT), retried, counted; delivered once it answers',
    async run() {
      const s = await scenario(svc, { ...moog(), MOOG_WEBHOOK_TIMEOUT: '1', MOOG_MAX_IN_FLIGHT: '1' });
      mock.next(2, { kind: 'hang' });
      await start(s.env);
      await pushAlerts(svc.redis, s.keys, good(30));
      await settledClean(s, 30);
      expect(await metric(s.port, 'mutt_moog_requests_total', 'status="fail",reason="timeout"')).toBe(2);
      expect(mock.posts().filter((r) => r.answer === 'hang')).toHaveLength(2);
    },
  },
  {
    input: 'wrong API key (401)',
    expected: 'DLQ with reason, one error log per minute, breaker untouched',
    async run() {
      const s = await scenario(svc, {
        ...moog('wrong-key-0000'),
        MOOG_BATCH_SIZE: '10',
        CIRCUIT_BREAKER_THRESHOLD: '3',
      });
      const p = await start(s.env);
      await pushAlerts(svc.redis, s.keys, good(100));
      await until(async () => (await census(svc.redis, s.keys)).dlq === 100, 20_000, '100 DLQ entries');
      expect(mock.posts().length).toBeGreaterThanOrEqual(10);
      const dlq = (await svc.redis.lrange(s.keys.moogDlq, 0, -1)).map((x) => JSON.parse(x));
      for (const d of dlq) {
        expect(d).toMatchObject({ _dlq_code: 'auth', _dlq_status: 401 });
        expect(d._dlq_reason).toMatch(/^HTTP 401 from Moogsoft/);
      }
      const raw = await svc.redis.lrange(s.keys.moogDlq, 0, -1);
      for (const r of raw) expect(r).not.toContain('wrong-key-0000');
      const errors = p.lines.filter((l) => l.level === 'error' && /refused the credentials/.test(l.msg));
      expect(errors).toHaveLength(1);
      expect(JSON.stringify(p.lines)).not.toContain('wrong-key-0000');
      expect(await svc.redis.get(s.keys.breakerState)).toBeNull();
      expect(await svc.redis.get(s.keys.breakerFailures)).toBeNull();
      expect(
        await metric(s.port, 'mutt_moog_requests_total', 'status="fail",reason="auth"'),
      ).toBeGreaterThanOrEqual(10);
    },
  },
  {
    input: 'Redis restarted during a batch',
    expected: 'the batch is retried; nothing lost',
    async run() {
      const port = await freePort();
      let redis: RedisServerHandle | undefined;
      const up = async () => {
        redis = await startRedisServer({
          binary: svc.services.redisServerBinary,
          dir: join(svc.tmp, 'redis-restart'),
          port,
          persistence: 'aof',
          log: quietLog(),
        });
      };
      await up();
      try {
        const s = await scenario(svc, {
          ...moog(),
          REDIS_HOST: '127.0.0.1',
          REDIS_PORT: String(port),
          MOOG_BATCH_SIZE: '25',
        });
        const { Redis } = await import('ioredis');
        const direct = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
        direct.on('error', () => {}); // it reconnects by itself after the restart
        mock.respond(ok(200, { delayMs: 700 }));
        const p = await start(s.env);
        await pushAlerts(direct, s.keys, good(500));
        await mock.until(() => mock.posts().length >= 1, 10_000, 'a request in flight');
        await redis!.stop(); // the answers to the requests in flight come back while Redis is away
        const inFlight = mock.posts().length;
        await new Promise((r) => setTimeout(r, 1500));
        await p.waitForMessage('Redis connection lost; reconnecting', 5000);
        await up();
        mock.respond(ok());
        await mock.until(() => mock.uniqueAcceptedIds().size === 500, 60_000, 'all alerts accepted');
        await until(
          async () => (await census(direct, s.keys)).inHand === 0,
          15_000,
          'processing lists empty',
        );
        expect(await census(direct, s.keys)).toEqual({ queue: 0, dlq: 0, dead: 0, inHand: 0 });
        expect(inFlight).toBeLessThan(20); // most of the work happened after the restart
        direct.disconnect();
      } finally {
        for (const p of procs.splice(0)) p.kill('SIGKILL');
        await redis?.stop();
      }
    },
  },
];

describe('forwarder bad input', () => {
  for (const row of rows) it(`${row.input} → ${row.expected}`, row.run);
});
