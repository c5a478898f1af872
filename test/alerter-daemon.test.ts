// The alerter in the real daemon (`mutt serve`, MUTT_ROLES=alerter, two worker threads): killed with
// SIGKILL in the middle of 50,000 events and restarted, every event ends audited or in the DLQ, with
// duplicates bounded by the batches in hand; SIGTERM drains; SIGHUP reloads; metrics from both workers
// are merged into one /metrics.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../src/core/protocol/keys.ts';
import { loadConfigOrThrow } from '../src/runtime/config/load.ts';
import { addRule, census, event, pushEvents, resetTables, until } from './harness/alerting.ts';
import { metric } from './harness/forwarding.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices();
});
afterEach(async () => {
  for (const p of procs.splice(0))
    if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
});
afterAll(async () => {
  await svc.cleanup();
});

async function scenario(extra: Record<string, string> = {}) {
  const prefix = `${svc.prefix}:${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const env = {
    ...svc.env,
    MUTT_KEY_PREFIX: prefix,
    SERVER_PORT_INGESTOR: String(port),
    MUTT_ROLES: 'alerter',
    ALERTER_WORKERS: '2',
    BRPOPLPUSH_TIMEOUT: '1',
    ALERTER_HEARTBEAT_INTERVAL: '1',
    ALERTER_JANITOR_TIMEOUT: '3',
    ALERTER_QUEUE_SHED_THRESHOLD: '10000000',
    ALERTER_QUEUE_WARN_THRESHOLD: '10000000',
    ...extra,
  };
  return { env, port, keys: new Keys(loadConfigOrThrow(env, { defaultEnvFile: '/dev/null' })) };
}
const start = async (env: Record<string, string>) => {
  const p = startMutt(env);
  procs.push(p);
  await p.running();
  await p.waitForMessage('alerter started');
  return p;
};
const audited = async () =>
  Number((await svc.pool.query('SELECT count(*) AS n FROM event_audit_log')).rows[0].n);

describe('alerter daemon', () => {
  it(
    'SIGKILL in the middle of 50,000 events, restart: every event audited or dead-lettered, duplicates bounded',
    { timeout: 300_000 },
    async () => {
      await resetTables(svc.pool);
      await addRule(svc.pool, { match_string: 'down', prod_handling: 'Page_and_ticket' });
      await addRule(svc.pool, { match_string: 'up', prod_handling: 'Ignore' });
      const s = await scenario();
      const n = 50_000;
      const bad = 100;
      const evs: (Record<string, unknown> | string)[] = [];
      for (let i = 0; i < n; i++) {
        if (i % (n / bad) === 7) evs.push(`{"hostname":"broken-${i}",`);
        else
          evs.push(
            event({ message: i % 3 ? `Gi0/${i % 48} down` : `Gi0/${i % 48} up`, _correlation_id: `k-${i}` }),
          );
      }
      await pushEvents(svc.redis, s.keys, evs);
      const first = await start(s.env);
      // Killed with batches in hand, after at least 10,000 events were audited.
      await until(
        async () => (await audited()) >= 10_000 && (await census(svc.redis, s.keys)).inHand > 0,
        120_000,
        '10,000 audited and a batch in hand',
      );
      first.kill('SIGKILL');
      await first.exited();
      const before = await census(svc.redis, s.keys);
      // The restarted node keeps its name: its workers take back their own processing lists at once.
      const second = await start(s.env);
      await second.waitForMessage(
        "took over this node's name from its previous process, which is gone: its unfinished work is taken back now",
      );
      await until(
        async () => {
          const c = await census(svc.redis, s.keys);
          return c.queue === 0 && c.inHand === 0;
        },
        180_000,
        'everything processed',
      );
      // No janitor was needed for them.
      expect(
        second.lines.some(
          (l) => l.msg === 'returned the events of an alerter whose heartbeat stopped to the ingest queue',
        ),
      ).toBe(false);
      const rows = (
        await svc.pool.query<{ cid: string }>(
          "SELECT raw_message::json->>'_correlation_id' AS cid FROM event_audit_log",
        )
      ).rows;
      const ids = new Set(rows.map((r) => r.cid));
      const c = await census(svc.redis, s.keys);
      expect(ids.size + c.dlq).toBe(n);
      expect(c.dlq).toBe(bad);
      const duplicates = rows.length - ids.size;
      // At most the batches the two workers had audited but not settled when killed: two each
      // (a worker audits two batches at once), 2 × 2 × ALERTER_BATCH_SIZE.
      expect(duplicates).toBeLessThanOrEqual(2 * 2 * 500);
      const alerts = (await svc.redis.lrange(s.keys.alertQueue, 0, -1)).map(
        (x) => JSON.parse(x)._correlation_id as string,
      );
      const expectedForwarded = evs.filter(
        (e) => typeof e !== 'string' && String(e.message).endsWith('down'),
      ).length;
      expect(new Set(alerts).size).toBe(expectedForwarded);
      // Both workers' counters are merged into the one /metrics.
      expect(await metric(s.port, 'mutt_alerter_events_processed_total', 'status="handled"')).toBeGreaterThan(
        0,
      );
      expect(await metric(s.port, 'mutt_alerter_cache_rules_count')).toBe(2);
      console.log(`SIGKILL test: ${before.inHand} in hand when killed, ${duplicates} duplicate audit rows`);

      // SIGTERM: drains, returns nothing left in hand, removes the heartbeats, exits 0.
      second.kill('SIGTERM');
      expect((await second.exited()).code).toBe(0);
      expect((await census(svc.redis, s.keys)).inHand).toBe(0);
      expect(await svc.redis.keys(`${s.keys.prefix}:heartbeat:alerter:*`)).toEqual([]);
    },
  );

  it('SIGHUP reloads the rules in every worker', { timeout: 120_000 }, async () => {
    await resetTables(svc.pool);
    await addRule(svc.pool, { match_string: 'down' });
    const s = await scenario({ CACHE_RELOAD_INTERVAL: '3600' });
    const p = await start(s.env);
    const loaded = () => p.lines.filter((l) => l.msg === 'rules loaded').length;
    const initial = loaded();
    p.kill('SIGHUP');
    await until(
      () => p.lines.filter((l) => l.msg === 'SIGHUP: reloading the rules').length === 2,
      20_000,
      'both workers got SIGHUP',
    );
    await until(() => loaded() >= initial + 2, 20_000, 'both workers reloaded');
    await p.stop();
  });
});
