// Golden fixtures, both directions, in both modes: items in the exact shapes Python MUTT 2.x writes
// (test/fixtures/python2/) consumed by MUTT, and MUTT's outputs read the way the Python services read
// them (test/harness/python2.ts), against the real Redis and PostgreSQL. docs/COMPATIBILITY.md cites
// these tests by name.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAlert } from '../src/forwarder/alert.ts';
import { replayDlq, replayForm } from '../src/core/queue/dlq.ts';
import { toMoogEvent } from '../src/forwarder/sinks/moogsoft/payload.ts';
import { prepareEvent } from '../src/listeners/webhook/parse.ts';
import { parseText } from '../src/listeners/syslog/message.ts';
import { toEvent } from '../src/listeners/syslog/event.ts';
import { buildEvent, OIDS } from '../src/listeners/snmp/notification.ts';
import {
  addRule,
  auditRows,
  census,
  drained,
  event,
  pushEvents,
  resetTables,
  type RunningAlerter,
  startAlerter,
  subPrefixEnv,
  until,
} from './harness/alerting.ts';
import { eventProblems } from './harness/mock-moogsoft.ts';
import {
  pyEvents,
  pyFixture,
  pyJson,
  pythonAlerterProblems,
  pythonAuditProblems,
  pythonDlqProblems,
  pythonForwarderProblems,
  pythonJanitorProblems,
} from './harness/python2.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
const running: RunningAlerter[] = [];
beforeAll(async () => {
  svc = await useServices();
});
beforeEach(async () => {
  await resetTables(svc.pool);
});
afterEach(async () => {
  for (const a of running.splice(0)) await a.stop();
});
afterAll(async () => {
  await svc.cleanup();
});

type Mode = 'off' | 'python2';
const MODES: Mode[] = ['off', 'python2'];
const start = async (
  mode: Mode,
  env: Record<string, string> = {},
  o: Parameters<typeof startAlerter>[2] = {},
) => {
  const a = await startAlerter(svc, { ...subPrefixEnv(svc), COMPAT_MODE: mode, ...env }, o);
  running.push(a);
  return a;
};
const listOf = async (a: RunningAlerter, key: string) => (await a.redis.lrange(key, 0, -1)).reverse();
const ctx = { agentLocation: 'mutt-node-1', defaultTeam: 'NETO' };

/** The rules the Python fixtures were decided with. */
async function fixtureRules() {
  const link = await addRule(svc.pool, {
    match_string: 'LINK-3-UPDOWN',
    syslog_severity: 3,
    prod_handling: 'Page_and_ticket',
    dev_handling: 'Ignore',
  });
  const trap = await addRule(svc.pool, {
    match_type: 'oid_prefix',
    trap_oid: '1.3.6.1.6.3.1.1.5',
    prod_handling: 'Ticket_only',
  });
  const power = await addRule(svc.pool, { match_string: 'power supply', prod_handling: 'Page_only' });
  const env = await addRule(svc.pool, { match_string: 'ENV-4-TEMP', prod_handling: 'Ticket_only' });
  await svc.pool.query("INSERT INTO development_hosts (hostname) VALUES ('lab-sw9')");
  return { link, trap, power, env };
}

