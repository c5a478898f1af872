// Mixed fleets: the alerter's decisions in both modes (COMPAT_MODE=off, MUTT's own, and python2, the
// parity mode), against the real Redis and PostgreSQL. Each case was seen on a fleet where a Python
// MUTT 2.x alerter and a MUTT alerter take events from one ingest queue; docs/COMPATIBILITY.md cites
// the describe blocks below by name.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compatStatus, describeCompat } from '../src/core/config/compat.ts';
import { Keys } from '../src/core/protocol/keys.ts';
import {
  addRule,
  auditRows,
  census,
  drained,
  event,
  metricValue,
  pushEvents,
  resetTables,
  type RunningAlerter,
  startAlerter,
  subPrefixEnv,
  until,
} from './harness/alerting.ts';
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
const start = async (
  mode: Mode,
  env: Record<string, string> = {},
  o: Parameters<typeof startAlerter>[2] = {},
) => {
  const a = await startAlerter(svc, { ...subPrefixEnv(svc), COMPAT_MODE: mode, ...env }, o);
  running.push(a);
  return a;
};
const alertsOf = async (a: RunningAlerter): Promise<Record<string, any>[]> =>
  (await a.redis.lrange(a.keys.alertQueue, 0, -1)).reverse().map((s) => JSON.parse(s));
const dlqOf = async (a: RunningAlerter): Promise<Record<string, any>[]> =>
  (await a.redis.lrange(a.keys.alerterDlq, 0, -1)).reverse().map((s) => JSON.parse(s));
const unhandled = (a: RunningAlerter) =>
  metricValue(a.registry, 'mutt_alerter_events_processed_total', { status: 'unhandled' });
/** The keys of an alert a Python MUTT 2.x alerter writes (PROTOCOL.md, "Alert"). */
const PYTHON_ALERT_KEYS = [
  '_correlation_id',
  '_moog_retry_count',
  'hostname',
  'message_body',
  'raw_json',
  'severity',
  'team_assignment',
];
const MODES: Mode[] = ['off', 'python2'];

describe('case 1: rule trap_oid .1.3.6.1.4.1.9.9.41.2, event 1.3.6.1.4.1.9.9.41.2.0.1 (no leading dot)', () => {
  it.each(MODES)('%s', async (mode) => {
    const rule = await addRule(svc.pool, { match_type: 'oid_prefix', trap_oid: '.1.3.6.1.4.1.9.9.41.2' });
    const a = await start(mode);
    await pushEvents(a.redis, a.keys, [
      event({ message: 'clogMessageGenerated', trap_oid: '1.3.6.1.4.1.9.9.41.2.0.1', source: 'snmp' }),
    ]);
    await drained(a.redis, a.keys);
    if (mode === 'off') {
      expect((await auditRows(svc.pool)).map((r) => r.matched_rule_id)).toEqual([rule]);
      expect(await alertsOf(a)).toHaveLength(1);
    } else {
      expect(await auditRows(svc.pool)).toEqual([]);
      expect(await alertsOf(a)).toEqual([]);
      expect(await unhandled(a)).toBe(1);
    }
  });
});

describe('case 2: rule syslog_severity 3, event "syslog_severity":"err"', () => {
  it.each(MODES)('%s', async (mode) => {
    await addRule(svc.pool, { match_string: 'LINK', syslog_severity: 3 });
    const a = await start(mode);
    const evs = [
      event({ message: '%LINK-3-UPDOWN a', syslog_severity: 'err' }),
      event({ message: '%LINK-3-UPDOWN b', syslog_severity: '3' }),
      event({ message: '%LINK-3-UPDOWN c', syslog_severity: 3 }),
      event({ message: '%LINK-3-UPDOWN d', syslog_severity: 3.0 }),
    ];
    await pushEvents(a.redis, a.keys, evs);
    await drained(a.redis, a.keys);
    const audited = (await auditRows(svc.pool)).map((r) => JSON.parse(r.raw_message).message);
    // Python compares the raw value: only the numbers equal 3.
    expect(audited).toEqual(
      mode === 'off'
        ? ['%LINK-3-UPDOWN a', '%LINK-3-UPDOWN b', '%LINK-3-UPDOWN c', '%LINK-3-UPDOWN d']
        : ['%LINK-3-UPDOWN c', '%LINK-3-UPDOWN d'],
    );
    expect(await unhandled(a)).toBe(mode === 'off' ? 0 : 2);
  });
});

