// The alerter's decisions against the real Redis and PostgreSQL: rules written with SQL, events pushed
// as listeners and Python clients push them, and every outcome checked where it lands (audit rows,
// alert queue, unhandled counters, DLQ).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
  for (const a of running.splice(0)) {
    if (process.env.DEBUG_ALERTER) console.log(a.lines.slice(-10));
    await a.stop();
  }
});
afterAll(async () => {
  await svc.cleanup();
});

const start = async (env: Record<string, string> = {}, o: Parameters<typeof startAlerter>[2] = {}) => {
  const a = await startAlerter(svc, { ...subPrefixEnv(svc), ...env }, o);
  running.push(a);
  return a;
};
const alertsOf = async (a: RunningAlerter) =>
  (await a.redis.lrange(a.keys.alertQueue, 0, -1)).reverse().map((s) => JSON.parse(s));

describe('rule semantics (PROTOCOL.md "Alerter decisions")', () => {
  type Row = {
    what: string;
    rules: Parameters<typeof addRule>[1][];
    dev?: string[];
    ev: Record<string, unknown>;
    /** 1-based index into `rules` of the rule that must match; 0 for none. */
    want: number;
    handling?: string;
    forwarded?: boolean;
    environment?: 'prod' | 'dev';
  };
  const rows: Row[] = [
    {
      what: 'the lower priority wins',
      rules: [
        { match_string: 'down', priority: 50 },
        { match_string: 'link', priority: 10 },
      ],
      ev: { message: 'LINK down' },
      want: 2,
    },
    {
      what: 'a priority tie goes to the lower id',
      rules: [{ match_string: 'down' }, { match_string: 'link' }],
      ev: { message: 'link down' },
      want: 1,
    },
    {
      what: 'a trap event is judged by a trap rule by its OID (oid_prefix), not its message',
      rules: [
        { match_type: 'contains', trap_oid: '1.3.6.1.6.3.1.1.5', match_string: 'linkDown', priority: 1 },
        { match_type: 'oid_prefix', trap_oid: '1.3.6.1.6.3.1.1.5', priority: 5 },
      ],
      ev: { message: 'linkDown ifIndex 3', trap_oid: '1.3.6.1.6.3.1.1.5.3' },
      want: 2,
    },
    {
      what: 'a message rule matches a trap event when no trap rule comes first',
      rules: [
        { match_type: 'oid_prefix', trap_oid: '1.3.6.1.4.1.9', priority: 5 },
        { match_string: 'linkdown', priority: 6 },
      ],
      ev: { message: 'linkDown ifIndex 3', trap_oid: '1.3.6.1.6.3.1.1.5.3' },
      want: 2,
    },
    {
      what: 'OIDs compare without a leading dot (rule with, event without)',
      rules: [{ match_type: 'oid_prefix', trap_oid: '.1.3.6.1.4.1.9.9.41' }],
      ev: { message: 'x', trap_oid: '1.3.6.1.4.1.9.9.41.2.0.1' },
      want: 1,
    },
    {
      what: 'OIDs compare without a leading dot (rule without, event with)',
      rules: [{ match_type: 'oid_prefix', trap_oid: '1.3.6.1.4.1.9.9.41' }],
      ev: { message: 'x', trap_oid: '.1.3.6.1.4.1.9.9.41.2.0.1' },
      want: 1,
    },
    {
      what: 'the severity filter skips a rule for another severity',
      rules: [{ match_string: 'down', syslog_severity: 2, priority: 1 }, { match_string: 'down' }],
      ev: { message: 'down', syslog_severity: 3 },
      want: 2,
    },
    {
      what: 'a text severity from a Python client is compared as its number',
      rules: [{ match_string: 'down', syslog_severity: 4 }],
      ev: { message: 'down', syslog_severity: 'Warning' },
      want: 1,
    },
    {
      what: 'regex rules search case-insensitively; Python (?P<name>…) works',
      rules: [{ match_type: 'regex', match_string: '(?P<peer>\\d+\\.\\d+\\.\\d+\\.\\d+).*IDLE' }],
      ev: { message: 'BGP neighbor 10.1.1.1 went idle' },
      want: 1,
    },
    {
      what: 'a prod host gets prod_handling and is forwarded',
      rules: [{ match_string: 'down', prod_handling: 'Page_and_ticket', dev_handling: 'Ignore' }],
      ev: { message: 'down' },
      want: 1,
      handling: 'Page_and_ticket',
      forwarded: true,
      environment: 'prod',
    },
    {
      what: 'a development host gets dev_handling; Ignore is audited but not forwarded',
      rules: [{ match_string: 'down', prod_handling: 'Page_and_ticket', dev_handling: 'Ignore' }],
      dev: ['core-sw1'],
      ev: { message: 'down' },
      want: 1,
      handling: 'Ignore',
      forwarded: false,
      environment: 'dev',
    },
    {
      what: 'ticket_only forwards (compared lower-cased)',
      rules: [{ match_string: 'down', prod_handling: 'TICKET_ONLY' }],
      ev: { message: 'down' },
      want: 1,
      handling: 'TICKET_ONLY',
      forwarded: true,
    },
    {
      what: 'an inactive rule is not used',
      rules: [{ match_string: 'down', is_active: false }],
      ev: { message: 'down' },
      want: 0,
    },
  ];

  it.each(rows)('$what', async (row) => {
    const ids: number[] = [];
    for (const r of row.rules) ids.push(await addRule(svc.pool, r));
    for (const h of row.dev ?? [])
      await svc.pool.query('INSERT INTO development_hosts (hostname) VALUES ($1)', [h]);
    const a = await start();
    const ev = event(row.ev);
    await pushEvents(a.redis, a.keys, [ev]);
    await drained(a.redis, a.keys);
    const audit = await auditRows(svc.pool);
    if (row.want === 0) {
      expect(audit).toEqual([]);
      expect(
        await metricValue(a.registry, 'mutt_alerter_events_processed_total', { status: 'unhandled' }),
      ).toBe(1);
      return;
    }
    expect(audit).toHaveLength(1);
    expect(audit[0]!.matched_rule_id).toBe(ids[row.want - 1]);
    expect(JSON.parse(audit[0]!.raw_message)).toMatchObject({ _correlation_id: ev._correlation_id });
    const alerts = await alertsOf(a);
    if (row.handling) expect(audit[0]!.handling_decision).toBe(row.handling);
    if (row.forwarded !== undefined) {
      expect(audit[0]!.forwarded_to_moog).toBe(row.forwarded);
      expect(alerts).toHaveLength(row.forwarded ? 1 : 0);
    }
    if (alerts.length > 0) {
      expect(alerts[0]).toMatchObject({
        hostname: 'core-sw1',
        team_assignment: 'NETO',
        message_body: ev.message,
        raw_json: ev,
        _correlation_id: ev._correlation_id,
        rule_id: ids[row.want - 1],
        environment: row.environment ?? 'prod',
        signature: `core-sw1:${ids[row.want - 1]}`,
      });
      expect(['Critical', 'Major', 'Warning', 'Minor', 'Info', 'Clear']).toContain(alerts[0].severity);
    }
  });
});