describe('golden, Python → MUTT: events from the Python ingestor', () => {
  it.each(MODES)('%s', async (mode) => {
    const r = await fixtureRules();
    const a = await start(mode);
    const items = pyEvents();
    await pushEvents(a.redis, a.keys, items);
    await drained(a.redis, a.keys);
    const rows = await auditRows(svc.pool);
    expect(
      rows.map((x) => [x.hostname, x.matched_rule_id, x.handling_decision, x.forwarded_to_moog]),
    ).toEqual([
      ['core-sw1', r.link, 'Page_and_ticket', true],
      ['edge-rtr2', r.trap, 'Ticket_only', true],
      ['pdu1', r.power, 'Page_only', true],
      ['core-sw1', r.env, 'Ticket_only', true],
      ['lab-sw9', r.link, 'Ignore', false],
    ]);
    // Timestamps as Python writes them: microseconds, with and without an offset. MUTT reads one
    // without an offset as UTC; in parity mode PostgreSQL reads it, as for a Python alerter (in the
    // session's TimeZone).
    const stamps = items
      .slice(0, 5)
      .map((x) => (JSON.parse(x.replace('NaN', 'null')) as { timestamp: string }).timestamp);
    const want =
      mode === 'off'
        ? [
            '2026-11-24T12:00:00.123Z',
            '2026-11-24T12:00:01.000Z',
            '2026-11-24T12:00:02.500Z',
            '2026-11-24T12:00:03.000Z',
            '2026-11-24T12:00:04.000Z',
          ]
        : await Promise.all(
            stamps.map(async (t) =>
              (
                await svc.pool.query<{ t: Date }>('SELECT $1::timestamptz AS t', [t])
              ).rows[0]!.t.toISOString(),
            ),
          );
    expect(rows.map((x) => x.event_timestamp.toISOString())).toEqual(want);
    for (const row of rows) expect(pythonAuditProblems(row)).toEqual([]);
    // Parity mode stores the item as the Python alerter does (its json.dumps text, NaN kept);
    // MUTT's own mode stores strict JSON (NaN as null).
    if (mode === 'python2')
      expect(rows.map((x) => x.raw_message)).toEqual([0, 1, 2, 3, 4].map((i) => items[i]));
    else expect(JSON.parse(rows[2]!.raw_message).load).toBeNull();
    expect(JSON.parse(rows[3]!.raw_message).message).toBe('%ENV-4-TEMP: température haute, sonde 2');

    const alerts = await listOf(a, a.keys.alertQueue);
    expect(alerts).toHaveLength(4);
    for (const x of alerts) expect(pythonForwarderProblems(x)).toEqual([]);
    // Alerts stay strict JSON in both modes: Python's NaN is written as null.
    expect(JSON.parse(alerts[2]!).raw_json.load).toBeNull();
    if (mode === 'python2') {
      // Byte for byte the alert the Python alerter writes, once both are parsed.
      expect(JSON.parse(alerts[0]!)).toEqual(pyJson('alert.json'));
    } else {
      expect(JSON.parse(alerts[0]!)).toMatchObject({ severity: 'Major', rule_id: r.link });
    }
    // The unhandled one is counted under the key Python uses (exact-message SHA-1 in parity mode).
    const counters = await a.redis.keys(`${a.keys.prefix}:unhandled:edge-rtr2:*`);
    expect(counters).toHaveLength(1);
  });
});

describe('golden, Python → MUTT: alerts and meta-alerts from the Python alerter, rendered by MUTT', () => {
  it.each(MODES)('%s', (mode) => {
    for (const [name, source, severity] of [
      ['alert.json', 'core-sw1', mode === 'off' ? 2 : 3],
      ['meta-alert.json', 'MUTT_Alerter', mode === 'off' ? 2 : 3],
    ] as const) {
      const p = parseAlert(pyFixture(name));
      if (!p.ok) throw new Error(p.reason);
      const e = toMoogEvent(p.alert, ctx, mode);
      expect(eventProblems(e)).toEqual([]);
      expect(e).toMatchObject({
        source,
        severity,
        external_id: pyJson(name)._correlation_id,
        description: pyJson(name).message_body,
        class: 'NETO',
      });
    }
  });
});

