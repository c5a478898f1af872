// The admin API's SLO report and event trace (GET /api/v1/slo, /api/v2/slo, /api/v{1,2}/trace/<id>)
// in process against the harness's real Redis and PostgreSQL: the MUTT 2.5 shape, which source
// answered, a Prometheus that fails answered from MUTT's counters (never a 500), and the trace's
// 200 / 404 / 400, behind the API key.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MoogJournal } from '../src/core/journal.ts';
import { Keys } from '../src/core/protocol/keys.ts';
import { createWebApp, type WebApp } from '../src/web/app.ts';
import { freePort } from './harness/ports.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';

const KEY = 'slo-trace-key-0123456789';
let svc: TestServices;
let registry = new Registry();

/** A fresh app (and registry, in `registry`). */
function app(extra: Record<string, string> = {}): WebApp {
  const config = svc.config(extra);
  registry = new Registry();
  return createWebApp({
    ctx: { config, keys: new Keys(config), redis: svc.redis, pool: svc.pool, log: quietLog() },
    apiKey: KEY,
    registry,
    log: quietLog(),
    health: async () => ({ status: 'healthy' }),
    metricsText: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  });
}
const get = (a: WebApp, path: string, key: string | null = KEY) =>
  a.request(path, { headers: key ? { 'X-API-KEY': key } : {} });

beforeAll(async () => {
  svc = await useServices();
  await svc.redis.hset(svc.keys.sloHour(new Date().toISOString().slice(0, 13)), {
    'ingestor:good': 999,
    'ingestor:bad': 1,
    'forwarder:good': 50,
    'forwarder:bad': 0,
  });
});
afterAll(async () => svc.cleanup());

describe('GET /api/v1/slo and /api/v2/slo', () => {
  it("answers MUTT 2.5's shape from MUTT's counters without PROMETHEUS_URL", async () => {
    const a = app();
    for (const v of ['v1', 'v2']) {
      const res = await get(a, `/api/${v}/slo`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        window_hours: 24,
        source: 'mutt_counters',
        components: {
          ingestor: {
            target: 0.995,
            availability: 0.999,
            error_budget_remaining: 0.8,
            burn_rate: 0.2,
            state: 'ok',
            window_hours: 24,
          },
          forwarder: { target: 0.99, availability: 1, state: 'ok' },
        },
      });
    }
    expect((await get(a, '/api/v2/slo', null)).status).toBe(401);
  });

  it('PROMETHEUS_URL unreachable → 200 from the counters, saying so, and counted', async () => {
    const a = app({ PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` });
    const res = await get(a, '/api/v2/slo');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { source: string; warning: string };
    expect(body.source).toBe('mutt_counters');
    expect(body.warning).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:\d+\/? failed \(unreachable/);
    expect(await registry.metrics()).toMatch(
      /^mutt_slo_prometheus_failures_total\{reason="unreachable"\} 1$/m,
    );
  });
});

describe('GET /api/v{1,2}/trace/<correlation-id>', () => {
  it('200 with the steps, 404 when nothing is found, 400 for an id that cannot be one', async () => {
    const a = app();
    const cid = randomUUID();
    new MoogJournal({
      redis: svc.redis,
      key: svc.keys.moogJournal,
      pod: 'n1-0',
      maxEntries: 100,
      log: quietLog(),
    }).record({
      sink: 'moogsoft',
      ids: [cid],
      outcomes: ['delivered'],
      reason: 'ok',
      status: 202,
      latencyMs: 4,
    });
    await svc.redis.ping();
    const found = await get(a, `/api/v2/trace/${cid}`);
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({
      correlation_id: cid,
      found: true,
      steps: [{ stage: 'moogsoft', summary: 'Moogsoft request n1-0-1 (1 alert) → HTTP 202: delivered' }],
    });
    const missing = await get(a, `/api/v1/trace/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ found: false, steps: [] });
    const bad = await get(a, `/api/v2/trace/${encodeURIComponent('a b')}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(
      /is not a correlation id: expected 1 to 128 characters/,
    );
    const hours = await get(a, `/api/v2/trace/${cid}?hours=soon`);
    expect(hours.status).toBe(400);
    expect((await get(a, `/api/v2/trace/${cid}`, 'wrong-key')).status).toBe(401);
  });
});