describe('decisions and the alert message', () => {
  it('writes Python-client events: text severities, 7-digit fractional seconds, NaN, naive timestamps', async () => {
    await addRule(svc.pool, { match_string: 'power' });
    const a = await start();
    const raw = [
      '{"hostname":"pdu1","timestamp":"2026-11-24T12:00:00.1234567Z","message":"power supply failed","syslog_severity":"err","load":NaN,"_correlation_id":"py-1"}',
      '{"hostname":"pdu2","timestamp":"2026-11-24T12:00:00.123456","message":"POWER restored","syslog_severity":"Warning","_correlation_id":"py-2"}',
      '{"hostname":"pdu3","timestamp":"2026-11-24 12:00:00+01:00","message":"power low","_correlation_id":"py-3"}',
    ];
    await pushEvents(a.redis, a.keys, raw);
    await drained(a.redis, a.keys);
    const rows = await auditRows(svc.pool);
    expect(
      rows.map((r) => [r.hostname, r.event_timestamp.toISOString(), r.event_timestamp_substituted]),
    ).toEqual([
      ['pdu1', '2026-11-24T12:00:00.123Z', null],
      ['pdu2', '2026-11-24T12:00:00.123Z', null],
      ['pdu3', '2026-11-24T11:00:00.000Z', null],
    ]);
    // Microseconds are kept, the 7th digit cut.
    const us = await svc.pool.query(
      "SELECT to_char(event_timestamp AT TIME ZONE 'UTC', 'US') AS us FROM event_audit_log ORDER BY id LIMIT 1",
    );
    expect(us.rows[0].us).toBe('123456');
    const alerts = await alertsOf(a);
    expect(alerts.map((x) => [x.hostname, x.severity])).toEqual([
      ['pdu1', 'Major'],
      ['pdu2', 'Major'],
      ['pdu3', 'Major'],
    ]);
    expect(alerts[0].raw_json.load).toBeNull();
    expect(a.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('audits an event whose timestamp cannot be stored with the receive time and the flag', async () => {
    await addRule(svc.pool, { match_string: 'x' });
    const a = await start();
    const before = Date.now();
    await pushEvents(a.redis, a.keys, [
      event({ message: 'x', timestamp: 'yesterday at noon' }),
      event({ message: 'x', timestamp: '2026-02-31T00:00:00Z' }),
      event({ message: 'x', timestamp: '3026-01-01T00:00:00Z' }),
    ]);
    await drained(a.redis, a.keys);
    const rows = await auditRows(svc.pool);
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r.event_timestamp_substituted).toBe(true);
      expect(r.event_timestamp.getTime()).toBeGreaterThanOrEqual(before - 1000);
    }
    expect(await census(a.redis, a.keys)).toMatchObject({ dlq: 0 });
    expect(await metricValue(a.registry, 'mutt_alerter_timestamp_substituted_total')).toBe(3);
  });

  it('creates the partition of an older month on demand', async () => {
    await addRule(svc.pool, { match_string: 'x' });
    const a = await start();
    const d = new Date();
    const old = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 5, 15, 8)).toISOString();
    await pushEvents(a.redis, a.keys, [event({ message: 'x', timestamp: old })]);
    await drained(a.redis, a.keys);
    const rows = await auditRows(svc.pool);
    expect(rows.map((r) => [r.event_timestamp.toISOString(), r.event_timestamp_substituted])).toEqual([
      [old, null],
    ]);
  });
});