describe('golden, Python → MUTT: DLQ items from Python services, replayed by MUTT', () => {
  it.each(MODES)('%s', async (mode) => {
    await fixtureRules();
    const a = await start(mode, { ALERTER_MAX_RETRIES: '1' });
    // The Moogsoft DLQ item: replayed to the alert queue without the Moogsoft key Python copied in.
    const moog = replayForm(pyFixture('dlq-moog.json'), 'moog', { maxPoison: 3, now: new Date() });
    expect(moog.to).toBe('alert_queue');
    expect(JSON.parse(moog.item)).not.toHaveProperty('moog_api_key');
    expect(JSON.parse(moog.item)).toMatchObject({ _moog_retry_count: 0, _replay_count: 1 });
    expect(pythonForwarderProblems(moog.item)).toEqual([]);
    const rendered = parseAlert(moog.item);
    if (!rendered.ok) throw new Error(rendered.reason);
    expect(toMoogEvent(rendered.alert, ctx, mode).severity).toBe(mode === 'off' ? 3 : 2); // Minor

    // The alerter DLQ items (a poison event, a shed event): `mutt dlq replay --queue alerter`.
    await a.redis.lpush(a.keys.alerterDlq, pyFixture('dlq-alerter.json'), pyFixture('dlq-shed.json'));
    const r = await replayDlq(a.redis, a.keys, 'alerter', { maxPoison: 3 });
    expect(r).toMatchObject({ replayed: 2, dead: 0 });
    if (mode === 'python2')
      await until(async () => (await census(a.redis, a.keys)).dlq === 1, 20_000, 'poison again');
    await drained(a.redis, a.keys);
    const rows = await auditRows(svc.pool);
    // The shed event matches no rule (unhandled). The timestamp that is not a date: audited with the
    // receive time by MUTT; refused again (retried, then back in the DLQ) in parity mode.
    expect(rows.map((x) => [x.hostname, x.event_timestamp_substituted])).toEqual(
      mode === 'off' ? [['core-sw1', true]] : [],
    );
    if (mode === 'python2') {
      const [again] = await listOf(a, a.keys.alerterDlq);
      expect(JSON.parse(again!)).toMatchObject({
        _replay_count: 1,
        _retry_count: 1,
        timestamp: 'not-a-date',
      });
      expect(JSON.parse(again!)).not.toHaveProperty('shedding_reason');
    }
  });
});

describe('golden, Python → MUTT: a Python alerter heartbeat and processing list', () => {
  it.each(MODES)('%s', async (mode) => {
    await fixtureRules();
    const hb = pyJson<{
      pod: string;
      heartbeat_value: string;
      heartbeat_ttl_seconds: number;
      processing: string[];
    }>('heartbeat.json');
    const a = await start(mode);
    await a.redis.setex(a.keys.alerterHeartbeat(hb.pod), hb.heartbeat_ttl_seconds, hb.heartbeat_value);
    await a.redis.lpush(a.keys.alerterProcessing(hb.pod), ...hb.processing);
    // Alive: MUTT's janitor (a sweep each second here) leaves the Python alerter's events alone.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await a.redis.llen(a.keys.alerterProcessing(hb.pod))).toBe(1);
    // Dead (its heartbeat expired): after a full ALERTER_JANITOR_TIMEOUT the events come back and
    // are decided by MUTT.
    await a.redis.del(a.keys.alerterHeartbeat(hb.pod));
    await until(async () => (await auditRows(svc.pool)).length === 1, 15_000, 'recovered and audited');
    expect(await a.redis.exists(a.keys.alerterProcessing(hb.pod))).toBe(0);
    expect((await auditRows(svc.pool))[0]!.hostname).toBe('core-sw4');
  });
});