describe('case 3: event "timestamp":"not-a-date"', () => {
  it.each(MODES)('%s', async (mode) => {
    await addRule(svc.pool, { match_string: 'down' });
    const a = await start(mode, { ALERTER_MAX_RETRIES: '2' });
    const before = Date.now();
    const ev = event({ message: 'link down', timestamp: 'not-a-date' });
    await pushEvents(a.redis, a.keys, [ev]);
    if (mode === 'off') {
      await drained(a.redis, a.keys);
      const rows = await auditRows(svc.pool);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.event_timestamp_substituted).toBe(true);
      expect(rows[0]!.event_timestamp.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(await alertsOf(a)).toHaveLength(1);
      expect(await dlqOf(a)).toEqual([]);
      return;
    }
    await until(async () => (await census(a.redis, a.keys)).dlq === 1, 20_000, 'dead-lettered');
    await drained(a.redis, a.keys);
    // Retried ALERTER_MAX_RETRIES times (PostgreSQL refused each insert), then dead-lettered.
    const [item] = await dlqOf(a);
    expect(item).toMatchObject({
      ...ev,
      _retry_count: 2,
      _dlq_code: 'retries_exhausted',
      _dlq_reason: expect.stringMatching(
        /^gave up after 3 attempts \(ALERTER_MAX_RETRIES=2\); last: audit row refused by PostgreSQL: .*not-a-date/,
      ),
      _failed_at: expect.any(String),
    });
    expect(await auditRows(svc.pool)).toEqual([]);
    expect(await alertsOf(a)).toEqual([]);
    expect(await metricValue(a.registry, 'mutt_alerter_events_processed_total', { status: 'error' })).toBe(2);
  });
});

describe('case 4: three unhandled messages "noise id 1", "noise id 2", "noise id 3" (threshold 3)', () => {
  it.each(MODES)('%s', async (mode) => {
    await addRule(svc.pool, { match_string: 'never-matches' });
    const a = await start(mode, { UNHANDLED_THRESHOLD: '3', UNHANDLED_SIGNATURE: 'template' });
    await pushEvents(
      a.redis,
      a.keys,
      [1, 2, 3].map((i) => event({ hostname: 'noisy1', message: `noise id ${i}` })),
    );
    await drained(a.redis, a.keys);
    const counters = (await a.redis.keys(`${a.keys.prefix}:unhandled:noisy1:*`)).sort();
    if (mode === 'off') {
      // One template signature: the third message reaches the threshold.
      expect(await alertsOf(a)).toHaveLength(1);
      expect(counters).toHaveLength(1);
      expect(counters[0]).toMatch(/:triggered$/);
    } else {
      // Python counts exact messages (whatever UNHANDLED_SIGNATURE says): three counters at 1.
      expect(await alertsOf(a)).toEqual([]);
      expect(counters).toHaveLength(3);
      expect(await Promise.all(counters.map((k) => a.redis.get(k)))).toEqual(['1', '1', '1']);
    }
  });
});

