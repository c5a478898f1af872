// Redis stopped while requests arrive: every request gets a prompt 503, nothing crashes, and ingest
// recovers by itself when Redis returns.
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../src/core/protocol/keys.ts';
import { withScripts } from '../src/core/protocol/scripts.ts';
import { createIngest } from '../src/listeners/webhook/index.ts';
import { renderMetrics } from '../src/runtime/metrics.ts';
import { createRedis, whenReady } from '../src/runtime/redis.ts';
import { type RedisServerHandle, startRedisServer } from '../src/runtime/services/redis-server.ts';
import { freePort } from './harness/ports.ts';
import { jsonOf, quietLog, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let server: RedisServerHandle | undefined;
let port: number;
const start = async () => {
  server = await startRedisServer({
    binary: svc.services.redisServerBinary,
    dir: join(svc.tmp, 'redis'),
    port,
    persistence: 'aof',
    log: quietLog(),
  });
};

beforeAll(async () => {
  svc = await useServices({ database: false });
  port = await freePort();
  await start();
});
afterAll(async () => {
  await server?.stop();
  await svc.cleanup();
});

describe('Redis outage during ingest', () => {
  it('answers 503 per request while Redis is down and recovers when it returns', async () => {
    const config = svc.config({ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port) });
    const redis = withScripts(
      createRedis(
        config,
        { kind: 'tcp', host: '127.0.0.1', port },
        { name: 'test', log: quietLog(), failFast: true },
      ),
    );
    await whenReady(redis);
    const keys = new Keys(config);
    const registry = new Registry();
    const { app } = createIngest({
      config,
      redis,
      keys,
      registry,
      log: quietLog(),
      health: async () => ({ status: 'healthy' }),
      metricsText: () => renderMetrics(registry),
    });
    const post = () =>
      app.request('/ingest', {
        method: 'POST',
        headers: { 'X-API-KEY': config.INGEST_API_KEY! },
        body: JSON.stringify({ hostname: 'h', message: 'm', timestamp: 't' }),
      });

    expect((await post()).status).toBe(200);

    await server!.stop();
    const started = Date.now();
    const during = await Promise.all(Array.from({ length: 50 }, async () => post()));
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const res of during) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await jsonOf(res)).toMatchObject({ status: 'error', message: 'Redis unavailable' });
    }
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/^mutt_ingest_requests_total\{status="fail",reason="redis_unavailable"\} 50$/m);

    await start();
    await whenReady(redis);
    const after = await post();
    expect(after.status).toBe(200);
    // The event accepted before the outage survived it (AOF) and the new one joined it.
    expect(await redis.llen(keys.ingestQueue)).toBe(2);
    redis.disconnect();
  });
});
