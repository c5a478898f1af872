// HTTP ingest against a real Redis, in-process through app.request().
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIngest } from '../src/listeners/webhook/index.ts';
import { renderMetrics } from '../src/runtime/metrics.ts';
import { jsonOf, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => svc.cleanup());

const event = (i = 0) => ({
  hostname: `r${i}`,
  message: `link ${i} down`,
  timestamp: '2025-11-08T12:00:00Z',
});

function makeApp(overrides: Record<string, string> = {}) {
  const config = svc.config(overrides);
  const registry = new Registry();
  const ingest = createIngest({
    config,
    redis: svc.redis,
    keys: svc.keys,
    registry,
    log: svc.log,
    health: async () => ({ status: 'healthy' }),
    metricsText: () => renderMetrics(registry),
  });
  const key = config.INGEST_API_KEY!;
  const post = (body: string, headers: Record<string, string> = {}, path = '/ingest') =>
    ingest.app.request(path, { method: 'POST', body, headers: { 'X-API-KEY': key, ...headers } });
  const counter = async (name: string, labels: Record<string, string>) => {
    const m = (await registry.getSingleMetric(name)?.get())?.values ?? [];
    const match = m.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
    return match?.value ?? 0;
  };
  return { ...ingest, registry, post, counter, key };
}

const queued = async () => (await svc.redis.lrange(svc.keys.ingestQueue, 0, -1)).map((s) => JSON.parse(s));

beforeEach(async () => {
  await svc.redis.del(svc.keys.ingestQueue);
});