describe('case 5: the meta-alert (host, correlation id, keys)', () => {
  it.each(MODES)('%s', async (mode) => {
    await addRule(svc.pool, { match_string: 'never-matches' });
    await svc.pool.query("INSERT INTO device_teams (hostname, team_assignment) VALUES ('edge7', 'WAN')");
    const a = await start(mode, { UNHANDLED_THRESHOLD: '2', UNHANDLED_EXPIRY_SECONDS: '600' });
    const evs = [1, 2].map(() => event({ hostname: 'edge7', message: 'fan tray removed' }));
    await pushEvents(a.redis, a.keys, evs);
    await drained(a.redis, a.keys);
    const [meta, ...rest] = await alertsOf(a);
    expect(rest).toEqual([]);
    const body =
      "[MUTT] Detected 2 unhandled messages in 600s from 'edge7'. Sample message: fan tray removed";
    if (mode === 'off') {
      expect(meta).toMatchObject({
        hostname: 'edge7',
        team_assignment: 'WAN',
        severity: 'Warning',
        message_body: body,
        _correlation_id: `${evs[1]!._correlation_id as string}:unhandled`,
        handling: 'unhandled',
        signature: expect.stringMatching(/^edge7:unhandled:[0-9a-f]{16}$/),
      });
    } else {
      expect(Object.keys(meta!).sort()).toEqual(PYTHON_ALERT_KEYS);
      expect(meta).toEqual({
        hostname: 'MUTT_Alerter',
        team_assignment: 'WAN',
        severity: 'Warning',
        message_body: body,
        raw_json: evs[1],
        _correlation_id: evs[1]!._correlation_id,
        _moog_retry_count: 0,
      });
    }
  });
});

describe('the alert JSON (severity and MUTT additions)', () => {
  it.each(MODES)('%s', async (mode) => {
    const rule = await addRule(svc.pool, { match_string: 'down', prod_handling: 'Page_only' });
    const a = await start(mode);
    const ev = event({ message: 'BGP down', syslog_severity: 2 });
    await pushEvents(a.redis, a.keys, [ev]);
    await drained(a.redis, a.keys);
    const [alert] = await alertsOf(a);
    if (mode === 'off') {
      expect(alert).toMatchObject({
        severity: 'Critical',
        rule_id: rule,
        handling: 'Page_only',
        environment: 'prod',
        signature: `core-sw1:${rule}`,
        alerted_at: expect.any(String),
      });
    } else {
      expect(alert).toEqual({
        hostname: 'core-sw1',
        team_assignment: 'NETO',
        severity: 'Warning',
        message_body: 'BGP down',
        raw_json: ev,
        _correlation_id: ev._correlation_id,
        _moog_retry_count: 0,
      });
    }
  });
});

describe('a handling with spaces around it (" page_only ")', () => {
  it.each(MODES)('%s', async (mode) => {
    await addRule(svc.pool, { match_string: 'down', prod_handling: ' page_only ' });
    const a = await start(mode);
    await pushEvents(a.redis, a.keys, [event({ message: 'down' })]);
    await drained(a.redis, a.keys);
    const [row] = await auditRows(svc.pool);
    // Python lower-cases the handling without stripping it: not a forwarding handling.
    expect(row).toMatchObject({ handling_decision: ' page_only ', forwarded_to_moog: mode === 'off' });
    expect(await alertsOf(a)).toHaveLength(mode === 'off' ? 1 : 0);
  });
});

describe('a rule with an empty team_assignment', () => {
  it.each(MODES)('%s', async (mode) => {
    const blank = await addRule(svc.pool, { match_string: 'down', team_assignment: '', priority: 10 });
    const next = await addRule(svc.pool, { match_string: 'down', team_assignment: 'NETO', priority: 20 });
    const a = await start(mode);
    await pushEvents(a.redis, a.keys, [event({ message: 'down' })]);
    await drained(a.redis, a.keys);
    const [row] = await auditRows(svc.pool);
    const [alert] = await alertsOf(a);
    // MUTT refuses the rule at load (logged, counted); Python uses it as it is.
    expect(row!.matched_rule_id).toBe(mode === 'off' ? next : blank);
    expect(alert!.team_assignment).toBe(mode === 'off' ? 'NETO' : '');
    expect(await metricValue(a.registry, 'mutt_alerter_cache_rules_rejected')).toBe(1);
  });
});

