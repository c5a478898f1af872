// The admin services the browser UI needs beyond the API's: the per-minute series of the dashboard's
// 24 h chart, the top unhandled signatures with a sample and a suggested rule, CSV imports of
// development hosts and teams with a result per line, and one audit row by id — against the
// harness's real Redis and PostgreSQL.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AdminContext,
  configRecordId,
  csvFields,
  eventsPerMinute,
  explainEvent,
  getAuditLog,
  importDevHosts,
  importTeams,
  queryAuditLogs,
  queryConfigAudit,
  setDynamicConfig,
  suggestRule,
  topUnhandled,
} from '../src/core/admin/index.ts';
import { messageTemplate, unhandledSignature } from '../src/core/alerter/template.ts';
import { compileRules } from '../src/core/alerter/rules.ts';
import { Keys } from '../src/core/protocol/keys.ts';
import { deleteKeys, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let ctx: AdminContext;
const actor = { changedBy: 'ui:test' };

beforeAll(async () => {
  svc = await useServices();
  const config = svc.config();
  ctx = { config, keys: new Keys(config), redis: svc.redis, pool: svc.pool, alerterPods: () => [] };
});
afterAll(async () => svc?.cleanup());
beforeEach(async () => {
  await deleteKeys(svc.redis, `${svc.prefix}:*`);
  await svc.pool.query('TRUNCATE development_hosts, device_teams, config_audit_log');
});

describe('eventsPerMinute', () => {
  it('reads one count per minute, oldest first, the last being the minute in progress', async () => {
    const now = new Date('2026-03-10T12:34:56Z');
    const c = { ...ctx, now: () => now };
    await svc.redis.set(ctx.keys.metrics1m('2026-03-10T12:34'), '7');
    await svc.redis.set(ctx.keys.metrics1m('2026-03-10T12:30'), '3');
    await svc.redis.set(ctx.keys.metrics1m('2026-03-09T12:35'), '11'); // the first minute of 24 h
    await svc.redis.set(ctx.keys.metrics1m('2026-03-09T12:34'), '99'); // one minute too old
    const s = await eventsPerMinute(c);
    expect(s.counts).toHaveLength(1440);
    expect(s.start).toBe('2026-03-09T12:35:00.000Z');
    expect(s.counts[0]).toBe(11);
    expect(s.counts[1439]).toBe(7);
    expect(s.counts[1435]).toBe(3);
    expect(s.counts.reduce((a, b) => a + b, 0)).toBe(21);
  });
});

describe('topUnhandled', () => {
  it('groups the counters by signature over hosts, with a recent sample and a rule that matches it', async () => {
    const msgA = (i: number) => `%LINK-3-UPDOWN: Interface Gi0/${i}, changed state to down`;
    const sigA = unhandledSignature(msgA(1), 'template');
    const sigB = unhandledSignature('fan tray removed', 'template');
    // An IPv6 host name (with colons) and a triggered counter.
    await svc.redis.set(ctx.keys.unhandled('sw1', sigA), '40');
    await svc.redis.set(ctx.keys.unhandledTriggered('2001:db8::7', sigA), '100');
    await svc.redis.set(ctx.keys.unhandled('sw2', sigB), '5');
    await svc.redis.lpush(
      ctx.keys.recentEvents,
      JSON.stringify({
        hostname: 'sw1',
        timestamp: '2026-03-10T12:00:00Z',
        message: msgA(7),
        _correlation_id: 'c-1',
      }),
    );
    const r = await topUnhandled(ctx, { limit: 5 });
    expect(r.complete).toBe(true);
    expect(r.keys).toBe(3);
    expect(r.signatures.map((s) => [s.signature, s.count, s.triggered])).toEqual([
      [sigA, 140, true],
      [sigB, 5, false],
    ]);
    const a = r.signatures[0]!;
    expect(a.hosts).toEqual([
      { hostname: '2001:db8::7', count: 100, triggered: true },
      { hostname: 'sw1', count: 40, triggered: false },
    ]);
    expect(a.sample).toEqual({ hostname: 'sw1', message: msgA(7), correlation_id: 'c-1' });
    expect(a.template).toBe(messageTemplate(msgA(7)));
    expect(a.suggestion?.match_type).toBe('regex');
    // The suggestion is a rule the alerter runs, and it matches other messages of the kind.
    const compiled = compileRules([
      {
        id: 1,
        match_string: a.suggestion!.match_string,
        trap_oid: null,
        syslog_severity: null,
        match_type: 'regex',
        priority: 1,
        prod_handling: 'Ignore',
        dev_handling: 'Ignore',
        team_assignment: 'NETO',
      },
    ]);
    expect(compiled.rejected).toEqual([]);
    expect(new RegExp(a.suggestion!.match_string, 'i').test(msgA(42))).toBe(true);
    expect(r.signatures[1]!.sample).toBeNull();
  });

  it('suggests contains for a message where nothing varies, and keeps regexes within 255 characters', () => {
    expect(suggestRule('fan tray removed', 'fan tray removed')).toEqual({
      match_type: 'contains',
      match_string: 'fan tray removed',
    });
    const long = `${'x'.repeat(250)} 12 and more`;
    const s = suggestRule(long, messageTemplate(long));
    expect(s.match_string.length).toBeLessThanOrEqual(255);
  });

  it('stops at maxKeys and says so', async () => {
    for (let i = 0; i < 30; i++) await svc.redis.set(ctx.keys.unhandled(`h${i}`, 'a'.repeat(16)), '1');
    const r = await topUnhandled(ctx, { maxKeys: 10 });
    expect(r.complete).toBe(false);
    expect(r.keys).toBeLessThanOrEqual(10);
  });
});

describe('CSV imports', () => {
  it('parses quoted fields as spreadsheets write them', () => {
    expect(csvFields('a, b ,"c,d","e ""q"""')).toEqual(['a', 'b', 'c,d', 'e "q"']);
    expect(csvFields('')).toEqual(['']);
  });

  it('imports development hosts with a result per line, audited, in one transaction', async () => {
    await svc.pool.query("INSERT INTO development_hosts VALUES ('lab-sw0')");
    const r = await importDevHosts(
      ctx,
      'hostname\nlab-sw1\n\n# a comment\nlab-sw2\nlab-sw1\nlab-sw0\n"bad\u0007host"\na,b\n',
      actor,
    );
    expect(r.lines.map((l) => [l.line, l.status])).toEqual([
      [1, 'skipped'],
      [2, 'added'],
      [4, 'skipped'],
      [5, 'added'],
      [6, 'duplicate'],
      [7, 'unchanged'],
      [8, 'invalid'],
      [9, 'invalid'],
    ]);
    expect(r.lines[6]!.message).toMatch(/hostname: control characters are not allowed/);
    expect(r.lines[7]!.message).toMatch(/expected one field/);
    expect(r.counts).toMatchObject({ added: 2, unchanged: 1, invalid: 2, duplicate: 1, skipped: 2 });
    const rows = await svc.pool.query('SELECT hostname FROM development_hosts ORDER BY 1');
    expect(rows.rows.map((x) => x.hostname)).toEqual(['lab-sw0', 'lab-sw1', 'lab-sw2']);
    const audit = await svc.pool.query(
      "SELECT new_values->>'hostname' AS h FROM config_audit_log WHERE table_name = 'development_hosts' ORDER BY id",
    );
    expect(audit.rows.map((x) => x.h)).toEqual(['lab-sw1', 'lab-sw2']);
  });

  it('imports teams: new hosts added, known hosts moved, the same team unchanged', async () => {
    await svc.pool.query("INSERT INTO device_teams VALUES ('r1', 'NETO'), ('r2', 'NETO')");
    const r = await importTeams(ctx, 'hostname,team_assignment\nr1,NETO\nr2,WAN\nr3,DC\nr4\nr5,  \n', actor);
    expect(r.lines.map((l) => [l.line, l.status, l.message])).toEqual([
      [1, 'skipped', 'header'],
      [2, 'unchanged', 'already in team NETO'],
      [3, 'updated', 'moved from NETO to WAN'],
      [4, 'added', 'added to DC'],
      [5, 'invalid', 'expected two fields (hostname,team_assignment), got 1'],
      [6, 'invalid', 'team_assignment: must not be empty'],
    ]);
    const rows = await svc.pool.query('SELECT hostname, team_assignment FROM device_teams ORDER BY 1');
    expect(rows.rows).toEqual([
      { hostname: 'r1', team_assignment: 'NETO' },
      { hostname: 'r2', team_assignment: 'WAN' },
      { hostname: 'r3', team_assignment: 'DC' },
    ]);
    const audit = await svc.pool.query(
      "SELECT operation, old_values, new_values FROM config_audit_log WHERE table_name = 'device_teams' ORDER BY id",
    );
    expect(audit.rows).toEqual([
      {
        operation: 'UPDATE',
        old_values: { hostname: 'r2', team_assignment: 'NETO' },
        new_values: { hostname: 'r2', team_assignment: 'WAN' },
      },
      { operation: 'CREATE', old_values: null, new_values: { hostname: 'r3', team_assignment: 'DC' } },
    ]);
  });
});

describe('getAuditLog and a config key history', () => {
  it('reads one audit row by id, with or without its timestamp', async () => {
    const rule = await svc.pool.query<{ id: number }>(
      "INSERT INTO alert_rules (match_string, prod_handling, dev_handling, team_assignment) VALUES ('x', 'Ignore', 'Ignore', 'T') RETURNING id",
    );
    await svc.pool.query(
      `INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision, raw_message)
       VALUES (now(), 'h<1>', $1, 'Ignore', '{"message":"m"}')`,
      [rule.rows[0]!.id],
    );
    const page = await queryAuditLogs(ctx, { limit: '1' });
    const row = page.logs[0]!;
    expect(await getAuditLog(ctx, row.id)).toEqual(row);
    expect(await getAuditLog(ctx, String(row.id), row.event_timestamp)).toEqual(row);
    await expect(getAuditLog(ctx, row.id + 1000)).rejects.toMatchObject({ code: 'not_found' });
    await expect(getAuditLog(ctx, 'x')).rejects.toMatchObject({ code: 'invalid' });
  });

  it('finds a dynamic key’s changes by its record id', async () => {
    await setDynamicConfig(ctx, 'unhandled_threshold', { value: 50, reason: 'noisy week' }, actor);
    await setDynamicConfig(ctx, 'alerter_defer_sleep_ms', { value: 100 }, actor);
    const h = await queryConfigAudit(
      ctx,
      { record_id: String(configRecordId('unhandled_threshold')) },
      'dynamic_config',
    );
    expect(h.changes.map((c) => [c.new_values, c.reason])).toEqual([
      [{ key: 'unhandled_threshold', value: '50' }, 'noisy week'],
    ]);
  });
});

describe('explainEvent', () => {
  it('says which active rule wins a pasted message or event, every rule that matches, and the draft’s effect', async () => {
    await svc.pool.query('TRUNCATE event_audit_log, alert_rules CASCADE');
    const ins = await svc.pool.query<{ id: number }>(
      `INSERT INTO alert_rules (match_type, match_string, priority, prod_handling, dev_handling, team_assignment, is_active)
       VALUES ('contains', 'UPDOWN', 20, 'Page_and_ticket', 'Ignore', 'NETO', true),
              ('regex', 'link-[0-9]-updown', 10, 'Ticket_only', 'Ignore', 'WAN', true),
              ('contains', 'UPDOWN', 1, 'Ignore', 'Ignore', 'X', false)
       RETURNING id`,
    );
    const [a, b] = ins.rows.map((r) => r.id);
    await svc.pool.query("INSERT INTO development_hosts VALUES ('lab-1')");
    const msg = '%LINK-3-UPDOWN: Interface Gi0/1, changed state to down';
    const r = await explainEvent(ctx, { event: msg });
    expect(r.event).toMatchObject({ hostname: 'example-host', message: msg, environment: 'prod' });
    expect(r.current).toEqual({ rule_id: b, handling: 'Ticket_only', forwarded: true });
    expect(r.matching).toEqual([b, a]);
    expect(r.proposed).toBeUndefined();

    const j = await explainEvent(ctx, {
      event: JSON.stringify({ hostname: 'lab-1', message: msg, timestamp: '2026-01-01T00:00:00Z' }),
      rule: {
        match_string: 'Gi0/1',
        priority: 1,
        prod_handling: 'Page_only',
        dev_handling: 'Log_only',
        team_assignment: 'T',
      },
    });
    expect(j.event.environment).toBe('dev');
    expect(j.current.handling).toBe('Ignore');
    expect(j.proposed).toEqual({ rule_id: 'draft', handling: 'Log_only', forwarded: false });
    expect(j.draft_matches).toBe(true);

    const d = await explainEvent(ctx, { event: msg, rule_id: b, delete: true });
    expect(d.proposed).toMatchObject({ rule_id: a });
    await expect(
      explainEvent(ctx, {
        event: msg,
        rule: {
          match_type: 'regex',
          match_string: '(',
          prod_handling: 'Ignore',
          dev_handling: 'Ignore',
          team_assignment: 'T',
        },
      }),
    ).rejects.toMatchObject({ code: 'invalid', fields: [{ field: 'rule.match_string' }] });
    await expect(explainEvent(ctx, { event: '  ' })).rejects.toMatchObject({
      fields: [{ field: 'event', message: 'must not be empty' }],
    });
  });
});
