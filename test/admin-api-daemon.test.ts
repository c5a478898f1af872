// The admin API of a real `mutt serve` (the bundle, spawned as an operator runs it): the README's
// quick start through the API — a rule added with curl is live when the answer comes, so the syslog
// message and the HTTP event sent right behind it both match (the race the psql quick start had) —
// and the requests and response shapes of Python MUTT 2.5's web UI service answered by MUTT.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort, freeUdpPort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';
import { logger } from './harness/syslog-clients.ts';
import { until } from './harness/alerting.ts';

let svc: TestServices;
let mutt: MuttProcess;
const ports = { ingest: 0, webui: 0, udp: 0 };
const WEBUI_KEY = 'daemon-webui-key-5d1e';
const INGEST_KEY = 'daemon-ingest-key-77aa';

beforeAll(async () => {
  svc = await useServices();
  ports.ingest = await freePort();
  ports.webui = await freePort();
  ports.udp = await freeUdpPort();
  mutt = startMutt({
    ...svc.env,
    INGEST_API_KEY: INGEST_KEY,
    WEBUI_API_KEY: WEBUI_KEY,
    SERVER_PORT_INGESTOR: String(ports.ingest),
    SERVER_PORT_WEBUI: String(ports.webui),
    SYSLOG_UDP_PORT: String(ports.udp),
    ALERTER_WORKERS: '2',
    LOG_LEVEL: 'INFO',
  });
  const info = await mutt.waitForMessage('MUTT is running', 120_000);
  expect(info.webuiPort).toBe(ports.webui);
  await mutt.waitForMessage('alerter started', 60_000);
}, 180_000);

afterAll(async () => {
  await mutt?.stop();
  await svc?.cleanup();
});

const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`http://127.0.0.1:${ports.webui}${path}`, {
    method,
    headers: { 'X-API-KEY': WEBUI_KEY, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
};

/** The rule body of the README quick start's first curl. */
function readmeRule(): Record<string, unknown> {
  const readme = readFileSync('README.md', 'utf8');
  const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Tests'));
  const m = /curl -s -X POST http:\/\/localhost:8090\/api\/v2\/rules[^\n]*\\\n\s*-d '([^']+)'/.exec(quick);
  if (!m) throw new Error('no rule curl in the README quick start');
  return JSON.parse(m[1]!) as Record<string, unknown>;
}

describe('the quick start through the admin API', () => {
  it('a rule added with the API matches the syslog message and the HTTP event sent right after it', async () => {
    const readme = readmeRule();
    expect(readme).toMatchObject({ match_string: '%LINK-3-UPDOWN', team_assignment: 'NETO' });
    for (let round = 0; round < 3; round++) {
      // The README's rule first, then the same with other strings (each round needs its own rule).
      const tag = round === 0 ? String(readme.match_string) : `%IFMGR-3-STATE-R${round}`;
      const c = await api('POST', round === 0 ? '/api/v2/rules' : '/api/v1/rules', {
        ...readme,
        match_string: tag,
      });
      expect(c.status).toBe(201);
      expect(c.json).toMatchObject({ applied: true, apply: { alerters: 2 } });
      // Right behind the answer, as a script would.
      expect(
        logger([
          '--server',
          '127.0.0.1',
          '--port',
          String(ports.udp),
          '--udp',
          '-p',
          'local7.err',
          `${tag}: Interface Gi0/1, changed state to down`,
        ]).status,
      ).toBe(0);
      const ingest = await fetch(`http://127.0.0.1:${ports.ingest}/ingest`, {
        method: 'POST',
        headers: { 'X-API-KEY': INGEST_KEY, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          hostname: 'router1',
          message: `${tag}: Interface Gi0/2, changed state to down`,
          timestamp: new Date().toISOString(),
          syslog_severity: 'err',
        }),
      });
      expect(ingest.status).toBe(200);
      let logs: any[] = [];
      await until(
        async () => {
          logs = (await api('GET', `/api/v2/audit-logs?rule_id=${c.json.id}`)).json.logs;
          return logs.length === 2;
        },
        30_000,
        `both events audited under the new rule (round ${round}): ${JSON.stringify(logs)}`,
      );
      expect(
        logs.every((l) => l.forwarded_to_moog === true && l.handling_decision === 'Page_and_ticket'),
      ).toBe(true);
    }
    // None of them was counted as unhandled.
    const unhandled = await svc.redis.keys(`${svc.prefix}:unhandled:*`);
    expect(unhandled).toEqual([]);
  });

  it('status shows this node, its two alerter workers at the current generation, and the queues', async () => {
    const s = await api('GET', '/api/v2/status');
    expect(s.status).toBe(200);
    const mine = s.json.pods.filter(
      (p: { kind: string; role: string }) => p.kind === 'mutt' && p.role === 'alerter',
    );
    expect(mine).toHaveLength(2);
    const gens = new Set(mine.map((p: { rules_generation: number }) => p.rules_generation));
    expect(gens.size).toBe(1);
    expect(s.json.roles).toContain('webui');
    expect(s.json.postgres).toBe('ok');
    expect(s.json.queues).toHaveProperty('ingest_queue');
  });

  it('never writes the key to the log, even when sent in a query string', async () => {
    await fetch(`http://127.0.0.1:${ports.webui}/api/v2/version?api_key=${WEBUI_KEY}`);
    await fetch(`http://127.0.0.1:${ports.webui}/api/v2/version?api_key=not-the-key-123`);
    await until(
      async () => mutt.lines.filter((l) => l.msg === 'admin request').length >= 2,
      10_000,
      'request log lines',
    );
    const text = [...mutt.lines.map((l) => JSON.stringify(l)), ...mutt.stderr].join('\n');
    expect(text).not.toContain(WEBUI_KEY);
    expect(text).not.toContain('not-the-key-123');
    expect(text).toContain('api_key=[redacted]');
  });
});

