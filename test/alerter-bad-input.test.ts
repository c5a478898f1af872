// Bad input and failures around the alerter, each row a test: malformed queue items, huge events,
// poison events PostgreSQL refuses, backpressure (shed and defer), PostgreSQL unreachable for 60 s and
// Redis restarted in the middle of batches. Every test accounts for every event.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RedisServerHandle, startRedisServer } from '../src/runtime/services/redis-server.ts';
import {
  addRule,
  auditRows,
  census,
  drained,
  event,
  metricValue,
  pushEvents,
  resetTables,
  type RunningAlerter,
  startAlerter,
  subPrefixEnv,
  until,
} from './harness/alerting.ts';
import { freePort } from './harness/ports.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';
import { TcpProxy } from './harness/tcp-proxy.ts';

let svc: TestServices;
const running: RunningAlerter[] = [];
beforeAll(async () => {
  svc = await useServices();
});
beforeEach(async () => {
  await resetTables(svc.pool);
});
afterEach(async () => {
  for (const a of running.splice(0)) {
    if (process.env.DEBUG_ALERTER) console.log(a.lines.slice(-10));
    await a.stop();
  }
});
afterAll(async () => {
  await svc.cleanup();
});

const start = async (env: Record<string, string> = {}, o: Parameters<typeof startAlerter>[2] = {}) => {
  const a = await startAlerter(svc, { ...subPrefixEnv(svc), ...env }, o);
  running.push(a);
  return a;
};
const dlqOf = async (a: RunningAlerter) =>
  (await a.redis.lrange(a.keys.alerterDlq, 0, -1)).reverse().map((s) => JSON.parse(s));

describe('malformed queue items', () => {
  it.each([
    ['not JSON', 'hello world', 'invalid_json', /^not JSON: /],
    ['truncated JSON', '{"hostname":"a","message":', 'invalid_json', /^not JSON: /],
    ['a JSON array', '[{"hostname":"a"}]', 'not_an_object', /not an array/],
    ['a JSON string', '"just text"', 'not_an_object', /not string/],
    ['JSON null', 'null', 'not_an_object', /not null/],
    [
      'no hostname',
      JSON.stringify({ timestamp: '2026-01-01T00:00:00Z', message: 'x' }),
      'missing_field',
      /hostname/,
    ],
    [
      'no message',
      JSON.stringify({ hostname: 'a', timestamp: '2026-01-01T00:00:00Z' }),
      'missing_field',
      /message/,
    ],
    ['no timestamp', JSON.stringify({ hostname: 'a', message: 'x' }), 'missing_field', /timestamp/],
    [
      'an empty hostname',
      JSON.stringify({ hostname: ' ', message: 'x', timestamp: 't' }),
      'missing_field',
      /hostname/,
    ],
    [
      'a message that is not a string',
      JSON.stringify({ hostname: 'a', message: { x: 1 }, timestamp: 't' }),
      'invalid_field',
      /"message" must be a string/,
    ],
  ])('%s → alerter DLQ with a reason; the worker goes on', async (_what, item, code, reason) => {
    await addRule(svc.pool, { match_string: 'ok' });
    const a = await start();
    await pushEvents(a.redis, a.keys, [item, event({ message: 'ok after' })]);
    await drained(a.redis, a.keys);
    const dlq = await dlqOf(a);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({
      _dlq_code: code,
      _dlq_reason: expect.stringMatching(reason),
      _failed_at: expect.any(String),
    });
    if (code === 'invalid_json' || code === 'not_an_object') expect(dlq[0]._raw).toBe(item);
    expect(await auditRows(svc.pool)).toHaveLength(1);
    expect(await metricValue(a.registry, 'mutt_alerter_dlq_writes_total', { reason: code })).toBe(1);
    expect(await metricValue(a.registry, 'mutt_alerter_events_processed_total', { status: 'poison' })).toBe(
      1,
    );
    expect(a.lines.some((l) => l.msg === 'event dead-lettered' && l.reason === code)).toBe(true);
  });

  it('a 1 MB message is processed: a bounded audit copy, the whole event in the alert', async () => {
    await addRule(svc.pool, { match_string: 'huge' });
    const a = await start({ AUDIT_RAW_MESSAGE_MAX_BYTES: '65536' });
    const message = `huge ${'x'.repeat(1024 * 1024)}`;
    await pushEvents(a.redis, a.keys, [event({ message })]);
    await drained(a.redis, a.keys);
    const rows = await auditRows(svc.pool);
    expect(rows).toHaveLength(1);
    expect(Buffer.byteLength(rows[0]!.raw_message)).toBeLessThanOrEqual(65536);
    const stored = JSON.parse(rows[0]!.raw_message);
    expect(stored._audit_truncated).toEqual({
      message_chars: message.length,
      event_bytes: expect.any(Number),
    });
    expect(stored.hostname).toBe('core-sw1');
    const alert = JSON.parse((await a.redis.lindex(a.keys.alertQueue, 0))!);
    expect(alert.message_body).toBe(message);
  });
});