describe('unhandled events', () => {
  it('raises one meta-alert at the threshold, naming the host and its team, then suppresses', async () => {
    await addRule(svc.pool, { match_string: 'never-matches-anything' });
    await svc.pool.query("INSERT INTO device_teams (hostname, team_assignment) VALUES ('edge7', 'WAN')");
    const a = await start({ UNHANDLED_THRESHOLD: '5', UNHANDLED_EXPIRY_SECONDS: '600' });
    // Seven messages of one template (interface numbers differ) and one of another.
    const evs = Array.from({ length: 7 }, (_, i) =>
      event({ hostname: 'edge7', message: `Gi0/${i} flapped 3 times` }),
    );
    await pushEvents(a.redis, a.keys, [...evs, event({ hostname: 'edge7', message: 'fan tray removed' })]);
    await drained(a.redis, a.keys);
    const alerts = await alertsOf(a);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      hostname: 'edge7',
      team_assignment: 'WAN',
      handling: 'unhandled',
      rule_id: null,
      message_body:
        "[MUTT] Detected 5 unhandled messages in 600s from 'edge7'. Sample message: Gi0/4 flapped 3 times",
    });
    expect(await auditRows(svc.pool)).toEqual([]);
    const keys = await a.redis.keys(`${a.keys.prefix}:unhandled:edge7:*`);
    expect(keys.filter((k) => k.endsWith(':triggered'))).toHaveLength(1);
    // The suppression marker lives for the expiry; the other template keeps its own count.
    const triggered = keys.find((k) => k.endsWith(':triggered'))!;
    expect(await a.redis.ttl(triggered)).toBeGreaterThan(590);
    expect(await a.redis.get(triggered)).toBe('5');
    const counters = keys.filter((k) => !k.endsWith(':triggered'));
    expect(await Promise.all(counters.map((k) => a.redis.get(k)))).toEqual(['1']);
    expect(await metricValue(a.registry, 'mutt_alerter_unhandled_meta_alerts_total')).toBe(1);
    expect(
      await metricValue(a.registry, 'mutt_alerter_events_processed_total', { status: 'unhandled' }),
    ).toBe(8);
  });

  it('uses UNHANDLED_DEFAULT_TEAM without a team, and UNHANDLED_SIGNATURE=exact counts exact messages', async () => {
    await addRule(svc.pool, { match_string: 'zzz' });
    const a = await start({ UNHANDLED_THRESHOLD: '3', UNHANDLED_SIGNATURE: 'exact' });
    await pushEvents(a.redis, a.keys, [
      ...Array.from({ length: 3 }, (_, i) => event({ hostname: 'sw9', message: `port ${i} err` })),
      ...Array.from({ length: 3 }, () => event({ hostname: 'sw9', message: 'port 9 err' })),
    ]);
    await drained(a.redis, a.keys);
    const alerts = await alertsOf(a);
    expect(
      alerts.map((x) => [x.team_assignment, x.message_body.endsWith('Sample message: port 9 err')]),
    ).toEqual([['NETO', true]]);
  });

  it('counts at most UNHANDLED_MAX_SIGNATURES kinds per host: a flood of random messages folds into one overflow counter', async () => {
    await addRule(svc.pool, { match_string: 'zzz' });
    const a = await start({
      UNHANDLED_THRESHOLD: '10',
      UNHANDLED_SIGNATURE: 'exact',
      UNHANDLED_MAX_SIGNATURES: '5',
      UNHANDLED_EXPIRY_SECONDS: '600',
    });
    const garbage = Array.from({ length: 300 }, (_, i) =>
      event({ hostname: 'flood', message: `\u0001${Math.random().toString(36)}-${i}` }),
    );
    await pushEvents(a.redis, a.keys, [...garbage, event({ hostname: 'calm', message: 'lone message' })]);
    await drained(a.redis, a.keys);
    const keys = (await a.redis.keys(`${a.keys.prefix}:unhandled*`)).sort();
    const flood = keys.filter((k) => k.startsWith(`${a.keys.prefix}:unhandled:flood:`));
    // Five signatures counted, the other 295 together: the overflow counter reached the threshold.
    expect(flood).toHaveLength(6);
    expect(flood).toContain(a.keys.unhandledTriggered('flood', 'overflow'));
    expect(await a.redis.scard(a.keys.unhandledSignatures('flood'))).toBe(5);
    expect(await a.redis.ttl(a.keys.unhandledSignatures('flood'))).toBeGreaterThan(590);
    expect(keys.filter((k) => k.startsWith(`${a.keys.prefix}:unhandled:calm:`))).toHaveLength(1);
    expect(await metricValue(a.registry, 'mutt_alerter_unhandled_folded_total')).toBe(295);
    const alerts = await alertsOf(a);
    expect(alerts.map((x) => x.signature)).toEqual(['flood:unhandled:overflow']);
    expect(
      a.lines.some((l) =>
        l.msg.startsWith('a host sent more distinct unhandled messages than UNHANDLED_MAX_SIGNATURES'),
      ),
    ).toBe(true);
  });

  it('follows a lowered threshold from the dynamic configuration', async () => {
    await addRule(svc.pool, { match_string: 'zzz' });
    const a = await start({ UNHANDLED_THRESHOLD: '100' });
    await a.redis.set(a.keys.config('unhandled_threshold'), '2');
    await a.redis.publish(a.keys.configUpdates, 'unhandled_threshold');
    await until(() => a.alerter.dynamic.get('unhandled_threshold') === 2, 5000, 'threshold updated');
    await pushEvents(a.redis, a.keys, [
      event({ hostname: 'h1', message: 'odd' }),
      event({ hostname: 'h1', message: 'odd' }),
    ]);
    await drained(a.redis, a.keys);
    expect(await alertsOf(a)).toHaveLength(1);
    // An invalid value falls back to the static setting with a warning.
    await a.redis.set(a.keys.config('unhandled_threshold'), 'lots');
    await a.redis.publish(a.keys.configUpdates, 'unhandled_threshold');
    await until(() => a.alerter.dynamic.get('unhandled_threshold') === 100, 5000, 'fallback');
    expect(
      a.lines.some((l) => l.msg === 'invalid dynamic configuration value; using the static setting'),
    ).toBe(true);
  });
});

