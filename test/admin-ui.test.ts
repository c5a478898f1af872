// The browser UI in process (app.request) against the harness's real Redis and PostgreSQL: sign-in
// and the session cookie, CSRF refusals (nothing changed), forged and expired sessions, the security
// headers, escaping of hostile text, form errors under their field, the assets (hashed, cached,
// within the page budget). The browser itself is driven in test/ui/.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminContext } from '../src/core/admin/context.ts';
import { Keys } from '../src/core/protocol/keys.ts';
import { createWebApp, type WebApp } from '../src/web/app.ts';
import { ASSETS } from '../src/web/ui/assets.ts';
import { CSP, mountUi } from '../src/web/ui/index.tsx';
import { SESSION_COOKIE, Sessions } from '../src/web/ui/session.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';

const KEY = 'ui-key-current-0123456789';
const OLD = 'ui-key-previous-0123456789';
const BASE = 'http://mutt.test';
let svc: TestServices;
let app: WebApp;
let ctx: AdminContext;

beforeAll(async () => {
  svc = await useServices();
  const config = svc.config();
  ctx = { config, keys: new Keys(config), redis: svc.redis, pool: svc.pool, alerterPods: () => [] };
  const registry = new Registry();
  app = createWebApp({
    ctx,
    apiKey: KEY,
    previousApiKey: OLD,
    registry,
    log: quietLog(),
    health: async () => ({ status: 'healthy', redis: 'ok', postgres: 'ok' }),
    metricsText: async () => ({ contentType: 'text/plain', body: '' }),
    mount: (web, c) =>
      void mountUi(web, c, {
        apiKey: KEY,
        previousApiKey: OLD,
        log: quietLog(),
        registry,
        health: async () => ({ status: 'healthy', redis: 'ok', postgres: 'ok' }),
      }),
  });
});
afterAll(async () => svc?.cleanup());

const req = (path: string, init: RequestInit & { cookie?: string; base?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set('Cookie', `${SESSION_COOKIE}=${init.cookie}`);
  return app.request(`${init.base ?? BASE}${path}`, { ...init, headers, redirect: 'manual' });
};

async function signIn(key = KEY, base = BASE): Promise<{ cookie: string; setCookie: string; csrf: string }> {
  const r = await req('/login', {
    method: 'POST',
    base,
    headers: { Origin: base, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ api_key: key, next: '/rules' }).toString(),
  });
  expect(r.status).toBe(303);
  expect(r.headers.get('location')).toBe('/rules');
  const setCookie = r.headers.get('set-cookie') ?? '';
  const cookie = /mutt_session=([^;]+)/.exec(setCookie)![1]!;
  const page = await (await req('/rules', { cookie, base })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)![1]!;
  return { cookie, setCookie, csrf };
}