describe('poison events', () => {
  it('an event PostgreSQL refuses is retried ALERTER_MAX_RETRIES times, then dead-lettered; its batch is audited', async () => {
    await addRule(svc.pool, { match_string: 'down' });
    // A check the audit log enforces for one host only (as a damaged or foreign schema might).
    await svc.pool.query(
      "ALTER TABLE event_audit_log ADD CONSTRAINT no_poison_host CHECK (hostname <> 'poison-host') NOT VALID",
    );
    try {
      const a = await start({ ALERTER_MAX_RETRIES: '2' });
      const evs = [
        event({ message: 'down 1' }),
        event({ hostname: 'poison-host', message: 'down 2' }),
        event({ message: 'down 3' }),
      ];
      await pushEvents(a.redis, a.keys, evs);
      await until(async () => (await census(a.redis, a.keys)).dlq === 1, 20_000, 'poison dead-lettered');
      await drained(a.redis, a.keys);
      const dlq = await dlqOf(a);
      expect(dlq[0]).toMatchObject({
        hostname: 'poison-host',
        _correlation_id: evs[1]!._correlation_id,
        _dlq_code: 'retries_exhausted',
        _retry_count: 2,
        _dlq_reason: expect.stringMatching(
          /^gave up after 3 attempts \(ALERTER_MAX_RETRIES=2\); last: audit row refused by PostgreSQL: .*no_poison_host/,
        ),
      });
      expect((await auditRows(svc.pool)).map((r) => r.hostname)).toEqual(['core-sw1', 'core-sw1']);
      expect(await metricValue(a.registry, 'mutt_alerter_events_processed_total', { status: 'error' })).toBe(
        2,
      );
      expect(await metricValue(a.registry, 'mutt_alerter_events_processed_total', { status: 'poison' })).toBe(
        1,
      );
      // Its alert was never pushed: only the two good events were forwarded.
      expect(await a.redis.llen(a.keys.alertQueue)).toBe(2);
    } finally {
      await svc.pool.query('ALTER TABLE event_audit_log DROP CONSTRAINT no_poison_host');
    }
  });
});