describe('rule cache', () => {
  it('reloads on a change notification (a rule added with SQL) and on request (SIGHUP)', async () => {
    await addRule(svc.pool, { match_string: 'first' });
    const a = await start({ CACHE_RELOAD_INTERVAL: '3600' });
    expect(a.alerter.rules?.matcher.size).toBe(1);
    await addRule(svc.pool, { match_string: 'second' });
    await until(() => a.alerter.rules?.matcher.size === 2, 10_000, 'reloaded by the notification');
    await svc.pool.query("INSERT INTO development_hosts (hostname) VALUES ('lab1')");
    await until(() => a.alerter.rules?.devHosts.has('lab1') === true, 10_000, 'dev hosts reloaded');
    const loads = () => a.lines.filter((l) => l.msg === 'rules loaded').length;
    const before = loads();
    a.alerter.requestReload();
    await until(() => loads() > before, 10_000, 'reloaded on request');
  });

  it('uses a rule added after its first load but before it listened for changes', async () => {
    const a = await start({ CACHE_RELOAD_INTERVAL: '3600' }, { wait: false });
    // Checked-out connections (pool.connect() without a callback): the first loads the rules, the
    // second is the one the alerter LISTENs on. Hold that one until a rule was added: that change is
    // never notified to this alerter.
    const connect = a.pool.connect.bind(a.pool) as (...args: unknown[]) => unknown;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let checkouts = 0;
    (a.pool as unknown as { connect: (...args: unknown[]) => unknown }).connect = (...args: unknown[]) =>
      args.length === 0 && ++checkouts === 2 ? gate.then(() => connect()) : connect(...args);
    try {
      await until(() => a.lines.some((l) => l.msg === 'alerter started'), 30_000, 'alerter started');
      expect(a.alerter.rules?.matcher.size).toBe(0);
      await addRule(svc.pool, { match_string: 'down' });
    } finally {
      open();
    }
    await until(() => a.alerter.rules?.matcher.size === 1, 10_000, 'the rule picked up once listening');
  });

  it('refuses a rule with an invalid or Python-only regex or an empty team, with the reason; the others work', async () => {
    const bad1 = await addRule(svc.pool, {
      match_type: 'regex',
      match_string: '(?P<x>a)(?P=x)',
      priority: 1,
    });
    const bad2 = await addRule(svc.pool, { match_type: 'regex', match_string: 'foo(?=bar', priority: 1 });
    const bad3 = await addRule(svc.pool, { match_string: 'down', team_assignment: '', priority: 1 });
    const good = await addRule(svc.pool, { match_string: 'down', priority: 2 });
    const a = await start();
    const refused = a.lines.filter((l) => l.msg === 'rule refused; the other rules are in use');
    expect(refused.map((l) => [l.rule_id, l.reason])).toEqual([
      [bad1, expect.stringMatching(/backreferences/)],
      [bad2, expect.stringMatching(/lookahead/)],
      [bad3, 'team_assignment is empty'],
    ]);
    await pushEvents(a.redis, a.keys, [event({ message: 'foobar aa down' })]);
    await drained(a.redis, a.keys);
    expect((await auditRows(svc.pool)).map((r) => r.matched_rule_id)).toEqual([good]);
    expect(await metricValue(a.registry, 'mutt_alerter_cache_rules_rejected')).toBe(3);
  });

  it('keeps the last good rules when a reload fails, and counts the failure', async () => {
    await addRule(svc.pool, { match_string: 'down' });
    const a = await start();
    await svc.pool.query('ALTER TABLE alert_rules RENAME TO alert_rules_away');
    try {
      expect(await a.alerter.reload('test')).toBe(false);
      expect(await metricValue(a.registry, 'mutt_alerter_cache_reload_failures_total')).toBe(1);
      expect(a.alerter.rules?.matcher.size).toBe(1);
    } finally {
      await svc.pool.query('ALTER TABLE alert_rules_away RENAME TO alert_rules');
    }
    await pushEvents(a.redis, a.keys, [event({ message: 'down' })]);
    await drained(a.redis, a.keys);
    expect(await auditRows(svc.pool)).toHaveLength(1);
  });
});

