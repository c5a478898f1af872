// `mutt trace` and the core trace service against real Redis and PostgreSQL: an event found in each
// place MUTT keeps it (queues, audit log, delivery journal, DLQs), the journal written by a real
// forwarder through a Moogsoft outage, and every bad id as a row (exit 64 malformed, 1 not found).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInJournal, MoogJournal } from '../src/core/journal.ts';
import { traceAnswer, traceEvent } from '../src/core/trace.ts';
import { muttAlert } from './fixtures/alerts.ts';
import { pushAlerts, scenario } from './harness/forwarding.ts';
import { fail, MockMoogsoft, ok } from './harness/mock-moogsoft.ts';
import { runMutt, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let ruleId: number;
beforeAll(async () => {
  svc = await useServices();
  const r = await svc.pool.query<{ id: number }>(
    `INSERT INTO alert_rules (name, match_string, match_type, priority, prod_handling, dev_handling, team_assignment)
     VALUES ('interface down', '%LINK-3-UPDOWN', 'contains', 10, 'Page_and_ticket', 'Ignore', 'NETO') RETURNING id`,
  );
  ruleId = r.rows[0]!.id;
});
afterAll(async () => svc.cleanup());

const event = (cid: string, over: Record<string, unknown> = {}) => ({
  hostname: 'edge-rtr-07',
  timestamp: new Date().toISOString(),
  message: '%LINK-3-UPDOWN: Interface Gi0/3, changed state to down',
  syslog_severity: 3,
  source: 'syslog',
  source_ip: '192.0.2.77',
  received_at: new Date().toISOString(),
  _correlation_id: cid,
  ...over,
});

async function audit(e: Record<string, unknown>, handling = 'Page_and_ticket', forwarded = true) {
  await svc.pool.query('SELECT create_monthly_partition($1::date)', [String(e.timestamp).slice(0, 10)]);
  await svc.pool.query(
    `INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision, forwarded_to_moog, raw_message)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [e.timestamp, e.hostname, ruleId, handling, forwarded, JSON.stringify(e)],
  );
}

const journal = () =>
  new MoogJournal({
    redis: svc.redis,
    key: svc.keys.moogJournal,
    pod: 'node-a-0',
    maxEntries: 1000,
    log: svc.log,
  });
const deps = () => ({ redis: svc.redis, keys: svc.keys, pool: svc.pool });

describe('traceEvent', () => {
  it('follows a forwarded event: listener, rule and decision, every Moogsoft request and its answer', async () => {
    const cid = randomUUID();
    const other = randomUUID();
    await audit(event(cid));
    const j = journal();
    j.record({
      sink: 'moogsoft',
      ids: [other, cid],
      outcomes: ['retry', 'retry'],
      reason: 'http_503',
      status: 503,
      latencyMs: 12,
      detail: 'HTTP 503: maintenance',
    });
    j.record({
      sink: 'moogsoft',
      ids: [cid, other],
      outcomes: ['delivered', 'delivered'],
      reason: 'ok',
      status: 200,
      latencyMs: 8,
    });
    j.record({
      sink: 'moogsoft',
      ids: [other],
      outcomes: ['delivered'],
      reason: 'ok',
      status: 200,
      latencyMs: 3,
    });
    await new Promise((r) => setTimeout(r, 100)); // journal writes are fire-and-forget

    const r = await traceEvent(deps(), cid);
    expect(r.found).toBe(true);
    expect(r.steps.map((s) => s.stage)).toEqual(['received', 'alerter', 'moogsoft', 'moogsoft']);
    expect(r.steps[0]!.summary).toBe('received by the syslog listener from 192.0.2.77 for host edge-rtr-07');
    expect(r.steps[1]!.summary).toBe(
      `matched rule ${ruleId} "interface down" (contains "%LINK-3-UPDOWN", priority 10) → Page_and_ticket for team NETO; forwarded to Moogsoft`,
    );
    expect(r.steps[2]!.summary).toMatch(
      /^Moogsoft request node-a-0-1 \(2 alerts\) → HTTP 503 \(http_503\): to be retried$/,
    );
    expect(r.steps[2]!.detail).toMatchObject({ answer: 'HTTP 503: maintenance', outcome: 'retry' });
    expect(r.steps[3]!.summary).toBe('Moogsoft request node-a-0-2 (2 alerts) → HTTP 200: delivered');
    expect(r.event).toMatchObject({ hostname: 'edge-rtr-07', _correlation_id: cid });
    expect(r.notes).toEqual([]);
  });

  it('finds an event still waiting in the ingest queue, an alert held for a retry, and DLQ items', async () => {
    const waiting = randomUUID();
    await svc.redis.lpush(
      svc.keys.ingestQueue,
      JSON.stringify(event(waiting)),
      JSON.stringify(event(randomUUID())),
    );
    let r = await traceEvent(deps(), waiting);
    expect(r.steps.map((s) => s.stage)).toEqual(['received', 'waiting']);
    expect(r.steps[1]!.summary).toBe(`waiting in the ingest queue: ${svc.keys.ingestQueue} (index 1 of 2)`);
    // Its host is known from the queue: the audit log was searched by host, not over a time window.
    expect(r.notes).toEqual([]);

    const held = muttAlert(1, {
      _correlation_id: 'held-1',
      _moog_retry_count: 2,
      _moog_retry_at: Date.parse('2030-01-01T00:00:00Z'),
      _moog_last_error: 'http_503',
    });
    await svc.redis.lpush(svc.keys.moogRetry('node-b-0'), JSON.stringify(held));
    r = await traceEvent(deps(), 'held-1');
    expect(r.steps.find((s) => s.stage === 'alert')).toMatchObject({
      summary: `held by a forwarder for a retry: ${svc.keys.moogRetry('node-b-0')} (index 0 of 1), next attempt 2030-01-01T00:00:00.000Z`,
      detail: { attempts: 2, last_error: 'http_503' },
    });

    const dead = muttAlert(2, {
      _correlation_id: 'dead-2',
      _dlq_reason: 'HTTP 400: invalid severity',
      _dlq_code: 'rejected',
      _failed_at: '2026-01-02T03:04:05Z',
    });
    await svc.redis.lpush(svc.keys.moogDlq, JSON.stringify(dead));
    r = await traceEvent(deps(), 'dead-2');
    expect(r.steps.map((s) => s.stage)).toEqual(['received', 'dlq']);
    expect(r.steps[1]).toMatchObject({
      at: '2026-01-02T03:04:05Z',
      summary: `in ${svc.keys.moogDlq} (index 0 of 1): HTTP 400: invalid severity`,
      detail: { code: 'rejected' },
    });
  });

  it('says when a forwarded event left no trace in the journal, and when an event was not forwarded', async () => {
    const cid = randomUUID();
    await audit(event(cid));
    let r = await traceEvent(deps(), cid, { host: 'edge-rtr-07' });
    expect(r.notes.join('\n')).toMatch(/no Moogsoft request for it in the delivery journal/);
    const ignored = randomUUID();
    await audit(event(ignored, { hostname: 'lab-sw-1' }), 'Ignore', false);
    r = await traceEvent(deps(), ignored);
    expect(r.steps[1]!.summary).toMatch(/→ Ignore for team NETO; not forwarded/);
  });

  it("finds the audit row by its correlation id among rows that only mention it, in MUTT 2.x's JSON too", async () => {
    const cid = `a.b+${randomUUID()}`;
    for (let i = 0; i < 25; i++)
      await audit(event(randomUUID(), { hostname: 'noisy-1', message: `replayed ${cid} again` }));
    // Python's json.dumps puts a space after each colon.
    const python = JSON.stringify(event(cid, { hostname: 'noisy-1' })).replace(/":/g, '": ');
    await svc.pool.query(
      `INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision, forwarded_to_moog, raw_message)
       VALUES (now(), 'noisy-1', $1, 'Ticket_only', true, $2)`,
      [ruleId, python],
    );
    const r = await traceEvent(deps(), cid, { host: 'noisy-1' });
    expect(r.steps.filter((x) => x.stage === 'alerter')).toHaveLength(1);
    expect(r.steps.find((x) => x.stage === 'alerter')!.summary).toMatch(/→ Ticket_only/);
    // (the + of the id is escaped in the regular expression: unescaped, this row would not match)
  });

  it('says when the alert went to the local file sink rather than Moogsoft', async () => {
    const cid = randomUUID();
    journal().record({ sink: 'file', ids: [cid], outcomes: ['delivered'], reason: 'ok', latencyMs: 1 });
    await svc.redis.ping();
    const r = await traceEvent(deps(), cid);
    expect(r.steps.map((x) => x.summary)).toEqual([
      'written to the local file sink (MOOG_WEBHOOK_URL unset) as request node-a-0-1 (1 alert): delivered',
    ]);
  });

  it('reads the journal page by page, newest first, and the journal stays capped', async () => {
    const key = `${svc.prefix}:journal-paging`;
    const j = new MoogJournal({ redis: svc.redis, key, pod: 'p', maxEntries: 300, log: svc.log });
    for (let i = 0; i < 1000; i++)
      j.record({
        sink: 'moogsoft',
        ids: [`id-${i}`, 'every'],
        outcomes: ['delivered', 'delivered'],
        reason: 'ok',
        status: 200,
        latencyMs: 1,
      });
    await svc.redis.ping();
    expect(await svc.redis.xlen(key)).toBeLessThan(450); // MAXLEN ~ trims whole nodes
    const { entries, scanned } = await findInJournal(svc.redis, key, 'every', 10_000, 7);
    expect(scanned).toBe(await svc.redis.xlen(key));
    expect(entries).toHaveLength(scanned);
    expect(entries.at(-1)!.ids[0]).toBe('id-999');
    expect((await findInJournal(svc.redis, key, 'id-999', 10_000, 7)).entries).toHaveLength(1);
    expect((await findInJournal(svc.redis, key, 'id-99', 10_000, 7)).entries).toHaveLength(0);
  });
});

describe('mutt trace', () => {
  it('prints the trace of a real delivery through a Moogsoft outage (the forwarder writes the journal)', async () => {
    const mock = await MockMoogsoft.start();
    const s = await scenario(svc, {
      MUTT_ROLES: 'forwarder',
      MOOG_WEBHOOK_URL: mock.url,
      MOOG_RETRY_BASE_DELAY: '0.2',
      BRPOPLPUSH_TIMEOUT: '1',
    });
    const p = startMutt(s.env);
    try {
      await p.running();
      await p.waitForMessage('forwarder started');
      mock.next(1, fail(503, 'maintenance'));
      mock.respond(ok());
      await pushAlerts(svc.redis, s.keys, [muttAlert(5, { _correlation_id: 'outage-5' })]);
      await mock.until(() => mock.uniqueAcceptedIds().has('outage-5'), 20_000, 'delivery');
      await new Promise((r) => setTimeout(r, 200));
      // The alerter's audit row of the event (this node runs only the forwarder).
      const e = muttAlert(5, { _correlation_id: 'outage-5' }).raw_json as Record<string, unknown>;
      await audit({ ...e, _correlation_id: 'outage-5' });
      const r = runMutt(['trace', 'outage-5', '--host', 'core-sw5'], s.env);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('outage-5: 4 steps');
      expect(lines[1]).toMatch(
        /^ {2}2026-11-24T12:00:00\.120Z\s+received\s+received by the syslog listener from 192\.0\.2\.10 for host core-sw5$/,
      );
      expect(lines[2]).toMatch(
        /^ {2}2026-11-24T12:00:00\.000Z\s+alerter\s+matched rule \d+ "interface down" .* forwarded to Moogsoft$/,
      );
      expect(lines[3]).toMatch(
        /moogsoft\s+Moogsoft request \S+-1 \(1 alert\) → HTTP 503 \(http_503\): to be retried$/,
      );
      expect(lines[4]).toMatch(/moogsoft\s+Moogsoft request \S+-2 \(1 alert\) → HTTP 200: delivered$/);
      expect(lines).toHaveLength(5);
      // Without --host, the audit log is searched over a recent window (this event is dated weeks ago).
      const json = JSON.parse(runMutt(['trace', 'outage-5', '--json'], s.env).stdout);
      expect(json.steps.map((x: { stage: string }) => x.stage)).toEqual(['moogsoft', 'moogsoft']);
      expect(json.notes.join(' ')).toMatch(/searched over the last 168 hours of event time \(give --host/);
    } finally {
      await p.stop();
      await mock.close();
    }
  });

  // Bad input: each row a test.
  it.each([
    ['an empty id', ''],
    ['a space', 'abc def'],
    ['a semicolon', "x';DROP TABLE event_audit_log;--"],
    ['129 characters', 'a'.repeat(129)],
    ['a percent sign', '100%'],
    ['a newline', 'abc\ndef'],
  ])('an id with %s → exit 64 naming the format expected', (_what, id) => {
    const r = runMutt(['trace', id], svc.env);
    expect(r.status).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^mutt: ".*" is not a correlation id: expected 1 to 128 characters among letters, digits and \. _ : @ \/ \+ = - \(MUTT generates UUIDs/s,
    );
  });

  it('an unknown id → exit 1, "not found" and why it may be', () => {
    const r = runMutt(['trace', randomUUID()], svc.env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}: not found$/m);
    expect(r.stdout).toMatch(/^note: not found\. Events that match no rule are not audited/m);
    const j = runMutt(['trace', 'no-such-id', '--json'], svc.env);
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ correlation_id: 'no-such-id', found: false, steps: [] });
  });

  it('--hours must be a positive integer (exit 64)', () => {
    const r = runMutt(['trace', 'abc', '--hours', 'soon'], svc.env);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--hours "soon": expected a positive integer/);
  });
});

// What the admin API's trace route answers (src/core/trace.ts traceAnswer).
describe('traceAnswer', () => {
  it('200 with the report, 404 with it when nothing is found', async () => {
    const cid = randomUUID();
    await audit(event(cid));
    const found = await traceAnswer(deps(), cid, { host: 'edge-rtr-07' });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ correlation_id: cid, found: true });
    const missing = await traceAnswer(deps(), randomUUID());
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ found: false, steps: [] });
  });

  it.each([
    ['a malformed id', 'a b', {}, /is not a correlation id: expected 1 to 128 characters/],
    ['hours that are not a number', 'abc', { hours: 'all' }, /hours "all": expected a positive integer/],
    ['zero hours', 'abc', { hours: '0' }, /expected a positive integer/],
  ])('400 for %s, naming what is expected', async (_what, id, query, error) => {
    const r = await traceAnswer(deps(), id, query);
    expect(r.status).toBe(400);
    expect((r.body as { error: string }).error).toMatch(error);
  });

  it('503 when Redis cannot be read', async () => {
    const dead = new Redis({ port: await freePort(), lazyConnect: true, enableOfflineQueue: false });
    const r = await traceAnswer({ redis: dead, keys: svc.keys, pool: svc.pool }, 'abc');
    expect(r.status).toBe(503);
    expect((r.body as { error: string }).error).toMatch(/^trace unavailable: Redis: /);
    dead.disconnect();
  });
});