const form = (data: Record<string, string>) => ({
  method: 'POST',
  headers: { Origin: BASE, 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(data).toString(),
});

describe('sign-in and the session', () => {
  it('the sign-in page is all an anonymous visitor gets; every page redirects there', async () => {
    for (const path of ['/', '/rules', '/audit?hostname=x', '/dlq/moog', '/config']) {
      const r = await req(path);
      expect(r.status, path).toBe(303);
      expect(r.headers.get('location'), path).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    const login = await req('/login');
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('Admin API key');
    expect((await req('/ui/status')).status).toBe(401);
  });

  it('a wrong key is refused next to the field; the right one (or the previous one) gives a session cookie', async () => {
    const bad = await req('/login', form({ api_key: 'nope' }));
    expect(bad.status).toBe(401);
    const html = await bad.text();
    expect(html).toMatch(/<div class="error" id="e-api_key" role="alert">This key is not valid<\/div>/);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const { setCookie } = await signIn();
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Max-Age=28800/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Secure/); // plain HTTP
    expect(setCookie).not.toContain(KEY);
    await signIn(OLD);
  });

  it('the cookie is Secure when the request came over TLS', async () => {
    const { setCookie } = await signIn(KEY, 'https://mutt.test');
    expect(setCookie).toMatch(/; Secure/);
  });

  it('sign-out ends the session: the same cookie is refused afterwards', async () => {
    const s = await signIn();
    const out = await req('/logout', { ...form({ _csrf: s.csrf }), cookie: s.cookie });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login?out=1');
    expect(out.headers.get('set-cookie')).toMatch(/mutt_session=;.*Max-Age=0/);
    expect((await req('/rules', { cookie: s.cookie })).status).toBe(303);
  });
});

describe('bad input: sessions and CSRF (nothing changes)', () => {
  const count = async () =>
    Number((await svc.pool.query('SELECT count(*) AS n FROM development_hosts')).rows[0].n);

  it.each([
    ['a forged cookie', () => 'eyJzaWQiOiJ4IiwiZnAiOiIwIiwiaWF0IjoxLCJleHAiOjk5OTk5OTk5OTl9.Zm9yZ2Vk'],
    [
      'a cookie signed with another key',
      () => new Sessions({ apiKey: 'another-key' }).create('another-key').cookie,
    ],
    [
      'an expired cookie',
      () => new Sessions({ apiKey: KEY, now: () => Date.now() / 1000 - 9 * 3600 }).create(KEY).cookie,
    ],
    // Renewed by use to expire in 23 h, but signed in 25 h ago (the limit is 24 h).
    [
      'a cookie past its absolute limit',
      () =>
        new Sessions({
          apiKey: KEY,
          idleSeconds: 48 * 3600,
          maxSeconds: 48 * 3600,
          now: () => Date.now() / 1000 - 25 * 3600,
        }).create(KEY).cookie,
    ],
    ['garbage', () => 'not-a-session'],
  ])('%s: back to sign-in, nothing changed', async (_name, make) => {
    const cookie = make();
    const before = await count();
    const get = await req('/hosts', { cookie });
    expect(get.status).toBe(303);
    expect(get.headers.get('location')).toMatch(/^\/login/);
    const post = await req('/hosts', { ...form({ hostname: 'forged-1', _csrf: 'x' }), cookie });
    expect(post.status).toBe(303);
    expect(post.headers.get('location')).toBe('/login?expired=1');
    expect(await count()).toBe(before);
  });

  it.each([
    ['another origin', { Origin: 'http://evil.example' }, true],
    ['a cross-site fetch', { 'Sec-Fetch-Site': 'cross-site' }, true],
    ['no Origin and no Sec-Fetch-Site', {}, true],
    ['no CSRF token', { Origin: BASE }, false],
    ['a wrong CSRF token', { Origin: BASE }, 'wrong'],
  ] as const)('a form posted from %s: 403, nothing changed', async (_name, headers, token) => {
    const s = await signIn();
    const before = await count();
    const body: Record<string, string> = { hostname: 'csrf-victim' };
    if (token === true) body._csrf = s.csrf;
    if (token === 'wrong') body._csrf = `${s.csrf.slice(0, -2)}xx`;
    const r = await req('/hosts', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body).toString(),
      cookie: s.cookie,
    });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('Nothing was changed');
    expect(await count()).toBe(before);
  });

  it('the CSRF token in the X-CSRF-Token header (htmx) is accepted, and the change is made', async () => {
    const s = await signIn();
    const r = await req('/hosts', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: BASE, 'X-CSRF-Token': s.csrf },
      body: 'hostname=header-token-host',
      cookie: s.cookie,
    });
    expect(r.status).toBe(303);
    expect(
      (await svc.pool.query("SELECT 1 FROM development_hosts WHERE hostname = 'header-token-host'")).rowCount,
    ).toBe(1);
  });
});

