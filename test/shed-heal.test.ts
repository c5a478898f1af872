// ALERTER_SHED_MODE=dlq, chosen by an operator: what the alerter sheds under backpressure heals by
// itself. Remediation replays the shed events into the ingest queue once the alert and ingest queues
// are below the low-water mark, at a pace that cannot make the alerter shed again; poison stays in
// the DLQ with its reason. `mutt dlq replay --queue alerter` follows the same low-water mark, waiting
// while the queues are above it. Every event is counted by its id.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addRule, event, pushEvents, resetTables } from './harness/alerting.ts';
import { metric, scenario, until } from './harness/forwarding.ts';
import { fail, MockMoogsoft, ok } from './harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices();
  mock = await MockMoogsoft.start();
});
beforeEach(async () => {
  await resetTables(svc.pool);
  await addRule(svc.pool, { match_string: 'down', prod_handling: 'Page_and_ticket' });
});
afterEach(async () => {
  for (const p of procs.splice(0))
    if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
  mock.respond(ok());
  mock.clear();
});
afterAll(async () => {
  await mock.close();
  await svc.cleanup();
});

const start = async (env: Record<string, string>, ready: string) => {
  const p = startMutt(env);
  procs.push(p);
  await p.running();
  await p.waitForMessage(ready);
  return p;
};
const auditedIds = async () =>
  (
    await svc.pool.query<{ id: string }>(
      "SELECT raw_message::json->>'_correlation_id' AS id FROM event_audit_log",
    )
  ).rows.map((r) => r.id);
const dlqItems = async (key: string) =>
  (await svc.redis.lrange(key, 0, -1)).map((s) => JSON.parse(s) as Record<string, unknown>);
const events = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) =>
    event({ message: `Gi0/${i % 48} down`, _correlation_id: `${tag}-${i}` }),
  );