describe('POST /ingest', () => {
  it('queues one event and answers only after Redis has it', async () => {
    const { post } = makeApp();
    const res = await post(JSON.stringify({ ...event(), syslog_severity: 'Warning' }));
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    expect(body).toEqual({ status: 'queued', correlation_id: expect.any(String), queue_depth: 1 });
    expect(res.headers.get('x-correlation-id')).toBe(body.correlation_id);
    const [ev] = await queued();
    expect(ev).toMatchObject({
      ...event(),
      syslog_severity: 4,
      severity_label: 'Warning',
      _correlation_id: body.correlation_id,
      source: 'webhook',
    });
    expect(Date.parse(ev.received_at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('counts accepted events in the 1m/1h/24h buckets with their TTLs', async () => {
    const { post } = makeApp();
    const b = svc.keys.metricsBuckets(new Date());
    const before = Number((await svc.redis.get(b['1m'])) ?? 0);
    expect((await post(JSON.stringify([event(1), event(2), event(3)]))).status).toBe(200);
    expect(Number(await svc.redis.get(b['1m']))).toBe(before + 3);
    expect(Number(await svc.redis.get(b['1h']))).toBeGreaterThanOrEqual(3);
    expect(Number(await svc.redis.get(b['24h']))).toBeGreaterThanOrEqual(3);
    expect(await svc.redis.ttl(b['1m'])).toBeGreaterThan(7000);
    expect(await svc.redis.ttl(b['1h'])).toBeGreaterThan(172000);
    expect(await svc.redis.ttl(b['24h'])).toBeGreaterThan(2591000);
  });

  it('lists the correlation id of a batch item that brought its own', async () => {
    const { post } = makeApp();
    const res = await post(JSON.stringify([{ ...event(1), _correlation_id: 'own-7' }, event(2)]), {
      'X-Correlation-ID': 'b-1',
    });
    const body = await jsonOf(res);
    expect(body.correlation_id).toBe('b-1');
    expect(body.results).toEqual([
      { index: 0, status: 'queued', correlation_id: 'own-7' },
      { index: 1, status: 'queued' },
    ]);
    expect((await queued()).map((e) => e._correlation_id)).toEqual(['b-1:1', 'own-7']);
  });

  it('keeps a single event’s own correlation id when no header is sent', async () => {
    const { post } = makeApp();
    const body = await jsonOf(await post(JSON.stringify({ ...event(), _correlation_id: 'from-body' })));
    expect(body.correlation_id).toBe('from-body');
  });

  it('takes the correlation id from X-Correlation-ID', async () => {
    const { post } = makeApp();
    const res = await post(JSON.stringify(event()), { 'X-Correlation-ID': 'abc-123' });
    expect((await jsonOf(res)).correlation_id).toBe('abc-123');
    expect(res.headers.get('x-correlation-id')).toBe('abc-123');
    expect((await queued())[0]._correlation_id).toBe('abc-123');
  });

  it('answers on the /api/v1 and /api/v2 aliases', async () => {
    const { post } = makeApp();
    expect((await post(JSON.stringify(event()), {}, '/api/v1/ingest')).status).toBe(200);
    expect((await post(JSON.stringify(event()), {}, '/api/v2/ingest')).status).toBe(200);
    expect(await svc.redis.llen(svc.keys.ingestQueue)).toBe(2);
  });

  it('accepts a JSON array with a result per item', async () => {
    const { post, counter } = makeApp();
    const res = await post(JSON.stringify([event(1), { hostname: 'x' }, event(3)]));
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    expect(body).toMatchObject({ status: 'queued', queued: 2, rejected: 1, queue_depth: 2 });
    expect(body.results).toEqual([
      { index: 0, status: 'queued' },
      { index: 1, status: 'error', message: 'Missing or empty required field(s): timestamp, message' },
      { index: 2, status: 'queued' },
    ]);
    const q = await queued();
    // LPUSH: the newest is at the head; consumers take from the tail in arrival order.
    expect(q.map((e) => e.hostname)).toEqual(['r3', 'r1']);
    // Item i is traced as <request correlation id>:<i>.
    expect(q.map((e) => e._correlation_id)).toEqual([`${body.correlation_id}:2`, `${body.correlation_id}:0`]);
    expect(await counter('mutt_ingest_events_total', { status: 'queued' })).toBe(2);
    expect(await counter('mutt_ingest_events_total', { status: 'rejected' })).toBe(1);
  });

  it('accepts newline-delimited JSON as rsyslog omhttp sends it', async () => {
    const { post } = makeApp();
    const body = `${JSON.stringify(event(1))}\n${JSON.stringify(event(2))}\n`;
    const res = await post(body, { 'Content-Type': 'text/plain' });
    expect(res.status).toBe(200);
    expect((await jsonOf(res)).queued).toBe(2);
    expect(await svc.redis.llen(svc.keys.ingestQueue)).toBe(2);
  });

  it('batches concurrent requests into few Redis round trips', async () => {
    const { post } = makeApp();
    const calls = async () => {
      const info = await svc.redis.info('commandstats');
      const m = /cmdstat_evalsha:calls=(\d+)/.exec(info);
      return Number(m?.[1] ?? 0);
    };
    const before = await calls();
    const n = 2000;
    const results = await Promise.all(
      Array.from({ length: n }, async (_, i) => post(JSON.stringify(event(i)))),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await svc.redis.llen(svc.keys.ingestQueue)).toBe(n);
    const used = (await calls()) - before;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(n / 10);
  });
});

describe('bad input', () => {
  it('no X-API-KEY → 401 and a counted auth failure', async () => {
    const { app, counter } = makeApp();
    const res = await app.request('/ingest', { method: 'POST', body: JSON.stringify(event()) });
    expect(res.status).toBe(401);
    expect(await jsonOf(res)).toEqual({
      status: 'error',
      message: 'Unauthorized',
      correlation_id: expect.any(String),
    });
    expect(await counter('mutt_ingest_requests_total', { status: 'fail', reason: 'auth' })).toBe(1);
    expect(await svc.redis.llen(svc.keys.ingestQueue)).toBe(0);
  });

  it('a wrong X-API-KEY → 401', async () => {
    const { post, counter } = makeApp();
    const res = await post(JSON.stringify(event()), { 'X-API-KEY': 'wrong' });
    expect(res.status).toBe(401);
    expect((await jsonOf(res)).message).toBe('Unauthorized');
    expect(await counter('mutt_ingest_requests_total', { status: 'fail', reason: 'auth' })).toBe(1);
  });

  const table: [string, string, Record<string, string>, number, RegExp, string][] = [
    ['{', '{', {}, 400, /^Request body is not valid JSON: /, 'invalid_json'],
    ['null', 'null', {}, 400, /got null/, 'invalid_body'],
    ['[1,2]', '[1,2]', {}, 400, /^No valid event in the batch of 2$/, 'invalid_event'],
    [
      'a text/plain body',
      'router1: link down',
      { 'Content-Type': 'text/plain' },
      400,
      /not valid JSON/,
      'invalid_json',
    ],
    ['an empty body', '', {}, 400, /^Request body is empty$/, 'empty_body'],
    [
      'missing hostname',
      JSON.stringify({ message: 'm', timestamp: 't' }),
      {},
      400,
      /^Missing or empty required field\(s\): hostname$/,
      'invalid_event',
    ],
    [
      'empty message',
      JSON.stringify({ ...event(), message: '' }),
      {},
      400,
      /^Missing or empty required field\(s\): message$/,
      'invalid_event',
    ],
    [
      'missing timestamp',
      JSON.stringify({ hostname: 'h', message: 'm' }),
      {},
      400,
      /^Missing or empty required field\(s\): timestamp$/,
      'invalid_event',
    ],
    [
      'all three missing',
      JSON.stringify({ foo: 1 }),
      {},
      400,
      /^Missing or empty required field\(s\): timestamp, message, hostname$/,
      'invalid_event',
    ],
    [
      'a bad severity',
      JSON.stringify({ ...event(), syslog_severity: 'loud' }),
      {},
      400,
      /^syslog_severity: expected/,
      'invalid_event',
    ],
  ];
  for (const [name, body, headers, status, message, reason] of table) {
    it(`${name} → ${status} naming the problem`, async () => {
      const { post, counter } = makeApp();
      const res = await post(body, headers);
      expect(res.status).toBe(status);
      const json = await jsonOf(res);
      expect(json.status).toBe('error');
      expect(json.message).toMatch(message);
      expect(json.correlation_id).toEqual(expect.any(String));
      expect(await counter('mutt_ingest_requests_total', { status: 'fail', reason })).toBe(1);
      expect(await svc.redis.llen(svc.keys.ingestQueue)).toBe(0);
    });
  }

  it('a 2 MiB body → 413 (declared length)', async () => {
    const { post, counter } = makeApp();
    const big = JSON.stringify({ ...event(), message: 'x'.repeat(2 * 1024 * 1024) });
    const res = await post(big, { 'Content-Length': String(Buffer.byteLength(big)) });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(await jsonOf(res)).toMatchObject({
      status: 'error',
      message: 'Request body larger than 1048576 bytes',
      limit_bytes: 1048576,
    });
    expect(await counter('mutt_ingest_requests_total', { status: 'fail', reason: 'too_large' })).toBe(1);
  });

  it('a 2 MiB chunked body → 413, read no further than the limit', async () => {
    const { app, key } = makeApp();
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        if (pulled > 2 * 1024 * 1024) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await app.request('/ingest', {
      method: 'POST',
      body: stream,
      headers: { 'X-API-KEY': key, 'Transfer-Encoding': 'chunked' },
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(1024 * 1024 + 3 * 64 * 1024);
  });

  it('the ingest queue at its cap → 503 with Retry-After, queue_depth and queue_limit', async () => {
    const { app, post, counter } = makeApp({ MAX_INGEST_QUEUE_SIZE: '3' });
    for (let i = 0; i < 3; i++) expect((await post(JSON.stringify(event(i)))).status).toBe(200);
    const res = await post(JSON.stringify(event(4)));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await jsonOf(res)).toEqual({
      status: 'error',
      message: 'Ingest queue full',
      correlation_id: expect.any(String),
      queue_depth: 3,
      queue_limit: 3,
    });
    expect(await counter('mutt_ingest_requests_total', { status: 'fail', reason: 'queue_full' })).toBe(1);
    expect(await svc.redis.llen(svc.keys.ingestQueue)).toBe(3);
    // The cap is exported beside the depth, so an alert can say "near its cap" on any node.
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/^mutt_ingest_queue_depth 3$/m);
    expect(text).toMatch(/^mutt_ingest_queue_limit 3$/m);
  });

  it('GET /ingest → 405 with Allow: POST; unknown paths → 404', async () => {
    const { app } = makeApp();
    const res = await app.request('/ingest');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    const nf = await app.request('/nope', { method: 'POST' });
    expect(nf.status).toBe(404);
    expect(await jsonOf(nf)).toEqual({ status: 'error', message: 'Not found: POST /nope' });
  });
});

describe('shared request rate limit', () => {
  it('answers 429 with retry_after beyond INGEST_RATE_LIMIT per window, in the shared zset', async () => {
    await svc.redis.del(svc.keys.ingestRateLimit);
    const { post, counter } = makeApp({ INGEST_RATE_LIMIT: '3', INGEST_RATE_WINDOW: '60' });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(JSON.stringify(event(i)))).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const res = await post(JSON.stringify(event()));
    expect(res.status).toBe(429);
    const body = await jsonOf(res);
    expect(body).toMatchObject({
      status: 'error',
      message: 'Rate limit exceeded',
      retry_after: expect.any(Number),
    });
    expect(body.retry_after).toBeGreaterThanOrEqual(1);
    expect(body.retry_after).toBeLessThanOrEqual(60);
    expect(res.headers.get('retry-after')).toBe(String(body.retry_after));
    expect(await svc.redis.zcard(svc.keys.ingestRateLimit)).toBe(3);
    // Scores are epoch seconds, as Python ingestors write them.
    const [, score] = await svc.redis.zrange(svc.keys.ingestRateLimit, '0', '0', 'WITHSCORES');
    expect(Math.abs(Number(score) - Date.now() / 1000)).toBeLessThan(60);
    expect(await counter('mutt_ingest_requests_total', { status: 'fail', reason: 'rate_limit' })).toBe(3);
  });
});

describe('GET /metrics', () => {
  it('exposes the mutt_ingest_* metrics', async () => {
    const { app, post } = makeApp();
    await post(JSON.stringify(event()));
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/^mutt_ingest_requests_total\{status="success",reason=""\} 1$/m);
    expect(text).toMatch(/^mutt_ingest_queue_depth 1$/m);
    expect(text).toMatch(/^mutt_ingest_latency_seconds_count 1$/m);
  });
});
