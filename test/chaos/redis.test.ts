// Chaos: Redis killed with SIGKILL for 20 s (CI: 8 s) while devices send syslog over TCP and UDP and
// a client posts HTTP events, default settings, Redis with AOF (fsync every second) as deployed. TCP
// senders are paused (MUTT stops reading), UDP events are held in memory, HTTP gets 503 with
// Retry-After; once Redis is back, every event is audited and delivered, none dead-lettered, and
// delivery resumes within 10 s.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosRun, criteria, type Fault, KillableRedis, phase } from '../harness/chaos.ts';
import { MockMoogsoft } from '../harness/mock-moogsoft.ts';
import { type TestServices, useServices } from '../harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
let redis: KillableRedis;
beforeAll(async () => {
  svc = await useServices();
  mock = await MockMoogsoft.start();
  redis = await KillableRedis.start(svc.services.redisServerBinary, join(svc.tmp, 'chaos-redis'));
});
afterAll(async () => {
  await redis.stop();
  await mock.close();
  await svc.cleanup();
});

describe('Redis outage', () => {
  it(
    `kill -9 for ${phase(8, 20) / 1000} s under TCP and UDP syslog (250 + 250 events/s) and HTTP (50 events/s): nothing lost, none dead-lettered`,
    { timeout: phase(240, 600) },
    async () => {
      const run = await ChaosRun.start({
        name: 'redis-kill',
        svc,
        mock,
        tcp: 250,
        udp: 250,
        http: 50,
        redis: { host: '127.0.0.1', port: redis.port },
      });
      try {
        await new Promise((r) => setTimeout(r, 5000));
        const fault: Fault = {
          what: `Redis killed (SIGKILL), back after ${phase(8, 20) / 1000} s`,
          start: Date.now(),
          end: 0,
        };
        await redis.kill9();
        await new Promise((r) => setTimeout(r, phase(8, 20)));
        // The fault ends when Redis is started again (its AOF load counts against MUTT).
        fault.end = Date.now();
        await redis.restart();
        await new Promise((r) => setTimeout(r, phase(5, 10)));
        await run.stopLoad();
        await run.settle();
        const t = await run.tally({ load: 'syslog TCP 250 + UDP 250, HTTP 50 events/s', fault });
        expect(criteria(t, { transient: true })).toEqual([]);
        expect(t.http503).toBeGreaterThan(0); // HTTP clients were told to come back, not dropped
        expect(t.unconfirmed).toBe(0); // the TCP connection stayed up: MUTT paused it instead
      } finally {
        await run.close();
      }
    },
  );
});