describe('housekeeping', () => {
  it('drops audit partitions older than AUDIT_RETENTION_MONTHS and keeps the others', async () => {
    const d = new Date();
    const month = (offset: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
    const name = (offset: number) => {
      const m = month(offset);
      return `event_audit_log_${m.getUTCFullYear()}_${String(m.getUTCMonth() + 1).padStart(2, '0')}`;
    };
    for (const offset of [-14, -13, -12, -11])
      await svc.pool.query('SELECT create_monthly_partition($1::date)', [
        month(offset).toISOString().slice(0, 10),
      ]);
    const a = await start({ AUDIT_RETENTION_MONTHS: '12' });
    await until(
      () => a.lines.some((l) => l.msg === 'dropped audit-log partitions past AUDIT_RETENTION_MONTHS'),
      10_000,
      'dropped',
    );
    const left = (
      await svc.pool.query<{ t: string }>(
        "SELECT tablename AS t FROM pg_tables WHERE tablename LIKE 'event_audit_log_%'",
      )
    ).rows.map((r) => r.t);
    expect(left).not.toContain(name(-14));
    expect(left).not.toContain(name(-13));
    expect(left).not.toContain(name(-12));
    expect(left).toContain(name(-11));
    expect(left).toContain(name(0));
    expect(left).toContain(name(2));
  });

  it('decides again the batches in hand when their matched rule was deleted under them', async () => {
    const gone = await addRule(svc.pool, { match_string: 'down', priority: 10 });
    const kept = await addRule(svc.pool, { match_string: 'link', priority: 200 });
    // Long reload interval: only the foreign-key refusal tells this alerter the rule is gone.
    const a = await start({ CACHE_RELOAD_INTERVAL: '3600' });
    // Deleted without the change notification (triggers off for this session): the cache keeps it.
    const c = await svc.pool.connect();
    try {
      await c.query('SET session_replication_role = replica');
      await c.query('DELETE FROM alert_rules WHERE id = $1', [gone]);
    } finally {
      await c.query('RESET session_replication_role');
      c.release();
    }
    // Several batches: the first (all matching the deleted rule) is refused while the next (none
    // matching it) are audited. Those are settled one by one (the refused batch still lies at the
    // tail of the processing list) and the refused one is decided again with the reloaded rules:
    // every event is audited exactly once.
    const n = 3000;
    const messages = Array.from({ length: n }, (_, i) => (i < 500 ? `link down ${i}` : `link up ${i}`));
    await pushEvents(
      a.redis,
      a.keys,
      messages.map((message) => event({ message })),
    );
    await drained(a.redis, a.keys);
    const rows = await auditRows(svc.pool);
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((r) => r.matched_rule_id))).toEqual(new Set([kept]));
    expect(rows.map((r) => JSON.parse(r.raw_message).message as string).sort()).toEqual([...messages].sort());
    expect(a.lines.some((l) => l.msg === 'rules loaded' && l.why === 'a matched rule was deleted')).toBe(
      true,
    );
  });

  it('audits two batches at once, every event once', async () => {
    await addRule(svc.pool, { match_string: 'down', prod_handling: 'Ignore' });
    // Every audit COPY takes at least 300 ms (a statement trigger that sleeps), so that batches in
    // flight are seen in pg_stat_activity.
    await svc.pool.query(`CREATE OR REPLACE FUNCTION mutt_test_slow_audit() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$`);
    await svc.pool.query(`CREATE TRIGGER mutt_test_slow_audit AFTER INSERT ON event_audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION mutt_test_slow_audit()`);
    try {
      const a = await start({ ALERTER_BATCH_SIZE: '100' });
      const n = 1000;
      await pushEvents(
        a.redis,
        a.keys,
        Array.from({ length: n }, (_, i) => event({ message: `down ${i}` })),
      );
      let most = 0;
      const watching = (async () => {
        for (;;) {
          const r = await svc.pool.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'COPY event_audit_log%' AND state = 'active'",
          );
          most = Math.max(most, Number(r.rows[0]!.n));
          if ((await auditRows(svc.pool)).length >= n) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await drained(a.redis, a.keys, 60_000);
      await watching;
      expect(most).toBe(2);
      const rows = await auditRows(svc.pool);
      expect(rows).toHaveLength(n);
      expect(new Set(rows.map((r) => JSON.parse(r.raw_message).message)).size).toBe(n);
    } finally {
      await svc.pool.query('DROP TRIGGER IF EXISTS mutt_test_slow_audit ON event_audit_log');
      await svc.pool.query('DROP FUNCTION IF EXISTS mutt_test_slow_audit()');
    }
  }, 90_000);

  it('reads the processing list whole again when it holds an event the worker does not know of', async () => {
    // Audited, not forwarded: the alert queue stays below the shed threshold.
    await addRule(svc.pool, { match_string: 'down', prod_handling: 'Ignore' });
    const pod = `orphan${Date.now() % 100000}`;
    const a = await start({}, { pod });
    const n = 20_000;
    await pushEvents(
      a.redis,
      a.keys,
      Array.from({ length: n }, (_, i) => event({ message: `down ${i}` })),
    );
    await until(async () => (await auditRows(svc.pool)).length >= 2000, 30_000, 'the backlog under way');
    // An event in the processing list that no batch in hand holds (as after a lost reply to a take).
    await a.redis.lpush(a.keys.alerterProcessing(pod), JSON.stringify(event({ message: 'down orphan' })));
    await drained(a.redis, a.keys, 60_000);
    const messages = (await auditRows(svc.pool)).map((r) => JSON.parse(r.raw_message).message as string);
    expect(messages).toHaveLength(n + 1);
    // Taken with the next plain take, not left until the backlog is gone.
    expect(messages.indexOf('down orphan')).toBeLessThan(n - 5000);
  }, 90_000);

  it('pushes nothing for a batch a janitor returned while it was being processed', async () => {
    await addRule(svc.pool, { match_string: 'down', prod_handling: 'Page_and_ticket' });
    const a = await start();
    // The batch is no longer in this worker's processing list (a janitor returned it to the queue
    // during a heartbeat gap): the whole-batch settle's guard fails, the item-by-item settle finds
    // nothing, and no alert is pushed (the events will be processed again from the queue).
    await a.alerter.process([
      JSON.stringify(event({ message: 'down one' })),
      JSON.stringify(event({ message: 'down two' })),
    ]);
    expect(await a.redis.llen(a.keys.alertQueue)).toBe(0);
    expect(a.lines.some((l) => l.msg === 'events were no longer in the processing list when settled')).toBe(
      true,
    );
    // The settle of a batch that is in the list still pushes its alerts.
    await pushEvents(a.redis, a.keys, [event({ message: 'down three' })]);
    await until(async () => (await a.redis.llen(a.keys.alertQueue)) === 1, 10_000, 'alert pushed');
  });

  it("returns the processing list of a dead alerter (a Python node's too) to the ingest queue after a full TTL", async () => {
    await addRule(svc.pool, { match_string: 'down' });
    const env = subPrefixEnv(svc);
    const p = env.MUTT_KEY_PREFIX;
    // A Python alerter died holding two events: its list stays, its heartbeat expired.
    await svc.redis.lpush(
      `${p}:processing:alerter:alerter-7f9c4-python`,
      JSON.stringify(event({ message: 'down a' })),
      JSON.stringify(event({ message: 'down b' })),
    );
    const a = await start(env);
    await until(async () => (await auditRows(svc.pool)).length === 2, 20_000, 'recovered and audited');
    expect(
      a.lines.some(
        (l) => l.msg === 'returned the events of an alerter whose heartbeat stopped to the ingest queue',
      ),
    ).toBe(true);
    expect(await metricValue(a.registry, 'mutt_alerter_recovered_events_total')).toBe(2);
    expect(await svc.redis.exists(`${p}:processing:alerter:alerter-7f9c4-python`)).toBe(0);
  });
});