describe('golden, Python → MUTT: audit rows the Python alerter inserted', () => {
  it.each(MODES)('%s', async (mode) => {
    const r = await fixtureRules();
    const row = pyJson<{
      event_timestamp: string;
      hostname: string;
      handling_decision: string;
      forwarded_to_moog: boolean;
      raw_message: string;
    }>('audit-row.json');
    // The Python alerter's INSERT (PROTOCOL.md: the six columns, the timestamp as text).
    await svc.pool.query(
      `INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision, forwarded_to_moog, raw_message)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        row.event_timestamp,
        row.hostname,
        r.link,
        row.handling_decision,
        row.forwarded_to_moog,
        row.raw_message,
      ],
    );
    const a = await start(mode);
    await pushEvents(a.redis, a.keys, [pyEvents()[0]!]);
    await drained(a.redis, a.keys);
    const rows = await auditRows(svc.pool);
    expect(rows).toHaveLength(2);
    // The Python row is untouched and reads like MUTT's (the MUTT-only column is null for it).
    expect(rows[0]).toMatchObject({ raw_message: row.raw_message, event_timestamp_substituted: null });
    expect(rows[0]!.event_timestamp.toISOString()).toBe(rows[1]!.event_timestamp.toISOString());
    for (const x of rows) expect(pythonAuditProblems(x)).toEqual([]);
    // In parity mode MUTT's row for the same event is the Python row, column for column.
    if (mode === 'python2')
      expect({ ...rows[1], event_timestamp: null }).toEqual({ ...rows[0], event_timestamp: null });
  });
});

describe('golden, MUTT → Python: events from MUTT listeners, read by a Python alerter', () => {
  it('syslog, webhook (a severity label) and SNMP (an OID with a leading dot) events', async () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    const m = parseText(
      '<187>Nov 24 12:00:00 core-sw1 %LINK-3-UPDOWN: Interface Gi0/1, changed state to down',
      {
        now,
        tz: 'UTC',
      },
    );
    const syslog = JSON.stringify(toEvent(m, '192.0.2.1', '192.0.2.1', now, '', false));
    const web = prepareEvent(
      {
        hostname: 'app1',
        timestamp: '2026-11-24T12:00:00Z',
        message: 'disk full',
        syslog_severity: 'Warning',
      },
      {
        required: ['hostname', 'timestamp', 'message'],
        fallbackCorrelationId: () => 'cid-1',
        receivedAt: 'x',
      },
    );
    if (!web.ok) throw new Error(web.error);
    const trap = buildEvent({
      version: 'v2c',
      sourceIp: '192.0.2.10',
      receivedAt: new Date(now),
      inform: false,
      severity: 4,
      pdu: {
        id: 9,
        varbinds: [
          { oid: OIDS.sysUpTime0, type: 67, value: 100 },
          { oid: OIDS.snmpTrapOID0, type: 6, value: '.1.3.6.1.6.3.1.1.5.3' },
        ],
      },
    });
    if ('error' in trap) throw new Error(trap.error);
    for (const item of [syslog, web.json, JSON.stringify(trap.event)]) {
      expect(pythonAlerterProblems(item)).toEqual([]);
      // PostgreSQL reads the timestamp, as it must for the Python alerter's INSERT.
      const ts = (JSON.parse(item) as { timestamp: string }).timestamp;
      await expect(svc.pool.query('SELECT $1::timestamptz', [ts])).resolves.toBeTruthy();
    }
    expect(JSON.parse(web.json).syslog_severity).toBe(4);
    expect(trap.event.trap_oid).toBe('1.3.6.1.6.3.1.1.5.3');
  });
});

describe('golden, MUTT → Python: alerter outputs read by Python consumers', () => {
  it.each(MODES)('%s', async (mode) => {
    await fixtureRules();
    await addRule(svc.pool, { match_string: 'refuse-me' });
    const a = await start(
      mode,
      { UNHANDLED_THRESHOLD: '1', ALERTER_MAX_RETRIES: '1' },
      { pod: `gold${mode}` },
    );
    // The heartbeat a Python janitor checks before it takes the list of a MUTT alerter.
    expect(await pythonJanitorProblems(a.redis, a.keys.alerterHeartbeat(`gold${mode}`), 3)).toEqual([]);
    const evs = [
      event({ message: '%LINK-3-UPDOWN: Interface Gi0/7, changed state to down', syslog_severity: 3 }),
      event({ hostname: 'edge9', message: 'something nobody wrote a rule for' }),
      event({ message: 'refuse-me', hostname: 'x'.repeat(300) }),
      '{"hostname": "h", "message": "no timestamp"}',
      'not json at all',
    ];
    await pushEvents(a.redis, a.keys, evs);
    await until(async () => (await census(a.redis, a.keys)).dlq === (mode === 'off' ? 2 : 3), 20_000, 'dlq');
    await drained(a.redis, a.keys);
    const alerts = await listOf(a, a.keys.alertQueue);
    expect(alerts.length).toBe(mode === 'off' ? 3 : 2); // the long host name is audited (cut) by MUTT
    for (const x of alerts) expect(pythonForwarderProblems(x)).toEqual([]);
    const meta = alerts.map((x) => JSON.parse(x)).find((x) => x.message_body.startsWith('[MUTT] Detected'));
    expect(meta.hostname).toBe(mode === 'off' ? 'edge9' : 'MUTT_Alerter');
    for (const item of await listOf(a, a.keys.alerterDlq))
      expect(pythonDlqProblems(item, 'alerter')).toEqual([]);
    for (const row of await auditRows(svc.pool)) expect(pythonAuditProblems(row)).toEqual([]);
  });
});