describe('audit rows PostgreSQL refuses (host name over 255, epoch timestamp, a month without partition)', () => {
  it.each(MODES)('%s', async (mode) => {
    await addRule(svc.pool, { match_string: 'down' });
    const a = await start(mode, { ALERTER_MAX_RETRIES: '1', AUDIT_RETENTION_MONTHS: '12' });
    const epoch = Math.floor(Date.now() / 1000) - 60;
    const evs = [
      event({ message: 'down', hostname: `h${'x'.repeat(299)}` }),
      event({ message: 'down', timestamp: epoch }),
      event({ message: 'down', timestamp: '2001-01-15T00:00:00Z' }),
      event({ message: 'down', hostname: 'fine' }),
    ];
    await pushEvents(a.redis, a.keys, evs);
    if (mode === 'python2')
      await until(async () => (await census(a.redis, a.keys)).dlq === 3, 20_000, 'dead-lettered');
    await drained(a.redis, a.keys);
    const rows = await auditRows(svc.pool);
    if (mode === 'off') {
      expect(rows.map((r) => [r.hostname.length, r.event_timestamp_substituted])).toEqual([
        [255, null],
        [8, null],
        [8, true],
        [4, null],
      ]);
      expect(rows[1]!.event_timestamp.getTime()).toBe(epoch * 1000);
      expect(await dlqOf(a)).toEqual([]);
      expect(await alertsOf(a)).toHaveLength(4);
    } else {
      expect(rows.map((r) => r.hostname)).toEqual(['fine']);
      const dlq = await dlqOf(a);
      expect(dlq.map((d) => d._correlation_id).sort()).toEqual(
        evs
          .slice(0, 3)
          .map((e) => e._correlation_id as string)
          .sort(),
      );
      for (const d of dlq) expect(d).toMatchObject({ _retry_count: 1, _dlq_code: 'retries_exhausted' });
      expect(dlq.find((d) => d.timestamp === epoch)!._dlq_reason).toMatch(/"timestamp" is number/);
      expect((await alertsOf(a)).map((x) => x.hostname)).toEqual(['fine']);
    }
  });
});

