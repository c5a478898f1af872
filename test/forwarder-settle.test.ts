// How the forwarder settles a request against a private Redis whose command counts only it moves: a
// request that is the oldest in hand is settled whole (settle-4.lua: no alert sent back to Redis, no
// LREM); requests that finish out of order fall back to removing their alerts one by one. Either
// way every alert is delivered once and nothing stays in hand.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../src/core/protocol/keys.ts';
import { loadConfigOrThrow } from '../src/runtime/config/load.ts';
import { type RedisServerHandle, startRedisServer } from '../src/runtime/services/redis-server.ts';
import { muttAlert } from './fixtures/alerts.ts';
import { pushAlerts } from './harness/forwarding.ts';
import { MockMoogsoft, ok } from './harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let server: RedisServerHandle;
let redis: Redis;
let mock: MockMoogsoft;
beforeAll(async () => {
  svc = await useServices({ database: false });
  server = await startRedisServer({
    binary: svc.services.redisServerBinary,
    dir: join(svc.tmp, 'redis'),
    port: await freePort(),
    persistence: 'none',
    log: quietLog(),
  });
  redis = new Redis({ host: '127.0.0.1', port: server.port });
  mock = await MockMoogsoft.start();
});
afterAll(async () => {
  redis.disconnect();
  await mock.close();
  await server.stop();
  await svc.cleanup();
});

async function calls(command: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

async function run(env: Record<string, string>, n: number): Promise<{ lrem: number; ltrim: number }> {
  const config = loadConfigOrThrow(
    { ...svc.env, REDIS_PORT: String(server.port), ...env },
    { defaultEnvFile: '/dev/null' },
  );
  const keys = new Keys(config);
  const port = await freePort();
  let p: MuttProcess | undefined;
  mock.clear();
  await redis.config('RESETSTAT');
  try {
    p = startMutt({
      ...svc.env,
      REDIS_PORT: String(server.port),
      MUTT_ROLES: 'forwarder',
      SERVER_PORT_INGESTOR: String(port),
      MOOG_WEBHOOK_URL: mock.url,
      MOOG_AUTH_MODE: 'none',
      MOOG_RATE_LIMIT: '100000',
      MOOG_BATCH_LINGER_MS: '0',
      POD_NAME: 'settle-test',
      ...env,
    });
    await p.running();
    await p.waitForMessage('forwarder started');
    await pushAlerts(
      redis,
      keys,
      Array.from({ length: n }, (_, i) => muttAlert(i)),
    );
    await mock.until(() => mock.uniqueAcceptedIds().size === n, 30_000, 'every alert delivered');
    expect(mock.duplicates()).toBe(0);
    const end = Date.now() + 10_000;
    while ((await redis.llen(keys.moogProcessing('settle-test-0'))) > 0 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50));
    expect(await redis.llen(keys.moogProcessing('settle-test-0'))).toBe(0);
    return { lrem: await calls('lrem'), ltrim: (await calls('ltrim')) + (await calls('del')) };
  } finally {
    await p?.stop();
  }
}

describe('forwarder settles', () => {
  it('a request that is the oldest in hand whole, without sending its alerts back', async () => {
    const r = await run({ MOOG_MAX_IN_FLIGHT: '1', MUTT_KEY_PREFIX: `${svc.prefix}-one` }, 1000);
    expect(r.lrem).toBe(0);
    expect(r.ltrim).toBeGreaterThan(0);
  });

  it('requests that finish out of order alert by alert, losing and repeating nothing', async () => {
    // Answers in reverse order of arrival: the oldest request in hand finishes last.
    let n = 0;
    mock.respond(() => ok(200, { delayMs: Math.max(0, 200 - 40 * (n++ % 4)) }));
    try {
      const r = await run(
        { MOOG_MAX_IN_FLIGHT: '4', MOOG_BATCH_SIZE: '50', MUTT_KEY_PREFIX: `${svc.prefix}-ooo` },
        1000,
      );
      expect(r.lrem).toBeGreaterThan(0);
    } finally {
      mock.respond(ok());
    }
  });
});
