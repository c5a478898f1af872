// The admin API in process (app.request) against the harness's real Redis and PostgreSQL and a real
// alerter: every endpoint, the bad-input table, optimistic concurrency, and "a write is live when it
// answers" (a rule created through the API matches the very next event).
import { Writable } from 'node:stream';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdminContext } from '../src/core/admin/context.ts';
import { Keys } from '../src/core/protocol/keys.ts';
import { createLogger } from '../src/runtime/logging.ts';
import { createWebApp, type WebApp } from '../src/web/app.ts';
import {
  auditRows,
  drained,
  event,
  pushEvents,
  resetTables,
  type RunningAlerter,
  startAlerter,
} from './harness/alerting.ts';
import { freePort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';

const KEY = 'admin-key-current-0123456789';
const OLD_KEY = 'admin-key-previous-987654321';
let svc: TestServices;
let alerter: RunningAlerter;
let app: WebApp;
let ctx: AdminContext;
const logLines: string[] = [];
const registry = new Registry();
const POD = 'apitest-0';

beforeAll(async () => {
  svc = await useServices();
  const env = { MUTT_KEY_PREFIX: `${svc.prefix}:api` };
  const config = svc.config(env);
  alerter = await startAlerter(svc, env, { pod: POD });
  const log = createLogger({
    level: 'DEBUG',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  });
  ctx = {
    config,
    keys: new Keys(config),
    redis: svc.redis,
    pool: svc.pool,
    log,
    alerterPods: () => [POD],
    node: { roles: config.roles, startedAt: Date.now() - 5000, pod: 'node-a' },
  };
  app = createWebApp({
    ctx,
    apiKey: KEY,
    previousApiKey: OLD_KEY,
    registry,
    log,
    health: async () => ({ status: 'healthy', service: 'mutt' }),
    metricsText: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  });
});
afterAll(async () => {
  await alerter?.stop();
  await svc.cleanup();
});
beforeEach(async () => {
  await resetTables(svc.pool);
  await svc.pool.query('TRUNCATE config_audit_log');
});

type Init = { body?: unknown; headers?: Record<string, string>; key?: string | null; raw?: string };
async function call(method: string, path: string, o: Init = {}) {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.key !== null) headers['X-API-KEY'] = o.key ?? KEY;
  let body: string | undefined = o.raw;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await app.request(path, { method, headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

const rule = (over: Record<string, unknown> = {}) => ({
  match_string: '%LINK-3-UPDOWN',
  match_type: 'contains',
  priority: 10,
  prod_handling: 'Page_and_ticket',
  dev_handling: 'Ignore',
  team_assignment: 'NETO',
  ...over,
});

describe('authentication', () => {
  it('/health and /metrics are public; everything else needs the key', async () => {
    expect((await call('GET', '/health', { key: null })).status).toBe(200);
    expect((await call('GET', '/metrics', { key: null })).status).toBe(200);
    for (const path of ['/api/v1/rules', '/api/v2/status', '/api/openapi.json', '/api/v2/nope']) {
      const r = await call('GET', path, { key: null });
      expect(r.status, path).toBe(401);
      expect(r.json.error).toMatch(/Unauthorized/);
    }
  });

  it.each([
    ['no key', { key: null }],
    ['a wrong key', { key: 'wrong-key-123' }],
    ['a wrong key in the query string', { key: null, query: 'api_key=wrong-key-456' }],
  ])('%s: 401 with {"error"}', async (_name, o: { key: string | null; query?: string }) => {
    const r = await call('GET', `/api/v2/rules${o.query ? `?${o.query}` : ''}`, { key: o.key });
    expect(r.status).toBe(401);
    expect(Object.keys(r.json)).toEqual(['error', 'correlation_id']);
  });

  it('accepts the key in the query string (Python convenience) and the previous key (rotation)', async () => {
    expect((await call('GET', `/api/v2/rules?api_key=${KEY}`, { key: null })).status).toBe(200);
    expect((await call('GET', '/api/v2/rules', { key: OLD_KEY })).status).toBe(200);
  });

  it('never logs a key, right or wrong, even from a query string', async () => {
    logLines.length = 0;
    await call('GET', `/api/v2/rules?api_key=${KEY}&hostname=x`, { key: null });
    await call('GET', '/api/v2/rules?api_key=wrong-key-789', { key: null });
    await call('GET', '/api/v2/rules', { key: 'wrong-key-in-header' });
    const all = logLines.join('');
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    for (const k of [KEY, 'wrong-key-789', 'wrong-key-in-header']) expect(all).not.toContain(k);
    expect(all).toContain('api_key=[redacted]');
  });

  it('names the caller by key fingerprint in audit rows', async () => {
    await call('POST', '/api/v2/rules', { body: rule({ reason: 'who' }) });
    await call('POST', '/api/v2/dev-hosts', { body: { hostname: 'lab1' }, key: OLD_KEY });
    const rows = (await svc.pool.query('SELECT changed_by FROM config_audit_log ORDER BY id')).rows;
    expect(rows[0].changed_by).toMatch(/^api:[0-9a-f]{8}$/);
    expect(rows[1].changed_by).toMatch(/^api:[0-9a-f]{8}$/);
    expect(rows[0].changed_by).not.toBe(rows[1].changed_by);
    expect(JSON.stringify(rows)).not.toContain(KEY.slice(0, 12));
  });
});

describe('versions', () => {
  it('serves every route under /api/v1 (deprecated) and /api/v2 with the version headers', async () => {
    const v1 = await call('GET', '/api/v1/version');
    const v2 = await call('GET', '/api/v2/version');
    expect(v1.status).toBe(200);
    expect(v1.headers.get('x-api-deprecated')).toBe('true');
    expect(v2.headers.get('x-api-deprecated')).toBe('false');
    expect(v2.headers.get('x-api-version')).toBe('v2.5');
    expect(v2.headers.get('x-api-supported-versions')).toBe('v2.5, v2.0, v1.0');
    expect(v2.json).toMatchObject({ api_version: 'v2.5' });
  });
});

describe('rules', () => {
  it('create, list, get (ETag), update, delete — each write audited and applied', async () => {
    const c = await call('POST', '/api/v2/rules', {
      body: rule({ name: 'interface down', reason: 'new core' }),
    });
    expect(c.status).toBe(201);
    expect(c.json).toMatchObject({
      message: 'Rule created successfully',
      applied: true,
      rule: { name: 'interface down' },
    });
    expect(c.json.apply).toMatchObject({ applied: true, alerters: 1 });
    const id = c.json.id as number;
    expect(c.headers.get('etag')).toMatch(/^"[0-9a-f]{16}"$/);

    const list = await call('GET', '/api/v1/rules');
    expect(list.json.rules.map((r: { id: number }) => r.id)).toEqual([id]);

    const g = await call('GET', `/api/v2/rules/${id}`);
    expect(g.json).toMatchObject({ id, match_string: '%LINK-3-UPDOWN', priority: 10, is_active: true });
    const etag = g.headers.get('etag')!;

    const u = await call('PUT', `/api/v2/rules/${id}`, {
      body: { priority: 20, reason: 'lower' },
      headers: { 'If-Match': etag },
    });
    expect(u.status).toBe(200);
    expect(u.json).toMatchObject({
      message: 'Rule updated successfully',
      applied: true,
      rule: { priority: 20 },
    });
    expect(u.headers.get('etag')).not.toBe(etag);

    const d = await call('DELETE', `/api/v2/rules/${id}`, {
      headers: { 'If-Match': u.headers.get('etag')! },
    });
    expect(d.status).toBe(200);
    expect(d.json).toMatchObject({ message: 'Rule deleted successfully', applied: true });
    expect((await call('GET', `/api/v2/rules/${id}`)).status).toBe(404);

    const audit = (
      await svc.pool.query(
        'SELECT operation, table_name, record_id, old_values, new_values, reason, correlation_id FROM config_audit_log ORDER BY id',
      )
    ).rows;
    expect(audit.map((a) => a.operation)).toEqual(['CREATE', 'UPDATE', 'DELETE']);
    expect(audit[0]).toMatchObject({
      table_name: 'alert_rules',
      record_id: id,
      reason: 'new core',
      old_values: null,
    });
    expect(audit[1].old_values.priority).toBe(10);
    expect(audit[1].new_values.priority).toBe(20);
    expect(audit[1].reason).toBe('lower');
    expect(audit[2].new_values).toBeNull();
    expect(audit.every((a) => typeof a.correlation_id === 'string' && a.correlation_id.length > 0)).toBe(
      true,
    );
  });

  it('a rule created through the API matches the event sent right after the answer', async () => {
    for (let i = 0; i < 5; i++) {
      await resetTables(svc.pool);
      const marker = `RACE-${i}-${Date.now()}`;
      const c = await call('POST', '/api/v2/rules', { body: rule({ match_string: marker }) });
      expect(c.json.applied).toBe(true);
      await pushEvents(alerter.redis, alerter.keys, [
        event({ hostname: `race${i}`, message: `${marker}: Interface Gi0/1 down` }),
      ]);
      await drained(alerter.redis, alerter.keys);
      const rows = await auditRows(svc.pool);
      expect(rows.map((r) => [r.hostname, r.matched_rule_id])).toEqual([[`race${i}`, c.json.id]]);
    }
  });

  it('without the alerters acknowledging within the bound, answers applied: false (the row is stored)', async () => {
    const slow = createWebApp({
      ctx: { ...ctx, alerterPods: () => ['no-such-pod'], applyTimeoutMs: 200 },
      apiKey: KEY,
      registry: new Registry(),
      log: createLogger({ level: 'ERROR', destination: process.stderr }),
      health: async () => ({ status: 'healthy' }),
      metricsText: async () => ({ contentType: 'text/plain', body: '' }),
    });
    const res = await slow.request('/api/v2/rules', {
      method: 'POST',
      headers: { 'X-API-KEY': KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify(rule()),
    });
    const j: any = await res.json();
    expect(res.status).toBe(201);
    expect(j).toMatchObject({ applied: false, apply: { applied: false, pending: ['no-such-pod'] } });
    expect(j.apply.waited_ms).toBeGreaterThanOrEqual(200);
  });

  it('stale If-Match: 412 with the current ETag; the row is unchanged', async () => {
    const c = await call('POST', '/api/v2/rules', { body: rule() });
    const stale = c.headers.get('etag')!;
    // Another operator (here: psql) changes the rule meanwhile.
    await svc.pool.query('UPDATE alert_rules SET priority = 5 WHERE id = $1', [c.json.id]);
    const current = (await call('GET', `/api/v2/rules/${c.json.id}`)).headers.get('etag');
    for (const [method, body] of [
      ['PUT', { priority: 50 }],
      ['DELETE', undefined],
    ] as const) {
      const r = await call(method, `/api/v2/rules/${c.json.id}`, { body, headers: { 'If-Match': stale } });
      expect(r.status).toBe(412);
      expect(r.headers.get('etag')).toBe(current);
      expect(r.json.current_etag).toBe(current);
      expect(r.json.error).toMatch(/changed since it was read/);
    }
    expect((await call('GET', `/api/v2/rules/${c.json.id}`)).json.priority).toBe(5);
  });

  it('a rule read with GET can be sent back whole with PUT (read-only fields ignored, the id checked)', async () => {
    const c = await call('POST', '/api/v2/rules', { body: rule() });
    const g = await call('GET', `/api/v2/rules/${c.json.id}`);
    const back = await call('PUT', `/api/v2/rules/${c.json.id}`, { body: { ...g.json, priority: 7 } });
    expect(back.status).toBe(200);
    expect(back.json.rule.priority).toBe(7);
    const other = await call('PUT', `/api/v2/rules/${c.json.id}`, { body: { ...g.json, id: c.json.id + 1 } });
    expect(other.status).toBe(400);
    expect(other.json.fields[0]).toMatchObject({ field: 'id' });
  });

  it('refuses to delete a rule that audit rows refer to, and says what to do instead', async () => {
    const c = await call('POST', '/api/v2/rules', { body: rule() });
    await pushEvents(alerter.redis, alerter.keys, [event({ message: '%LINK-3-UPDOWN: x' })]);
    await drained(alerter.redis, alerter.keys);
    const d = await call('DELETE', `/api/v2/rules/${c.json.id}`);
    expect(d.status).toBe(409);
    expect(d.json.error).toMatch(/deactivate it instead/);
  });
});

describe('bad input: each row answers precisely, never crashes', () => {
  it.each([
    ['unknown field', rule({ colour: 'red' }), 'colour', /unknown field/],
    ['wrong type', rule({ is_active: 'yes' }), 'is_active', /true or false/],
    [
      'missing required field',
      { match_string: 'x', prod_handling: 'Ignore', dev_handling: 'Ignore' },
      'team_assignment',
      /required/,
    ],
    ['priority "ten"', rule({ priority: 'ten' }), 'priority', /integer/],
    ['empty team', rule({ team_assignment: '  ' }), 'team_assignment', /must not be empty/],
    ['unknown match type', rule({ match_type: 'glob' }), 'match_type', /contains, regex, oid_prefix/],
    ['unknown handling', rule({ prod_handling: 'Email' }), 'prod_handling', /Page_and_ticket/],
    [
      'trap_oid not dotted',
      rule({ match_type: 'oid_prefix', match_string: null, trap_oid: '1.3.x' }),
      'trap_oid',
      /dotted numeric OID/,
    ],
    ['syslog_severity 8', rule({ syslog_severity: 8 }), 'syslog_severity', /0 to 7/],
    [
      'neither match_string nor trap_oid',
      rule({ match_string: null }),
      'match_string',
      /match_string or trap_oid/,
    ],
    [
      'unbalanced (',
      rule({ match_type: 'regex', match_string: 'Interface (Gi0' }),
      'match_string',
      /missing closing \)|invalid regex/,
    ],
    [
      'backreference',
      rule({ match_type: 'regex', match_string: '(a)\\1' }),
      'match_string',
      /backreferences/,
    ],
    ['lookahead', rule({ match_type: 'regex', match_string: 'foo(?=bar)' }), 'match_string', /lookahead/],
  ])('%s → 400 naming %s', async (_n, body, field, message) => {
    const r = await call('POST', '/api/v2/rules', { body });
    expect(r.status).toBe(400);
    expect(r.json.error).toContain(field);
    expect(r.json.fields.find((f: { field: string }) => f.field === field)?.message).toMatch(message);
    expect((await svc.pool.query('SELECT count(*)::int AS n FROM alert_rules')).rows[0].n).toBe(0);
  });

  it.each([
    ['(a+)+$', 'aaaa'],
    ['(?P<iface>Gi\\S+) down', 'Gi0/1 down'],
    ['BGP.*Down\\Z', 'BGP peer Down'],
  ])('regex %s is accepted (RE2 runs it in linear time) and matches', async (pattern, message) => {
    const t0 = Date.now();
    const c = await call('POST', '/api/v2/rules', {
      body: rule({ match_type: 'regex', match_string: pattern }),
    });
    expect(c.status).toBe(201);
    expect(Date.now() - t0).toBeLessThan(3000);
    await pushEvents(alerter.redis, alerter.keys, [event({ hostname: 'rx', message })]);
    // A hostile subject: RE2 does not backtrack.
    await pushEvents(alerter.redis, alerter.keys, [
      event({ hostname: 'rx-hostile', message: `${'a'.repeat(50_000)}!` }),
    ]);
    await drained(alerter.redis, alerter.keys);
    expect((await auditRows(svc.pool)).find((r) => r.hostname === 'rx')?.matched_rule_id).toBe(c.json.id);
  });

  it('update validation applies to the merged rule (a regex switch checks the existing string)', async () => {
    const c = await call('POST', '/api/v2/rules', { body: rule({ match_string: 'foo(?=bar)' }) });
    expect(c.status).toBe(201); // contains: any text
    const u = await call('PUT', `/api/v2/rules/${c.json.id}`, { body: { match_type: 'regex' } });
    expect(u.status).toBe(400);
    expect(u.json.fields[0]).toMatchObject({ field: 'match_string' });
    expect((await call('PUT', `/api/v2/rules/${c.json.id}`, { body: {} })).status).toBe(400);
  });

  it('malformed JSON is a 400 that says so', async () => {
    const r = await call('POST', '/api/v2/rules', {
      raw: '{"match_string": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/JSON/);
  });

  it('id "abc" → 400, an id that does not exist → 404', async () => {
    for (const m of ['GET', 'PUT', 'DELETE']) {
      const bad = await call(m, '/api/v2/rules/abc', { body: m === 'PUT' ? { priority: 1 } : undefined });
      expect(bad.status, m).toBe(400);
      expect(bad.json.error).toMatch(/id/);
      const missing = await call(m, '/api/v2/rules/999999', {
        body: m === 'PUT' ? { priority: 1 } : undefined,
      });
      expect(missing.status, m).toBe(404);
      expect(missing.json.error).toBe('rule 999999 not found');
    }
  });

  it("a hostname with '; DROP TABLE is stored and returned literally", async () => {
    const evil = "x'; DROP TABLE alert_rules; --";
    expect((await call('POST', '/api/v2/dev-hosts', { body: { hostname: evil } })).status).toBe(201);
    expect(
      (await call('POST', '/api/v2/teams', { body: { hostname: evil, team_assignment: 'SEC' } })).status,
    ).toBe(201);
    expect((await call('GET', '/api/v2/dev-hosts')).json.hosts).toEqual([{ hostname: evil }]);
    expect((await call('GET', `/api/v2/teams/${encodeURIComponent(evil)}`)).json).toEqual({
      hostname: evil,
      team_assignment: 'SEC',
    });
    expect((await svc.pool.query('SELECT count(*)::int AS n FROM alert_rules')).rows[0].n).toBe(0);
    expect((await call('DELETE', `/api/v2/dev-hosts/${encodeURIComponent(evil)}`)).status).toBe(200);
  });

  it('limit=100000 is clamped to 200; page=0 and start_date=yesterday are 400 naming the parameter', async () => {
    const big = await call('GET', '/api/v2/audit-logs?limit=100000');
    expect(big.status).toBe(200);
    expect(big.json.pagination.limit).toBe(200);
    const p0 = await call('GET', '/api/v2/audit-logs?page=0');
    expect(p0.status).toBe(400);
    expect(p0.json.fields[0]).toMatchObject({ field: 'page' });
    const y = await call('GET', '/api/v2/audit-logs?start_date=yesterday');
    expect(y.status).toBe(400);
    expect(y.json.fields[0]).toMatchObject({ field: 'start_date' });
    const typo = await call('GET', '/api/v2/audit-logs?hostnme=x');
    expect(typo.status).toBe(400);
    expect(typo.json.fields[0]).toMatchObject({ field: 'hostnme', message: 'unknown field' });
    const cur = await call('GET', '/api/v2/audit-logs?cursor=bm9wZQ');
    expect(cur.status).toBe(400);
    expect(cur.json.fields[0]).toMatchObject({ field: 'cursor' });
  });

  it('a body over 1 MiB is a 413', async () => {
    const r = await call('POST', '/api/v2/rules', {
      raw: JSON.stringify(rule({ description: 'x'.repeat(1_100_000) })),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/too large/);
  });
});

describe('development hosts and teams', () => {
  it('dev-hosts: list, add, duplicate 409, delete, 404; applied and audited', async () => {
    const a = await call('POST', '/api/v2/dev-hosts', { body: { hostname: 'lab-sw1', reason: 'lab' } });
    expect(a.status).toBe(201);
    expect(a.json, JSON.stringify(a.json)).toMatchObject({
      message: 'Dev host added successfully',
      applied: true,
    });
    expect((await call('POST', '/api/v2/dev-hosts', { body: { hostname: 'lab-sw1' } })).status).toBe(409);
    expect((await call('GET', '/api/v2/dev-hosts')).json).toEqual({ hosts: [{ hostname: 'lab-sw1' }] });
    expect((await call('DELETE', '/api/v2/dev-hosts/lab-sw1')).status).toBe(200);
    expect((await call('DELETE', '/api/v2/dev-hosts/lab-sw1')).status).toBe(404);
    const ops = (
      await svc.pool.query(
        "SELECT operation FROM config_audit_log WHERE table_name = 'development_hosts' ORDER BY id",
      )
    ).rows;
    expect(ops.map((o) => o.operation)).toEqual(['CREATE', 'DELETE']);
  });

  it('a dev host added through the API changes the handling of the next event', async () => {
    const r = await call('POST', '/api/v2/rules', { body: rule({ match_string: 'DEVTEST' }) });
    await call('POST', '/api/v2/dev-hosts', { body: { hostname: 'lab9' } });
    await pushEvents(alerter.redis, alerter.keys, [event({ hostname: 'lab9', message: 'DEVTEST x' })]);
    await drained(alerter.redis, alerter.keys);
    expect((await auditRows(svc.pool)).map((x) => [x.matched_rule_id, x.handling_decision])).toEqual([
      [r.json.id, 'Ignore'],
    ]);
  });

  it('teams: list, add, get (ETag), update with If-Match, stale 412, delete', async () => {
    const a = await call('POST', '/api/v2/teams', { body: { hostname: 'edge7', team_assignment: 'WAN' } });
    expect(a.status).toBe(201);
    expect(
      (await call('POST', '/api/v2/teams', { body: { hostname: 'edge7', team_assignment: 'X' } })).status,
    ).toBe(409);
    expect((await call('GET', '/api/v2/teams')).json).toEqual({
      teams: [{ hostname: 'edge7', team_assignment: 'WAN' }],
    });
    const g = await call('GET', '/api/v2/teams/edge7');
    const u = await call('PUT', '/api/v2/teams/edge7', {
      body: { team_assignment: 'NETO' },
      headers: { 'If-Match': g.headers.get('etag')! },
    });
    expect(u.status).toBe(200);
    expect(u.json.team).toEqual({ hostname: 'edge7', team_assignment: 'NETO' });
    const stale = await call('PUT', '/api/v2/teams/edge7', {
      body: { team_assignment: 'SEC' },
      headers: { 'If-Match': g.headers.get('etag')! },
    });
    expect(stale.status).toBe(412);
    expect((await call('PUT', '/api/v2/teams/nope', { body: { team_assignment: 'SEC' } })).status).toBe(404);
    expect((await call('PUT', '/api/v2/teams/edge7', { body: { team_assignment: '' } })).status).toBe(400);
    expect((await call('DELETE', '/api/v2/teams/edge7')).status).toBe(200);
    expect((await call('GET', '/api/v2/teams')).json.teams).toEqual([]);
  });
});

describe('audit logs', () => {
  async function seed(n: number) {
    const r = await call('POST', '/api/v2/rules', { body: rule() });
    const r2 = await call('POST', '/api/v2/rules', {
      body: rule({ match_string: 'BGP', team_assignment: 'WAN', prod_handling: 'Ticket_only' }),
    });
    await svc.pool.query(
      `INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision, forwarded_to_moog, raw_message)
       SELECT now() - (i || ' seconds')::interval, 'host' || (i % 3), CASE WHEN i % 2 = 0 THEN $1::int ELSE $2::int END,
              CASE WHEN i % 2 = 0 THEN 'Page_and_ticket' ELSE 'Ticket_only' END, i % 2 = 0,
              '{"hostname":"host' || (i % 3) || '","_correlation_id":"cid-' || i || '"}'
         FROM generate_series(1, $3::int) AS i`,
      [r.json.id, r2.json.id, n],
    );
    return { a: r.json.id as number, b: r2.json.id as number };
  }

  it("Python's shape and filters, plus handling, forwarded, team and correlation id", async () => {
    const { b } = await seed(30);
    const all = await call('GET', '/api/v1/audit-logs?page=1&limit=10');
    expect(all.json.pagination).toMatchObject({
      page: 1,
      limit: 10,
      total: 30,
      pages: 3,
      total_is_estimate: false,
    });
    expect(all.json.logs).toHaveLength(10);
    expect(Object.keys(all.json.logs[0]).sort()).toEqual(
      [
        'event_timestamp',
        'event_timestamp_substituted',
        'forwarded_to_moog',
        'handling_decision',
        'hostname',
        'id',
        'matched_rule_id',
        'raw_message',
      ].sort(),
    );
    const ts = all.json.logs.map((l: { event_timestamp: string }) => l.event_timestamp);
    expect([...ts].sort().reverse()).toEqual(ts);
    expect((await call('GET', '/api/v2/audit-logs?hostname=host1')).json.pagination.total).toBe(10);
    expect((await call('GET', `/api/v2/audit-logs?rule_id=${b}`)).json.pagination.total).toBe(15);
    expect((await call('GET', '/api/v2/audit-logs?handling=ticket_only')).json.pagination.total).toBe(15);
    expect((await call('GET', '/api/v2/audit-logs?forwarded=true')).json.pagination.total).toBe(15);
    expect((await call('GET', '/api/v2/audit-logs?team=WAN')).json.pagination.total).toBe(15);
    const cid = await call('GET', '/api/v2/audit-logs?correlation_id=cid-7');
    expect(
      cid.json.logs.map((l: { raw_message: string }) => JSON.parse(l.raw_message)._correlation_id),
    ).toEqual(['cid-7']);
    const future = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect((await call('GET', `/api/v2/audit-logs?start_date=${future}`)).json.pagination.total).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    expect((await call('GET', `/api/v2/audit-logs?end_date=${today}`)).json.pagination.total).toBeGreaterThan(
      0,
    );
  });

  it('cursor paging walks every row once, in order, as offset paging does', async () => {
    await seed(57);
    const byCursor: number[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await call('GET', `/api/v2/audit-logs?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      byCursor.push(...r.json.logs.map((l: { id: number }) => l.id));
      cursor = r.json.pagination.next_cursor;
    } while (cursor);
    const byOffset: number[] = [];
    for (let page = 1; page <= 6; page++)
      byOffset.push(
        ...(await call('GET', `/api/v2/audit-logs?limit=10&page=${page}`)).json.logs.map(
          (l: { id: number }) => l.id,
        ),
      );
    expect(byCursor).toHaveLength(57);
    expect(new Set(byCursor).size).toBe(57);
    expect(byCursor).toEqual(byOffset);
  });

  it('totals beyond the exact bound are estimates that say so', async () => {
    await seed(10_050);
    await svc.pool.query('ANALYZE event_audit_log');
    const r = await call('GET', '/api/v2/audit-logs?limit=5');
    expect(r.json.pagination.total_is_estimate).toBe(true);
    expect(r.json.pagination.total).toBeGreaterThan(10_000);
  });

  it('offset paging serves the first AUDIT_LOG_MAX_OFFSET rows; deeper pages are 400 naming page and cursor', async () => {
    await seed(30);
    expect(ctx.config.AUDIT_LOG_MAX_OFFSET).toBe(10_000);
    const edge = await call('GET', '/api/v2/audit-logs?limit=200&page=50');
    expect(edge.status).toBe(200);
    expect(edge.json.logs).toEqual([]);
    for (const q of ['limit=200&page=51', 'limit=10&page=1001', 'page=100000']) {
      const r = await call('GET', `/api/v2/audit-logs?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error).toMatch(/^page: .*AUDIT_LOG_MAX_OFFSET.*cursor=/);
    }
    // A cursor reaches the same rows at any depth.
    const first = await call('GET', '/api/v2/audit-logs?limit=10');
    const next = await call('GET', `/api/v2/audit-logs?limit=10&cursor=${first.json.pagination.next_cursor}`);
    expect(next.status).toBe(200);
    expect(next.json.logs).toHaveLength(10);
  });

  it('exports a filter as NDJSON and CSV', async () => {
    await seed(25);
    const nd = await call('GET', '/api/v2/audit-logs/export?hostname=host0');
    expect(nd.status).toBe(200);
    expect(nd.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = nd.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(8);
    expect(lines.every((l) => l.hostname === 'host0')).toBe(true);
    const csv = await call('GET', '/api/v2/audit-logs/export?format=csv&hostname=host0');
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toBe(
      'id,event_timestamp,hostname,matched_rule_id,handling_decision,forwarded_to_moog,raw_message',
    );
    expect(rows).toHaveLength(9);
    expect((await call('GET', '/api/v2/audit-logs/export?format=xml')).status).toBe(400);
  });

  it('config change history with Python filters (/audit, /config-audit)', async () => {
    const c = await call('POST', '/api/v2/rules', { body: rule({ reason: 'r1' }) });
    await call('PUT', `/api/v2/rules/${c.json.id}`, { body: { priority: 3 } });
    await call('POST', '/api/v2/dev-hosts', { body: { hostname: 'lab3' } });
    const all = await call('GET', '/api/v2/config-audit');
    expect(all.json.pagination.total).toBe(3);
    expect(all.json.changes[0]).toMatchObject({ table_name: 'development_hosts', operation: 'CREATE' });
    const f = await call(
      'GET',
      `/api/v1/audit?table_name=alert_rules&operation=update&record_id=${c.json.id}`,
    );
    expect(f.json.changes).toHaveLength(1);
    expect(f.json.changes[0].new_values.priority).toBe(3);
    expect((await call('GET', '/api/v2/audit?operation=DROP')).status).toBe(400);
  });
});

describe('dynamic configuration', () => {
  it('list, get, set (validated, published, audited), history, unset', async () => {
    const sub = svc.redis.duplicate();
    const got: string[] = [];
    await sub.subscribe(ctx.keys.configUpdates);
    sub.on('message', (_ch, m: string) => got.push(m));
    const l = await call('GET', '/api/v2/config');
    expect(l.json.config.unhandled_threshold).toBe('100');
    expect(l.json.keys.find((k: { key: string }) => k.key === 'unhandled_threshold').source).toBe('static');
    const bad = await call('PUT', '/api/v2/config/unhandled_threshold', { body: { value: 'ten' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/unhandled_threshold: "ten" is not an integer >= 1/);
    expect((await call('PUT', '/api/v2/config/no_such_key', { body: { value: 1 } })).status).toBe(404);
    expect((await call('PUT', '/api/v2/config/unhandled_threshold', { body: {} })).status).toBe(400);
    const s = await call('PUT', '/api/v2/config/unhandled_threshold', {
      body: { value: 50, reason: 'noisy week' },
    });
    expect(s.json).toEqual({ key: 'unhandled_threshold', old_value: null, new_value: '50', audited: true });
    expect(await svc.redis.get(ctx.keys.config('unhandled_threshold'))).toBe('50');
    expect((await call('GET', '/api/v2/config/unhandled_threshold')).json).toMatchObject({
      value: '50',
      source: 'redis',
    });
    const h = await call('GET', '/api/v2/config/history');
    expect(h.json.history[0]).toMatchObject({
      table_name: 'dynamic_config',
      operation: 'CREATE',
      reason: 'noisy week',
      new_values: { key: 'unhandled_threshold', value: '50' },
    });
    const u = await call('DELETE', '/api/v2/config/unhandled_threshold');
    expect(u.json).toMatchObject({ old_value: '50', new_value: null });
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['unhandled_threshold', 'unhandled_threshold']);
    sub.disconnect();
  });
});

describe('metrics, status, version, OpenAPI', () => {
  it("metrics: Python's shape from the mutt:metrics counters, cached", async () => {
    const now = Date.now();
    const lastMinute = new Date(Math.floor(now / 60_000) * 60_000 - 60_000).toISOString().slice(0, 16);
    await svc.redis.set(ctx.keys.metrics1m(lastMinute), '120');
    await svc.redis.set(ctx.keys.metrics1h(new Date(now).toISOString().slice(0, 13)), '6000');
    const m = await call('GET', '/api/v2/metrics');
    expect(m.json.summary.current_rate_1m).toBe(120);
    expect(m.json.summary.avg_rate_15m).toBe(8);
    expect(m.json.chart_24h.labels).toHaveLength(24);
    expect(m.json.chart_24h.data[23]).toBe(100);
    expect((await call('GET', '/api/v1/metrics')).headers.get('x-cache')).toBe('hit');
  });

  it('status lists every pod from the key patterns (MUTT and Python), queues, breaker, DLQs, the node', async () => {
    await svc.redis.setex(ctx.keys.alerterHeartbeat('python-alerter-7f9c'), 30, 'alive');
    await svc.redis.lpush(ctx.keys.alerterProcessing('python-alerter-7f9c'), '{"hostname":"h"}');
    await svc.redis.setex(ctx.keys.moogHeartbeat('python-moog-1'), 30, 'alive');
    await svc.redis.set(ctx.keys.breakerState, 'OPEN');
    await svc.redis.lpush(ctx.keys.moogDlq, '{"hostname":"h","_dlq_reason":"x"}');
    const s = await call('GET', '/api/v2/status');
    expect(s.status).toBe(200);
    const pods = s.json.pods as {
      pod: string;
      role: string;
      alive: boolean;
      processing: number;
      kind: string;
    }[];
    expect(pods.find((p) => p.pod === POD)).toMatchObject({ role: 'alerter', alive: true, kind: 'mutt' });
    expect(pods.find((p) => p.pod === 'python-alerter-7f9c')).toMatchObject({
      role: 'alerter',
      alive: true,
      processing: 1,
      kind: 'unknown',
    });
    expect(pods.find((p) => p.pod === 'python-moog-1')).toMatchObject({ role: 'moog', alive: true });
    expect(s.json).toMatchObject({
      pod: 'node-a',
      breaker: { state: 'OPEN' },
      dlq: { moog: { depth: 1 } },
      postgres: 'ok',
      compat: { mode: 'off', source: 'static' },
    });
    expect(s.json.uptime_seconds).toBeGreaterThanOrEqual(5);
    // The fleet switched to parity mode through the dynamic configuration: status says so.
    await svc.redis.set(ctx.keys.config('compat_mode'), 'python2');
    const s2 = await call('GET', '/api/v2/status');
    expect(s2.json).toMatchObject({ compat: { mode: 'python2', source: 'dynamic', static: 'off' } });
    await svc.redis.del(ctx.keys.config('compat_mode'));
    await svc.redis.del(
      ctx.keys.breakerState,
      ctx.keys.moogDlq,
      ctx.keys.alerterProcessing('python-alerter-7f9c'),
    );
  });

  it('the OpenAPI document lists every endpoint under both versions, from the validating schemas', async () => {
    const d = await call('GET', '/api/openapi.json');
    expect(d.status).toBe(200);
    const paths = Object.keys(d.json.paths);
    for (const p of [
      '/rules',
      '/rules/{id}',
      '/rules/test',
      '/dev-hosts',
      '/dev-hosts/{hostname}',
      '/teams',
      '/teams/{hostname}',
      '/audit-logs',
      '/audit-logs/export',
      '/audit',
      '/config-audit',
      '/config',
      '/config/{key}',
      '/config/history',
      '/metrics',
      '/status',
      '/dlq',
      '/dlq/{name}',
      '/dlq/{name}/replay',
      '/dlq/{name}/purge',
      '/version',
    ])
      for (const v of ['/api/v1', '/api/v2']) expect(paths, `${v}${p}`).toContain(`${v}${p}`);
    expect(d.json.components.schemas.RuleCreate.properties.priority.type).toBe('integer');
    expect(d.json.components.schemas.RuleCreate.additionalProperties).toBe(false);
  });
});

describe('rule tester', () => {
  it('says how many recent events a draft would match and which decisions change', async () => {
    await svc.redis.del(ctx.keys.recentEvents);
    const r = await call('POST', '/api/v2/rules', { body: rule({ match_string: 'LINK', priority: 50 }) });
    await pushEvents(alerter.redis, alerter.keys, [
      ...Array.from({ length: 6 }, (_, i) =>
        event({ hostname: `sw${i}`, message: `%LINK-3-UPDOWN: Interface Gi0/${i} down` }),
      ),
      ...Array.from({ length: 4 }, (_, i) =>
        event({ hostname: `fw${i}`, message: `%ASA-4-106023: Deny tcp ${i}` }),
      ),
    ]);
    await drained(alerter.redis, alerter.keys);
    const t = await call('POST', '/api/v2/rules/test', {
      body: {
        rule: {
          match_string: 'ASA-4',
          prod_handling: 'Ticket_only',
          dev_handling: 'Ignore',
          team_assignment: 'SEC',
          priority: 10,
        },
      },
    });
    expect(t.status).toBe(200);
    expect(t.json.events.tested).toBe(10);
    expect(t.json.current).toMatchObject({ matched: 6, unhandled: 4 });
    expect(t.json.proposed).toMatchObject({
      matched: 10,
      unhandled: 0,
      by_rule: { draft: 4, [String(r.json.id)]: 6 },
    });
    expect(t.json.draft).toEqual({ matches: 4, wins: 4 });
    expect(t.json.changed).toBe(4);
    expect(t.json.sample[0]).toMatchObject({
      before: { rule_id: null },
      after: { rule_id: 'draft', handling: 'Ticket_only', forwarded: true },
    });
    const del = await call('POST', '/api/v2/rules/test', { body: { rule_id: r.json.id, delete: true } });
    expect(del.json).toMatchObject({ changed: 6, proposed: { matched: 0 } });
    const bad = await call('POST', '/api/v2/rules/test', {
      body: {
        rule: {
          match_type: 'regex',
          match_string: '(?<=x)y',
          prod_handling: 'Ignore',
          dev_handling: 'Ignore',
          team_assignment: 'X',
        },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.fields[0].field).toBe('rule.match_string');
  });
});

describe('dead-letter queues', () => {
  const item = (i: number, over: Record<string, unknown> = {}) =>
    JSON.stringify({
      hostname: `r${i}`,
      message_body: 'm',
      team_assignment: 'NETO',
      _correlation_id: `dlq-${i}`,
      _dlq_reason: i % 2 ? 'HTTP 400' : 'HTTP 401 auth',
      _dlq_code: i % 2 ? 'rejected' : 'auth',
      _failed_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      ...over,
    });

  beforeEach(async () => {
    await svc.redis.del(
      ctx.keys.moogDlq,
      ctx.keys.alertQueue,
      ctx.keys.deadLetter,
      ctx.keys.alerterDlq,
      ctx.keys.ingestQueue,
    );
    await svc.redis.lpush(ctx.keys.moogDlq, ...Array.from({ length: 6 }, (_, i) => item(i)));
  });

  it('depths, browse without removing, one item, replay selected, purge with a reason — audited', async () => {
    const d = await call('GET', '/api/v2/dlq');
    expect(d.json.queues.moog).toMatchObject({ depth: 6, oldest_failed_at: '2026-01-01T00:00:00.000Z' });
    const b = await call('GET', '/api/v2/dlq/moog?limit=4&reason=auth');
    expect(b.json).toMatchObject({ total: 6, matched: 3, by_code: { auth: 3 } });
    expect(b.json.items.map((x: { correlation_id: string }) => x.correlation_id)).toEqual([
      'dlq-4',
      'dlq-2',
      'dlq-0',
    ]);
    expect(await svc.redis.llen(ctx.keys.moogDlq)).toBe(6);
    const one = await call('GET', `/api/v2/dlq/moog/items/${b.json.items[0].id}`);
    expect(one.json).toMatchObject({ correlation_id: 'dlq-4', reason: 'HTTP 401 auth', replay_count: 0 });

    const dry = await call('POST', '/api/v2/dlq/moog/replay', {
      body: { ids: [b.json.items[0].id], dry_run: true },
    });
    expect(dry.json).toEqual({ queue: 'moog', dry_run: true, would: { alert_queue: 1 } });
    const rep = await call('POST', '/api/v2/dlq/moog/replay', {
      body: { ids: [b.json.items[0].id, b.json.items[1].id], note: 'key fixed' },
    });
    expect(rep.json).toMatchObject({ replayed: 2, dead: 0, missing: 0, audited: true, to: 'alert_queue' });
    expect(await svc.redis.llen(ctx.keys.moogDlq)).toBe(4);
    expect(JSON.parse((await svc.redis.lindex(ctx.keys.alertQueue, 0))!)).toMatchObject({
      _moog_retry_count: 0,
      _replay_count: 1,
    });
    // Replaying the same ids again finds nothing: no duplicates.
    expect(
      (await call('POST', '/api/v2/dlq/moog/replay', { body: { ids: [b.json.items[0].id] } })).json,
    ).toMatchObject({ replayed: 0 });

    expect((await call('POST', '/api/v2/dlq/moog/purge', { body: { all: true } })).status).toBe(400);
    const p = await call('POST', '/api/v2/dlq/moog/purge', {
      body: { all: true, reason: 'rejected', note: 'bad payloads, fixed upstream' },
    });
    expect(p.json).toMatchObject({ removed: 3, audited: true });
    expect(await svc.redis.llen(ctx.keys.moogDlq)).toBe(1);
    const audit = (
      await svc.pool.query(
        "SELECT operation, new_values, reason FROM config_audit_log WHERE table_name = 'dlq' ORDER BY id",
      )
    ).rows;
    expect(audit.map((a) => [a.operation, a.new_values.action, a.reason])).toEqual([
      ['UPDATE', 'replay', 'key fixed'],
      ['UPDATE', 'replay', null],
      ['DELETE', 'purge', 'bad payloads, fixed upstream'],
    ]);
  });

  it('bad input: unknown queue, no selection, malformed id', async () => {
    expect((await call('GET', '/api/v2/dlq/nope')).status).toBe(400);
    const none = await call('POST', '/api/v2/dlq/moog/replay', { body: {} });
    expect(none.status).toBe(400);
    expect(none.json.fields[0].field).toBe('ids');
    const badId = await call('POST', '/api/v2/dlq/moog/replay', { body: { ids: ['zz'] } });
    expect(badId.status).toBe(400);
    expect((await call('GET', '/api/v2/dlq/moog/items/ffffffffffffffff')).status).toBe(404);
  });
});

describe('PostgreSQL down', () => {
  it('database endpoints answer 503 {"error"}; status and dlq still answer from Redis', async () => {
    const deadPort = await freePort();
    const down = new pg.Pool({
      host: '127.0.0.1',
      port: deadPort,
      user: 'x',
      database: 'x',
      connectionTimeoutMillis: 1000,
    });
    const offline = createWebApp({
      ctx: { ...ctx, pool: down },
      apiKey: KEY,
      registry: new Registry(),
      log: createLogger({ level: 'ERROR', destination: process.stderr }),
      health: async () => ({ status: 'unhealthy' }),
      metricsText: async () => ({ contentType: 'text/plain', body: '' }),
    });
    const req = (method: string, path: string, body?: unknown) =>
      offline.request(path, {
        method,
        headers: { 'X-API-KEY': KEY, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    for (const [m, p, b] of [
      ['GET', '/api/v2/rules'],
      ['POST', '/api/v2/rules', rule()],
      ['GET', '/api/v2/audit-logs'],
      ['GET', '/api/v2/dev-hosts'],
      ['GET', '/api/v2/teams'],
      ['GET', '/api/v2/config-audit'],
    ] as [string, string, unknown][]) {
      const r = await req(m, p, b);
      expect(r.status, `${m} ${p}`).toBe(503);
      expect(((await r.json()) as { error: string }).error).toMatch(/^PostgreSQL unavailable/);
    }
    const s = await req('GET', '/api/v2/status');
    expect(s.status).toBe(200);
    expect(((await s.json()) as { postgres: string }).postgres).toMatch(/^error/);
    expect((await req('GET', '/api/v2/dlq')).status).toBe(200);
    expect((await req('GET', '/api/v2/dlq/moog')).status).toBe(200);
    const replay = await req('POST', '/api/v2/dlq/moog/replay', { all: true, note: 'pg down' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ audited: false });
    await down.end();
  });
});

describe('metrics of the API', () => {
  it('counts requests by endpoint and status, times them, and times database statements', async () => {
    await call('GET', '/api/v2/rules');
    await call('GET', '/api/v1/rules/abc');
    const text = await registry.metrics();
    expect(text).toMatch(/mutt_webui_api_requests_total\{endpoint="\/rules",status="200"\} \d+/);
    expect(text).toMatch(/mutt_webui_api_requests_total\{endpoint="\/rules\/:id",status="400"\} \d+/);
    expect(text).toMatch(/mutt_webui_api_latency_seconds_count\{endpoint="\/rules"\} \d+/);
    expect(text).toMatch(/mutt_webui_db_query_latency_ms_count\{operation="list_rules"\} \d+/);
  });
});
