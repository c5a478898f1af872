// The shared Moogsoft rate limit (PROTOCOL.md, rate-limit-sliding-1.lua): two MUTT processes on one
// Redis hold 50 requests/s together, within ±10 % over 10 s, as measured where it matters — at the
// (mock) Moogsoft — while neither drops an alert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonAlert } from './fixtures/alerts.ts';
import { census, metric, pushAlerts, scenario, until } from './harness/forwarding.ts';
import { MockMoogsoft } from './harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices({ database: false });
  mock = await MockMoogsoft.start({ keepEvents: false });
});
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await mock.close();
  await svc.cleanup();
});

describe('shared rate limit', () => {
  it('two processes hold 50 requests/s together within ±10 % over 10 s, dropping nothing', async () => {
    const s = await scenario(svc, {
      MOOG_WEBHOOK_URL: mock.url,
      MOOG_RATE_LIMIT: '50',
      MOOG_RATE_PERIOD: '1',
      MOOG_BATCH_SIZE: '2',
      MOOG_MAX_IN_FLIGHT: '8',
    });
    const ports = [s.port, await freePort()];
    for (const [i, port] of ports.entries()) {
      // Two nodes: each its own name.
      const p = startMutt({ ...s.env, SERVER_PORT_INGESTOR: String(port), POD_NAME: `node-${i}` });
      procs.push(p);
      await p.running();
    }
    // 14 s of work at 50 requests/s × 2 alerts: the queue never runs dry during the measurement.
    const total = 1400;
    await pushAlerts(
      svc.redis,
      s.keys,
      Array.from({ length: total }, (_, i) => pythonAlert(i)),
    );
    await mock.until(() => mock.posts().length > 0, 20_000, 'first request');
    const t0 = mock.posts()[0]!.at + 2000; // after the start-up burst
    await mock.until(() => Date.now() > t0 + 10_500, 20_000, 'the measurement window');
    const inWindow = mock.posts().filter((r) => r.at >= t0 && r.at < t0 + 10_000).length;
    expect(inWindow).toBeGreaterThanOrEqual(450);
    expect(inWindow).toBeLessThanOrEqual(550);
    // Both processes took part, and both had to wait for slots.
    for (const port of ports) {
      expect(await metric(port, 'mutt_moog_requests_total', 'status="success",reason=""')).toBeGreaterThan(
        50,
      );
      expect(await metric(port, 'mutt_moog_rate_limit_hits_total')).toBeGreaterThan(0);
    }
    await mock.until(() => mock.uniqueAcceptedIds().size === total, 30_000, 'every alert delivered');
    await until(async () => (await census(svc.redis, s.keys)).inHand === 0, 10_000, 'processing lists empty');
    expect(await census(svc.redis, s.keys)).toEqual({ queue: 0, dlq: 0, dead: 0, inHand: 0 });
    expect(mock.duplicates()).toBe(0);
  });
});