describe('backpressure', () => {
  it('dlq mode: above the shed threshold, the oldest events go to the alerter DLQ with shedding_reason; poison keeps its own reason; replayed events are never shed again', async () => {
    await addRule(svc.pool, { match_string: 'down' });
    const env = subPrefixEnv(svc);
    // The forwarder is behind: the alert queue is already above the threshold when the alerter starts.
    await svc.redis.lpush(
      `${env.MUTT_KEY_PREFIX}:alert_queue`,
      ...Array.from({ length: 11 }, (_, i) => `{"placeholder":${i}}`),
    );
    const a = await start({
      ...env,
      ALERTER_SHED_MODE: 'dlq',
      ALERTER_QUEUE_SHED_THRESHOLD: '10',
      ALERTER_BATCH_SIZE: '10',
    });
    const replayed = event({ message: 'down, replayed', _replay_count: 1 });
    await pushEvents(a.redis, a.keys, [
      ...Array.from({ length: 25 }, () => event({ message: 'down' })),
      'not json at all',
      replayed,
    ]);
    await drained(a.redis, a.keys);
    const dlq = await dlqOf(a);
    expect(dlq).toHaveLength(26);
    const shed = dlq.filter((d) => d._dlq_code === 'shed');
    expect(shed).toHaveLength(25);
    for (const d of shed) expect(d.shedding_reason).toMatch(/alerter_queue_shed_threshold \(10\)/);
    expect(dlq.filter((d) => d._dlq_code === 'invalid_json')).toEqual([
      expect.objectContaining({ _raw: 'not json at all', _dlq_reason: expect.stringMatching(/^not JSON/) }),
    ]);
    // The event replayed out of a DLQ was audited and alerted, not shed a second time.
    const rows = await auditRows(svc.pool);
    expect(rows.map((r) => JSON.parse(r.raw_message)._correlation_id)).toEqual([replayed._correlation_id]);
    expect(await a.redis.llen(a.keys.alertQueue)).toBe(12);
    expect(await metricValue(a.registry, 'mutt_alerter_shed_events_total', { mode: 'dlq' })).toBe(25);
  });

  it('defer mode (dynamic): pauses while the alert queue is full, then processes everything', async () => {
    await addRule(svc.pool, { match_string: 'down', prod_handling: 'Ignore' });
    const env = subPrefixEnv(svc);
    const p = env.MUTT_KEY_PREFIX;
    // Set with the dynamic keys an operator would use (`mutt config set`), before the alerter starts.
    await svc.redis.mset(
      `${p}:config:alerter_queue_shed_threshold`,
      '5',
      `${p}:config:alerter_shed_mode`,
      'defer',
      `${p}:config:alerter_defer_sleep_ms`,
      '50',
    );
    await svc.redis.lpush(`${p}:alert_queue`, ...Array.from({ length: 6 }, (_, i) => `{"placeholder":${i}}`));
    const a = await start({ ...env, ALERTER_BATCH_SIZE: '5' });
    expect(a.alerter.dynamic.get('alerter_shed_mode')).toBe('defer');
    await pushEvents(
      a.redis,
      a.keys,
      Array.from({ length: 20 }, () => event({ message: 'down' })),
    );
    await until(
      async () => (await metricValue(a.registry, 'mutt_alerter_shed_events_total', { mode: 'defer' })) >= 5,
      5000,
      'deferring',
    );
    expect((await census(a.redis, a.keys)).queue).toBe(20);
    await a.redis.ltrim(a.keys.alertQueue, 0, 1); // the forwarder catches up
    await drained(a.redis, a.keys);
    expect(await auditRows(svc.pool)).toHaveLength(20);
    expect((await census(a.redis, a.keys)).dlq).toBe(0);
  });
});

describe('dynamic shed threshold below the batch size', () => {
  it('is refused with the reason in the log, and the static threshold applies', async () => {
    const env = subPrefixEnv(svc);
    await svc.redis.set(`${env.MUTT_KEY_PREFIX}:config:alerter_queue_shed_threshold`, '3');
    const a = await start({ ...env, ALERTER_BATCH_SIZE: '5', ALERTER_QUEUE_SHED_THRESHOLD: '50' });
    expect(a.alerter.dynamic.get('alerter_queue_shed_threshold')).toBe(50);
    const line = a.lines.find(
      (l) => l.msg === 'invalid dynamic configuration value; using the static setting',
    );
    expect(line).toMatchObject({
      key: 'alerter_queue_shed_threshold',
      value: '3',
      reason: expect.stringContaining('expected at least ALERTER_BATCH_SIZE (5)'),
    });
  });
});

