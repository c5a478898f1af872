// Backpressure flows back from Moogsoft to the sender, with nothing dead-lettered on the way (the
// default ALERTER_SHED_MODE=defer): Moogsoft down → the alert queue fills to the shed threshold → the
// alerter defers → the ingest queue fills to MAX_INGEST_QUEUE_SIZE → only then HTTP answers 503 with
// Retry-After. Moogsoft back → everything drains, and the events a client sent again after its 503
// are delivered too. Small thresholds, the real daemon, every event counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRule, resetTables } from './harness/alerting.ts';
import { scenario, until } from './harness/forwarding.ts';
import { fail, MockMoogsoft, ok } from './harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
let p: MuttProcess | undefined;
beforeAll(async () => {
  svc = await useServices();
  mock = await MockMoogsoft.start();
});
afterAll(async () => {
  await p?.stop();
  await mock.close();
  await svc.cleanup();
});

describe('backpressure chain (defer, the default)', () => {
  it('Moogsoft down: alert queue at the threshold, then the ingest queue at its cap, then 503 — never a DLQ', async () => {
    await resetTables(svc.pool);
    await addRule(svc.pool, { match_string: 'down', prod_handling: 'Page_and_ticket' });
    const s = await scenario(svc, {
      MUTT_ROLES: 'listeners,alerter,forwarder,remediation',
      MOOG_WEBHOOK_URL: mock.url,
      ALERTER_BATCH_SIZE: '50',
      ALERTER_QUEUE_SHED_THRESHOLD: '200',
      ALERTER_QUEUE_WARN_THRESHOLD: '100',
      MAX_INGEST_QUEUE_SIZE: '300',
    });
    mock.respond(fail(503));
    p = startMutt(s.env);
    await p.running();
    await p.waitForMessage('alerter started');
    const url = `http://127.0.0.1:${s.port}/ingest`;
    const post = (i: number) =>
      fetch(url, {
        method: 'POST',
        headers: { 'X-API-KEY': s.env.INGEST_API_KEY!, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          hostname: 'edge1',
          message: `Gi0/1 down #${i}`,
          timestamp: new Date().toISOString(),
        }),
      });
    const accepted: number[] = [];
    const refused: number[] = [];
    let first503: Record<string, unknown> | undefined;
    // Until the chain is full: 503s, the last answer a 503, and the alert queue past the threshold.
    // (On a loaded machine the first audit commit can be slow, so the ingest queue may reach its cap
    // before the alerter has filled the alert queue; the client keeps sending, as a real one would.)
    const deadline = Date.now() + 60_000;
    for (let i = 0; ; i++) {
      const r = await post(i);
      if (r.status === 200) accepted.push(i);
      else if (r.status === 503) {
        refused.push(i);
        first503 ??= { retryAfter: r.headers.get('retry-after'), ...((await r.json()) as object) };
      } else throw new Error(`unexpected ${r.status}`);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 100)); // let the alerter fill its queue
      if (refused.length >= 20 && r.status === 503 && (await svc.redis.llen(s.keys.alertQueue)) > 200) break;
      if (Date.now() > deadline)
        throw new Error(
          `the chain did not fill in 60 s: ${accepted.length} accepted, ${refused.length} refused, alert queue ${await svc.redis.llen(s.keys.alertQueue)}`,
        );
      if (r.status === 503) await new Promise((r) => setTimeout(r, 20));
    }
    // Turned away only once the ingest queue was at its cap, the alerter deferring behind a full alert queue.
    expect(first503).toMatchObject({ retryAfter: '5', queue_limit: 300 });
    expect(await svc.redis.llen(s.keys.ingestQueue)).toBe(300);
    const alertQueue = await svc.redis.llen(s.keys.alertQueue);
    expect(alertQueue).toBeGreaterThan(200);
    // Past the threshold by at most the batches the worker had in hand when it crossed it: two
    // being audited and one decided (3 × ALERTER_BATCH_SIZE).
    expect(alertQueue).toBeLessThanOrEqual(200 + 3 * 50);
    await p.waitForMessage('alert queue above the shed threshold: deferring');
    for (const key of [s.keys.alerterDlq, s.keys.moogDlq, s.keys.deadLetter])
      expect(await svc.redis.llen(key)).toBe(0);

    // Moogsoft is back: everything drains; the client sends the refused events again and they go through.
    mock.respond(ok());
    for (const i of refused) {
      for (;;) {
        const r = await post(i);
        if (r.status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const all = [...accepted, ...refused];
    await mock.until(() => mock.acceptedEvents().length >= all.length, 60_000, 'every event delivered');
    const delivered = new Set(mock.acceptedEvents().map((e) => /#(\d+)$/.exec(String(e.description))![1]));
    expect([...delivered].map(Number).sort((a, b) => a - b)).toEqual(all.sort((a, b) => a - b));
    await until(async () => (await svc.redis.llen(s.keys.ingestQueue)) === 0, 10_000, 'queues empty');
    for (const key of [s.keys.alerterDlq, s.keys.moogDlq, s.keys.deadLetter])
      expect(await svc.redis.llen(key)).toBe(0);
  });
});