describe('shed events heal by themselves (ALERTER_SHED_MODE=dlq)', () => {
  it('remediation replays shed events once Moogsoft drains the alert queue; nothing shed twice, poison stays', async () => {
    const s = await scenario(svc, {
      MUTT_ROLES: 'alerter,forwarder,remediation',
      MOOG_WEBHOOK_URL: mock.url,
      ALERTER_SHED_MODE: 'dlq',
      ALERTER_QUEUE_SHED_THRESHOLD: '40',
      ALERTER_QUEUE_WARN_THRESHOLD: '40',
      ALERTER_BATCH_SIZE: '10',
      ALERTER_HEARTBEAT_INTERVAL: '1',
      ALERTER_JANITOR_TIMEOUT: '3',
      MOOG_BATCH_SIZE: '10',
      REMEDIATION_INTERVAL: '3600',
    });
    mock.respond(fail(503));
    const p = await start(s.env, 'alerter started');
    const input = events(300, 'heal');
    await pushEvents(svc.redis, s.keys, [...input, 'not json at all']);
    // Moogsoft down: the alert queue fills past the threshold and the alerter sheds the rest.
    await until(
      async () =>
        (await svc.redis.llen(s.keys.ingestQueue)) === 0 && (await svc.redis.llen(s.keys.alerterDlq)) > 100,
      30_000,
      'events shed',
    );
    const shed = await metric(s.port, 'mutt_alerter_shed_events_total', 'mode="dlq"');
    expect(shed).toBeGreaterThan(100);
    // While the alert queue stays above the low-water mark (20), nothing is replayed.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await metric(s.port, 'mutt_remediation_shed_replayed_total')).toBe(0);
    await p.waitForMessage(
      'shed events wait in the alerter DLQ until the alert and ingest queues are below the low-water mark',
    );

    mock.respond(ok());
    await mock.until(() => mock.uniqueAcceptedIds().size === 300, 60_000, 'every event delivered');
    expect([...mock.uniqueAcceptedIds()].sort()).toEqual(input.map((e) => e._correlation_id).sort());
    const audited = await auditedIds();
    expect(new Set(audited).size).toBe(300);
    expect(audited).toHaveLength(300);
    // Healed without a human: replayed exactly what was shed, and nothing was shed a second time.
    expect(await metric(s.port, 'mutt_remediation_shed_replayed_total')).toBe(shed);
    expect(await metric(s.port, 'mutt_alerter_shed_events_total', 'mode="dlq"')).toBe(shed);
    await p.waitForMessage('replayed the shed events from the alerter DLQ to the ingest queue');
    // The poison item stays, with its own reason, for an operator.
    expect(await dlqItems(s.keys.alerterDlq)).toEqual([
      expect.objectContaining({ _raw: 'not json at all', _dlq_code: 'invalid_json' }),
    ]);
    expect(mock.duplicates()).toBe(0);
  });

  it('mutt dlq replay --queue alerter waits for the low-water mark, then replays in steps below it', async () => {
    const s = await scenario(svc, {
      MUTT_ROLES: 'alerter',
      ALERTER_SHED_MODE: 'dlq',
      ALERTER_QUEUE_SHED_THRESHOLD: '20',
      ALERTER_QUEUE_WARN_THRESHOLD: '20',
      ALERTER_BATCH_SIZE: '10',
    });
    // The forwarder is behind: 25 alerts wait, above the threshold.
    await svc.redis.lpush(s.keys.alertQueue, ...Array.from({ length: 25 }, (_, i) => `{"placeholder":${i}}`));
    await start(s.env, 'alerter started');
    const input = events(40, 'cli');
    await pushEvents(svc.redis, s.keys, input);
    await until(async () => (await svc.redis.llen(s.keys.alerterDlq)) === 40, 20_000, 'all 40 shed');

    // --no-wait: nothing fits below the low-water mark (10) now, so nothing moves.
    const { runMutt } = await import('./harness/mutt-process.ts');
    const now = runMutt(['dlq', 'replay', '--queue', 'alerter', '--no-wait'], s.env);
    expect(now.status).toBe(0);
    expect(now.stdout).toContain('replayed 0 item(s)');
    expect(now.stdout).toContain(
      '40 item(s) wait: the alert and ingest queues are above the low-water mark (10, half of alerter_queue_shed_threshold)',
    );
    expect(await svc.redis.llen(s.keys.alerterDlq)).toBe(40);

    // The waiting replay: it moves nothing while the queues are above the mark…
    const cli = startMutt(s.env, ['dlq', 'replay', '--queue', 'alerter']);
    procs.push(cli);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await svc.redis.llen(s.keys.alerterDlq)).toBe(40);
    expect(cli.stderr.join('')).toMatch(
      /waiting: 40 item\(s\) wait for the alert and ingest queues to fall below the low-water mark \(10\); 0 replayed so far/,
    );
    // …then the forwarder catches up (here: the test takes the alerts), and the replay proceeds in steps.
    // Once the backlog is below the mark, the replay keeps the two queues together at or below it,
    // plus the events the alerter holds in hand (two batches of 10), which it counts in neither.
    let belowMark = false;
    let maxSeen = 0;
    const alerts: string[] = [];
    const drainer = setInterval(() => {
      void (async () => {
        const [a, i] = await Promise.all([
          svc.redis.llen(s.keys.alertQueue),
          svc.redis.llen(s.keys.ingestQueue),
        ]);
        if (a + i <= 10) belowMark = true;
        if (belowMark) maxSeen = Math.max(maxSeen, a + i);
        const taken = await svc.redis.lpop(s.keys.alertQueue, 3);
        if (taken) alerts.push(...taken);
      })();
    }, 100);
    try {
      expect((await cli.exited(60_000)).code).toBe(0);
      await until(async () => (await auditedIds()).length === 40, 20_000, 'all replayed events audited');
    } finally {
      clearInterval(drainer);
    }
    expect(new Set(await auditedIds())).toEqual(new Set(input.map((e) => e._correlation_id)));
    expect(await svc.redis.llen(s.keys.alerterDlq)).toBe(0);
    // Nothing was shed twice: the shed counter still says 40.
    expect(await metric(s.port, 'mutt_alerter_shed_events_total', 'mode="dlq"')).toBe(40);
    expect(belowMark).toBe(true);
    expect(maxSeen).toBeLessThanOrEqual(10 + 2 * 10);
  });
});