describe('bad input: parity mode switched at runtime while batches are in flight', () => {
  it('decides each batch wholly in one mode; every switch is logged and counted', async () => {
    // Each event says which mode decided it: matched by the trap rule (MUTT compares OIDs without
    // the leading dot) gives an alert with rule_id; in parity mode it is unhandled, and with a
    // threshold of 1 its exact message raises a Python meta-alert at once (host MUTT_Alerter).
    await addRule(svc.pool, { match_type: 'oid_prefix', trap_oid: '.1.3.6.1.4.1.9' });
    const env = {
      ...subPrefixEnv(svc),
      UNHANDLED_THRESHOLD: '1',
      ALERTER_BATCH_SIZE: '25',
      // Every event makes an alert: no backpressure while they pile up on the alert queue.
      ALERTER_QUEUE_WARN_THRESHOLD: '100000',
      ALERTER_QUEUE_SHED_THRESHOLD: '100000',
    };
    const n = 8000;
    const evs = Array.from({ length: n }, (_, i) =>
      event({
        hostname: 'r1',
        message: `probe ${i}`,
        trap_oid: '1.3.6.1.4.1.9.9.41.2.0.1',
        _correlation_id: `sw-${i}`,
      }),
    );
    // Queued before the alerter starts, so every batch is exactly ALERTER_BATCH_SIZE events, in order.
    const keys = new Keys(svc.config(env));
    await pushEvents(svc.redis, keys, evs);
    const a = await startAlerter(svc, env, { wait: false });
    running.push(a);
    let mode: Mode = 'off';
    let flips = 0;
    while ((await census(a.redis, a.keys)).queue > 0 && flips < 1000) {
      mode = mode === 'off' ? 'python2' : 'off';
      await a.redis.set(a.keys.config('compat_mode'), mode);
      await a.redis.publish(a.keys.configUpdates, 'compat_mode');
      flips++;
      await new Promise((r) => setTimeout(r, 15));
    }
    await drained(a.redis, a.keys, 60_000);
    const alerts = await alertsOf(a);
    expect(alerts).toHaveLength(n);
    const modeOf = new Array<string>(n);
    for (const x of alerts) {
      const i = Number(String(x._correlation_id).slice(3));
      if (x.hostname === 'MUTT_Alerter' && x.rule_id === undefined) modeOf[i] = 'python2';
      else if (x.hostname === 'r1' && typeof x.rule_id === 'number' && x.handling !== 'unhandled')
        modeOf[i] = 'off';
      else modeOf[i] = `mixed: ${JSON.stringify(x).slice(0, 200)}`;
    }
    const batches = new Map<number, Set<string>>();
    modeOf.forEach((m, i) => {
      const b = Math.floor(i / 25);
      if (!batches.has(b)) batches.set(b, new Set());
      batches.get(b)!.add(m);
    });
    const mixed = [...batches].filter(([, s]) => s.size !== 1);
    expect(mixed).toEqual([]);
    expect(new Set(modeOf)).toEqual(new Set(['off', 'python2']));
    // Switches seen between batches: logged, counted, one log line each.
    const switches =
      (await metricValue(a.registry, 'mutt_alerter_compat_mode_switches_total', { to: 'python2' })) +
      (await metricValue(a.registry, 'mutt_alerter_compat_mode_switches_total', { to: 'off' }));
    const logged = a.lines.filter((l) => l.msg.startsWith('compat mode switched'));
    expect(switches).toBeGreaterThanOrEqual(2);
    expect(logged).toHaveLength(switches);
    // Each switch changes the mode of the next batch decided: the modes along the queue change
    // exactly as often as switches were logged (counting from the mode the alerter started in).
    const startedIn = a.lines.find((l) => l.msg === 'alerter started')!.compat_mode;
    let changes = [...batches.get(0)!][0] === startedIn ? 0 : 1;
    for (let b = 1; b < batches.size; b++)
      if ([...batches.get(b)!][0] !== [...batches.get(b - 1)!][0]) changes++;
    expect(changes).toBe(switches);
  });
});

describe('compat status (what `mutt status` shows, from compatStatus())', () => {
  it('COMPAT_MODE, overridden by a valid compat_mode in Redis; an invalid one is named and ignored', async () => {
    const config = svc.config({ ...subPrefixEnv(svc), COMPAT_MODE: 'off' });
    const keys = new Keys(config);
    expect(await compatStatus(config, svc.redis, keys)).toMatchObject({
      mode: 'off',
      source: 'static',
      stored: null,
    });
    expect(describeCompat(await compatStatus(config, svc.redis, keys))).toBe(
      'off (COMPAT_MODE; compat_mode is not set in Redis)',
    );
    await svc.redis.set(keys.config('compat_mode'), 'python2');
    expect(describeCompat(await compatStatus(config, svc.redis, keys))).toBe(
      'python2 (dynamic compat_mode; COMPAT_MODE=off)',
    );
    expect(await compatStatus(config, svc.redis, keys)).toMatchObject({
      mode: 'python2',
      source: 'dynamic',
      static: 'off',
      givesUp: expect.arrayContaining([expect.stringMatching(/MUTT_Alerter/)]),
    });
    await svc.redis.set(keys.config('compat_mode'), 'python3');
    expect(await compatStatus(config, svc.redis, keys)).toMatchObject({
      mode: 'off',
      source: 'static',
      invalid: 'compat_mode: "python3" is not off or python2',
    });
    expect(describeCompat(await compatStatus(config, svc.redis, keys))).toBe(
      'off (COMPAT_MODE; ignored in Redis: compat_mode: "python3" is not off or python2)',
    );
    const noDynamic = svc.config({
      ...subPrefixEnv(svc),
      COMPAT_MODE: 'python2',
      DYNAMIC_CONFIG_ENABLED: 'false',
    });
    expect(await compatStatus(noDynamic, svc.redis, keys)).toMatchObject({
      mode: 'python2',
      source: 'static',
    });
  });
});