describe('pages', () => {
  it('every page answers with the security headers and no inline script', async () => {
    const s = await signIn();
    for (const path of [
      '/',
      '/rules',
      '/rules/new',
      '/tester',
      '/hosts',
      '/teams',
      '/audit',
      '/tail',
      '/config',
      '/dlq/moog',
      '/dlq/alerter',
      '/dlq/dead',
      '/login',
    ]) {
      const r = await req(path, { cookie: s.cookie });
      expect(r.status, path).toBe(path === '/login' ? 303 : 200);
      if (r.status !== 200) continue;
      expect(r.headers.get('content-security-policy'), path).toBe(CSP);
      expect(CSP).toContain("script-src 'self'");
      expect(CSP).not.toContain('unsafe-inline');
      expect(CSP).toContain("frame-ancestors 'none'");
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('referrer-policy')).toBeTruthy();
      expect(r.headers.get('cache-control')).toBe('no-store');
      const html = await r.text();
      // Every <script> has a src (no inline code), every asset is MUTT's own.
      for (const m of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
        expect(m[1], path).toMatch(/src="\/assets\//);
        expect(m[2], path).toBe('');
      }
      expect(html, path).not.toMatch(/https?:\/\/(?!mutt\.test)[a-z0-9.-]+\/[^"]*\.(js|css)/);
      expect(html, path).not.toMatch(/ on[a-z]+="/);
      expect(html, path).not.toMatch(/ style="/);
    }
  });

  it('hostile host names and messages are rendered as text, never as markup', async () => {
    const s = await signIn();
    const evil = `<img src=x onerror=alert(1)>"'&`;
    const add = await req('/hosts', { ...form({ hostname: evil, _csrf: s.csrf }), cookie: s.cookie });
    expect(add.status).toBe(303);
    const html = await (await req('/hosts', { cookie: s.cookie })).text();
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    // The same in the audit viewer: a message with markup, quotes and a control character.
    const rule = await svc.pool.query<{ id: number }>(
      "INSERT INTO alert_rules (match_string, prod_handling, dev_handling, team_assignment) VALUES ('x', 'Ignore', 'Ignore', 'T') RETURNING id",
    );
    await svc.pool.query(
      `INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision, raw_message) VALUES (now(), $1, $2, 'Ignore', $3)`,
      [
        evil,
        rule.rows[0]!.id,
        JSON.stringify({ hostname: evil, message: `</td><script>alert(2)</script>\u0007 "q"` }),
      ],
    );
    const audit = await (await req('/audit', { cookie: s.cookie })).text();
    expect(audit).not.toContain('<script>alert(2)');
    expect(audit).toContain('&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(audit).not.toContain('<img src=x');
  });

  it('a 1 MB message is shown truncated with a “show all” control', async () => {
    const s = await signIn();
    const rule = await svc.pool.query<{ id: number }>(
      "INSERT INTO alert_rules (match_string, prod_handling, dev_handling, team_assignment) VALUES ('big', 'Ignore', 'Ignore', 'T') RETURNING id",
    );
    const big = `big ${'x'.repeat(1_000_000)}`;
    const ins = await svc.pool.query<{ id: string }>(
      `INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision, raw_message) VALUES (now() + interval '1 second', 'bighost', $1, 'Ignore', $2) RETURNING id`,
      [rule.rows[0]!.id, JSON.stringify({ hostname: 'bighost', message: big })],
    );
    const list = await (await req('/audit?hostname=bighost', { cookie: s.cookie })).text();
    expect(list).toContain('show all (1,000,004 characters)');
    expect(list.length).toBeLessThan(60_000); // the list carries a bounded part, not the megabyte
    const detail = await req(`/audit/${ins.rows[0]!.id}`, { cookie: s.cookie });
    expect(detail.status).toBe(200);
    const text = await detail.text();
    expect(text).toContain('show all (1,000,004 characters)');
  });

  it('a rule form with an invalid regex: the service’s reason under the field, the other fields kept', async () => {
    const s = await signIn();
    const r = await req('/rules', {
      ...form({
        _csrf: s.csrf,
        match_type: 'regex',
        match_string: '(unclosed',
        priority: '7',
        prod_handling: 'Page_only',
        dev_handling: 'Ignore',
        team_assignment: 'KEEP-ME',
        name: 'my "draft"',
      }),
      cookie: s.cookie,
    });
    expect(r.status).toBe(400);
    const html = await r.text();
    const err =
      /<div class="field invalid"><label for="f-match_string">[\s\S]*?<div class="error" id="e-match_string" role="alert">([^<]+)<\/div>/.exec(
        html,
      );
    expect(err?.[1]).toMatch(/missing closing \)|regex/i);
    expect(html).toContain('value="KEEP-ME"');
    expect(html).toContain('value="my &quot;draft&quot;"');
    expect(html).toContain('value="7"');
    expect(html).toMatch(/<option value="Page_only" selected="">/);
    // A priority that is not a number: the schema's own words.
    const p = await req('/rules', {
      ...form({
        _csrf: s.csrf,
        match_string: 'x',
        priority: 'ten',
        prod_handling: 'Ignore',
        dev_handling: 'Ignore',
        team_assignment: 'T',
      }),
      cookie: s.cookie,
    });
    expect(await p.text()).toMatch(/id="e-priority" role="alert">expected an integer</);
  });

  it('a change with a stale form shows what changed since it was opened', async () => {
    const s = await signIn();
    const created = await req('/rules', {
      ...form({
        _csrf: s.csrf,
        match_string: 'stale-test',
        prod_handling: 'Ignore',
        dev_handling: 'Ignore',
        team_assignment: 'A',
      }),
      cookie: s.cookie,
    });
    const id = /saved=(\d+)/.exec(created.headers.get('location') ?? '')![1]!;
    const edit = await (await req(`/rules/${id}`, { cookie: s.cookie })).text();
    const etag = /name="etag" value="([^"]+)"/.exec(edit)![1]!.replace(/&quot;/g, '"');
    const orig = /name="orig" value="([^"]+)"/.exec(edit)![1]!.replace(/&quot;/g, '"');
    // Someone else changes the team.
    await svc.pool.query("UPDATE alert_rules SET team_assignment = 'B' WHERE id = $1", [id]);
    const r = await req(`/rules/${id}`, {
      ...form({
        _csrf: s.csrf,
        etag,
        orig,
        match_string: 'stale-test',
        prod_handling: 'Ignore',
        dev_handling: 'Ignore',
        team_assignment: 'C',
      }),
      cookie: s.cookie,
    });
    expect(r.status).toBe(412);
    const html = await r.text();
    expect(html).toContain('This rule was changed since you opened the form');
    expect(html).toMatch(/team_assignment: <del>A<\/del> → <ins>B<\/ins>/);
    expect(html).toContain('value="C"');
  });

  it('assets: content-hashed, cached for a year, and every page within 150 KB of script and style', async () => {
    for (const a of Object.values(ASSETS)) {
      expect(a.bytes, a.path).toBeGreaterThan(1000);
      const r = await req(a.path);
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(r.headers.get('content-type')).toBe(a.type);
    }
    expect((await req('/assets/app.0000000000.js')).status).toBe(404);
    const s = await signIn();
    for (const path of ['/', '/rules', '/audit', '/tail', '/dlq/moog', '/login']) {
      const html = await (await req(path, { cookie: path === '/login' ? undefined : s.cookie })).text();
      let bytes = 0;
      for (const m of html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g))
        bytes += Object.values(ASSETS).find((a) => a.path === m[1])!.bytes;
      expect(bytes, path).toBeGreaterThan(0);
      expect(bytes, path).toBeLessThan(150 * 1024);
    }
  });

  it('an unknown page is an HTML 404 for people; an unknown API path keeps the API’s JSON 404', async () => {
    const s = await signIn();
    const r = await req('/no-such-page?x=<b>', { cookie: s.cookie });
    expect(r.status).toBe(404);
    expect(await r.text()).toContain('There is no page at <code>/no-such-page</code>');
    const a = await req('/api/v2/no-such-thing', { headers: { 'X-API-KEY': KEY } });
    expect(a.status).toBe(404);
    expect(((await a.json()) as { error: string }).error).toMatch(/Not found/);
  });

  it('the API keeps its key check beside the UI: a session cookie is no API key', async () => {
    const s = await signIn();
    expect((await req('/api/v2/rules', { cookie: s.cookie })).status).toBe(401);
    expect((await req('/api/v2/rules', { headers: { 'X-API-KEY': KEY } })).status).toBe(200);
  });
});