describe("Python MUTT 2.5's web UI requests, answered by MUTT", () => {
  it('rules: the seed create body, {rules}, the rule object, {message}', async () => {
    const seedBody = {
      match_string: 'CRITICAL',
      trap_oid: null,
      syslog_severity: null,
      match_type: 'contains',
      priority: 10,
      prod_handling: 'Page_and_ticket',
      dev_handling: 'Ticket_only',
      team_assignment: 'NETO',
      is_active: true,
    };
    const c = await api('POST', '/api/v1/rules', seedBody);
    expect(c.status).toBe(201);
    expect(c.json).toMatchObject({ id: expect.any(Number), message: 'Rule created successfully' });
    const list = await api('GET', '/api/v1/rules');
    expect(list.json.rules.find((r: { id: number }) => r.id === c.json.id)).toMatchObject(seedBody);
    const one = await api('GET', `/api/v1/rules/${c.json.id}`);
    expect(one.json).toMatchObject({ id: c.json.id, ...seedBody });
    const u = await api('PUT', `/api/v2/rules/${c.json.id}`, {
      priority: 200,
      is_active: false,
      reason: 'downgrade in staging',
    });
    expect(u.json.message).toBe('Rule updated successfully');
    expect((await api('GET', '/api/v1/rules/424242')).json).toEqual({
      error: 'rule 424242 not found',
      correlation_id: expect.any(String),
    });
  });

  it('dev-hosts and teams: bodies, {hosts}, {teams}, 409 on duplicates, 404 on unknown hosts', async () => {
    expect((await api('POST', '/api/v2/dev-hosts', { hostname: 'dev-host-1' })).status).toBe(201);
    expect((await api('POST', '/api/v2/dev-hosts', { hostname: 'dev-host-1' })).status).toBe(409);
    expect((await api('GET', '/api/v1/dev-hosts')).json.hosts).toContainEqual({ hostname: 'dev-host-1' });
    expect(
      (await api('POST', '/api/v2/teams', { hostname: 'host-a', team_assignment: 'NetOps' })).status,
    ).toBe(201);
    expect((await api('PUT', '/api/v2/teams/host-a', { team_assignment: 'SRE' })).json.message).toBe(
      'Team mapping updated successfully',
    );
    expect((await api('GET', '/api/v1/teams')).json.teams).toContainEqual({
      hostname: 'host-a',
      team_assignment: 'SRE',
    });
    expect((await api('DELETE', '/api/v1/teams/host-b')).status).toBe(404);
    expect((await api('DELETE', '/api/v1/dev-hosts/dev-host-1')).json.message).toBe(
      'Dev host deleted successfully',
    );
  });

  it('audit-logs with the seed query; config-audit; config; metrics; version headers', async () => {
    const a = await api('GET', '/api/v1/audit-logs?page=1&limit=50&hostname=router1&start_date=2025-11-01');
    expect(a.status).toBe(200);
    expect(Object.keys(a.json)).toEqual(['logs', 'pagination']);
    expect(a.json.pagination).toMatchObject({ page: 1, limit: 50, total: 3, pages: 1 });
    expect(a.headers.get('x-api-deprecated')).toBe('true');
    const ca = await api('GET', '/api/v2/config-audit?table_name=alert_rules&operation=update');
    expect(ca.json.changes[0]).toMatchObject({
      operation: 'UPDATE',
      table_name: 'alert_rules',
      reason: 'downgrade in staging',
      changed_by: expect.stringMatching(/^api:/),
    });
    expect(ca.json.pagination).toMatchObject({ page: 1, limit: 50 });
    const cfg = await api('GET', '/api/v1/config');
    expect(cfg.json.config).toHaveProperty('alerter_shed_mode');
    const put = await api('PUT', '/api/v1/config/alerter_queue_warn_threshold', {
      value: '1500',
      reason: 'tuning',
    });
    expect(put.json).toMatchObject({
      key: 'alerter_queue_warn_threshold',
      old_value: null,
      new_value: '1500',
    });
    expect((await api('GET', '/api/v1/config/history')).json.history[0]).toMatchObject({
      table_name: 'dynamic_config',
      reason: 'tuning',
    });
    const m = await api('GET', '/api/v1/metrics');
    expect(Object.keys(m.json.summary)).toEqual(['current_rate_1m', 'avg_rate_15m', 'avg_rate_1h']);
    expect(m.json.chart_24h.data.reduce((x: number, y: number) => x + y, 0)).toBeGreaterThan(0);
    const h = await fetch(`http://127.0.0.1:${ports.webui}/health`);
    expect(h.status).toBe(200);
    expect((await h.json()) as object).toMatchObject({ status: 'healthy', redis: 'ok', postgres: 'ok' });
  });
});