describe('outages', () => {
  it(
    'PostgreSQL unreachable for 60 s: the batch is held (nothing removed early), then audited once',
    { timeout: 180_000 },
    async () => {
      await addRule(svc.pool, { match_string: 'down' });
      const proxy = await TcpProxy.start(svc.services.postgres);
      const a = await start({ ALERTER_BATCH_SIZE: '100' }, { pgPort: proxy.port });
      await proxy.cut();
      const evs = Array.from({ length: 300 }, (_, i) => event({ message: `down ${i}` }));
      await pushEvents(a.redis, a.keys, evs);
      const outageEnd = Date.now() + 60_000;
      while (Date.now() < outageEnd) {
        const c = await census(a.redis, a.keys);
        // Every event is still in the queue or in hand; none was acknowledged, none dead-lettered.
        expect(c.queue + c.inHand).toBe(300);
        expect(c.dlq).toBe(0);
        expect(c.alerts).toBe(0);
        await new Promise((r) => setTimeout(r, 2000));
      }
      expect(a.lines.map((l) => `${l.msg} ${JSON.stringify(l.err ?? '')}`)).toContainEqual(
        expect.stringMatching(
          /^(writing the audit log|creating an audit-log partition|counting unhandled events) failed; retrying/,
        ),
      );
      await proxy.restore();
      await drained(a.redis, a.keys, 60_000);
      const rows = await auditRows(svc.pool);
      expect(rows).toHaveLength(300);
      expect(new Set(rows.map((r) => JSON.parse(r.raw_message)._correlation_id)).size).toBe(300);
      expect(await a.redis.llen(a.keys.alertQueue)).toBe(300);
      await proxy.cut();
    },
  );

  it(
    'Redis restarted in the middle of batches: every event audited, duplicates bounded by the batch size',
    { timeout: 120_000 },
    async () => {
      await addRule(svc.pool, { match_string: 'down' });
      const port = await freePort();
      const dir = join(svc.tmp, 'redis-restart');
      const startRedis = () =>
        startRedisServer({
          binary: svc.services.redisServerBinary,
          dir,
          port,
          persistence: 'aof',
          log: quietLog(),
        });
      let server: RedisServerHandle | undefined = await startRedis();
      try {
        const batch = 200;
        // No forwarder runs here: the alert queue may grow without shedding.
        const a = await start(
          {
            ALERTER_BATCH_SIZE: String(batch),
            ALERTER_QUEUE_SHED_THRESHOLD: '1000000',
            ALERTER_QUEUE_WARN_THRESHOLD: '1000000',
          },
          { redisPort: port },
        );
        const n = 20_000;
        const evs = Array.from({ length: n }, (_, i) => event({ message: `down ${i}` }));
        await pushEvents(a.redis, a.keys, evs);
        // Restart twice while batches are in flight.
        for (let round = 0; round < 2; round++) {
          const target = (round + 1) * 4000;
          await until(
            async () =>
              Number((await svc.pool.query('SELECT count(*) AS n FROM event_audit_log')).rows[0].n) >= target,
            60_000,
            `${target} audited`,
          );
          await server.stop();
          server = undefined;
          await new Promise((r) => setTimeout(r, 500));
          server = await startRedis();
        }
        await drained(a.redis, a.keys, 90_000);
        const rows = await auditRows(svc.pool);
        const ids = rows.map((r) => JSON.parse(r.raw_message)._correlation_id as string);
        expect(new Set(ids).size).toBe(n);
        // At most the batch in hand is processed twice per restart.
        expect(ids.length - n).toBeLessThanOrEqual(2 * batch);
        expect((await census(a.redis, a.keys)).dlq).toBe(0);
      } finally {
        for (const r of running.splice(0)) {
          if (process.env.DEBUG_ALERTER)
            console.log(r.lines.slice(-10), await census(r.redis, r.keys).catch(() => undefined));
          await r.stop();
        }
        await server?.stop();
      }
    },
  );
});