describe('page by page', () => {
  it('dashboard: the noisiest unhandled message offers a rule made from it, prefilled in the rule form', async () => {
    const s = await signIn();
    const msg = '%LINK-3-UPDOWN: Interface Gi0/4, changed state to down';
    const { unhandledSignature } = await import('../src/core/alerter/template.ts');
    await svc.redis.set(ctx.keys.unhandled('sw9', unhandledSignature(msg, 'template')), '77');
    await svc.redis.lpush(
      ctx.keys.recentEvents,
      JSON.stringify({
        hostname: 'sw9',
        message: msg,
        timestamp: '2026-01-01T00:00:00Z',
        _correlation_id: 'u-1',
      }),
    );
    const html = await (await req('/', { cookie: s.cookie })).text();
    expect(html).toContain('Top unhandled messages');
    const link = /href="(\/rules\/new\?[^"]+)"[^>]*>\s*Make a rule from this/
      .exec(html)?.[1]
      ?.replace(/&amp;/g, '&');
    expect(link).toBeTruthy();
    const form = await (await req(link!, { cookie: s.cookie })).text();
    expect(form).toMatch(/<option value="regex" selected="">/);
    expect(form).toContain('value="%LINK-[0-9]+-UPDOWN: Interface Gi[0-9]+/[0-9]+, changed state to down"');
    expect(form).toContain('Prefilled from an unhandled message');
  });

  it('dev hosts and teams: a CSV import answers line by line; removal asks once with the count', async () => {
    const s = await signIn();
    const r = await req('/teams/import', {
      ...form({ _csrf: s.csrf, csv: 'hostname,team_assignment\nimp-1,NETO\nimp-2\nimp-1,WAN' }),
      cookie: s.cookie,
    });
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toMatch(/<strong>1<\/strong> added/);
    expect(html).toContain('expected two fields (hostname,team_assignment), got 1');
    expect(html).toContain('same host as line 2');
    const confirm = await req('/teams/delete/confirm', {
      method: 'POST',
      headers: { Origin: BASE, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(s.csrf)}&hostname=imp-1`,
      cookie: s.cookie,
    });
    expect(await confirm.text()).toContain('This removes 1 team mapping: imp-1.');
    expect((await svc.pool.query("SELECT 1 FROM device_teams WHERE hostname = 'imp-1'")).rowCount).toBe(1);
    const del = await req('/teams/delete', {
      ...form({ _csrf: s.csrf, hostname: 'imp-1', reason: 'gone' }),
      cookie: s.cookie,
    });
    expect(del.status).toBe(303);
    expect((await svc.pool.query("SELECT 1 FROM device_teams WHERE hostname = 'imp-1'")).rowCount).toBe(0);
  });

  it('config: a value out of range is answered under that key’s field; a good one is set with its reason and shows in the history', async () => {
    const s = await signIn();
    const bad = await req('/config/unhandled_threshold', {
      ...form({ _csrf: s.csrf, value: 'ten' }),
      cookie: s.cookie,
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/id="err-unhandled_threshold" role="alert">[^<]*is not an integer/);
    const good = await req('/config/unhandled_threshold', {
      ...form({ _csrf: s.csrf, value: '42', reason: 'storm week' }),
      cookie: s.cookie,
    });
    expect(good.status).toBe(303);
    expect(await svc.redis.get(ctx.keys.config('unhandled_threshold'))).toBe('42');
    const hist = await (await req('/config?history=unhandled_threshold', { cookie: s.cookie })).text();
    expect(hist).toContain('storm week');
    expect(hist).toMatch(/value: <ins>42<\/ins>/);
  });

  it('audit: a bad filter is answered under its field; the export streams the filtered rows as CSV', async () => {
    const s = await signIn();
    const bad = await req('/audit?start_date=yesterday', { cookie: s.cookie });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/id="e-start_date" role="alert">expected an ISO 8601 date/);
    const csv = await req('/audit/export?format=csv&hostname=bighost', { cookie: s.cookie });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="mutt-audit-\d+T\d+\.csv"/);
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toBe(
      'id,event_timestamp,hostname,matched_rule_id,handling_decision,forwarded_to_moog,raw_message',
    );
    expect(text).toContain(',bighost,');
  });

  it('DLQ: a purge needs a reason, and nothing is purged without one', async () => {
    const s = await signIn();
    await svc.redis.lpush(
      ctx.keys.moogDlq,
      JSON.stringify({ hostname: 'p1', _dlq_reason: 'HTTP 400', _correlation_id: 'purge-1' }),
    );
    const list = await (await req('/dlq/moog', { cookie: s.cookie })).text();
    const id = /name="ids" value="([0-9a-f]{16})"/.exec(list)![1]!;
    const confirm = await req('/dlq/moog/confirm', {
      ...form({ _csrf: s.csrf, action: 'purge', ids: id }),
      cookie: s.cookie,
    });
    expect(await confirm.text()).toContain('This deletes 1 item for good.');
    const none = await req('/dlq/moog/purge', {
      ...form({ _csrf: s.csrf, ids: id, note: '' }),
      cookie: s.cookie,
    });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('note: must not be empty');
    expect(await svc.redis.llen(ctx.keys.moogDlq)).toBe(1);
    const done = await req('/dlq/moog/purge', {
      ...form({ _csrf: s.csrf, ids: id, note: 'test data' }),
      cookie: s.cookie,
    });
    expect(done.status).toBe(303);
    expect(await svc.redis.llen(ctx.keys.moogDlq)).toBe(0);
  });
});

describe('sign-in limit (last: it blocks the address)', () => {
  it('too many wrong keys from one address: 429 for a minute', async () => {
    // app.request has no socket: every request counts under one "unknown" address.
    let last = 0;
    for (let i = 0; i < 12; i++) last = (await req('/login', form({ api_key: `wrong-${i}` }))).status;
    expect(last).toBe(429);
  });
});
