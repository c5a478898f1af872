// The admin UI in Debian's Chromium (playwright-core, headless) against a real `mutt serve` (the
// bundle, spawned as an operator runs it) on the harness's real Redis and PostgreSQL: sign in, make a
// rule in the form, send syslog with `logger` and follow it to the live tail, the audit viewer and the
// dashboard count, use the rule tester, replay a DLQ item; and the bad-input table — field errors,
// hostile host names and 1 MB messages, forged sessions, a cross-site post, PostgreSQL and MUTT
// itself going away under an open page — at 1280×800 and 1920×1080.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../harness/alerting.ts';
import { launchChromium, type RunningBrowser } from '../harness/browser.ts';
import { type MuttProcess, startMutt } from '../harness/mutt-process.ts';
import { freePort, freeUdpPort } from '../harness/ports.ts';
import { type TestServices, useServices } from '../harness/services.ts';
import { logger } from '../harness/syslog-clients.ts';
import { TcpProxy } from '../harness/tcp-proxy.ts';

const KEY = 'browser-test-admin-key-4f1c';
const INGEST_KEY = 'browser-test-ingest-key-9a2e';
const TAG = 'UITEST-LINK-3-UPDOWN';
let svc: TestServices;
let mutt: MuttProcess;
let pgProxy: TcpProxy;
let webProxy: TcpProxy;
let chromium: RunningBrowser;
let page: Page;
let base: string;
const ports = { ingest: 0, webui: 0, udp: 0 };
const dialogs: string[] = [];
const cspViolations: string[] = [];
let ruleId = 0;

async function watch(p: Page): Promise<Page> {
  p.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  p.on('console', (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(m.text()))
      cspViolations.push(m.text());
  });
  return p;
}

beforeAll(async () => {
  svc = await useServices();
  pgProxy = await TcpProxy.start({ host: svc.services.postgres.host, port: svc.services.postgres.port });
  ports.ingest = await freePort();
  ports.webui = await freePort();
  ports.udp = await freeUdpPort();
  mutt = startMutt({
    ...svc.env,
    DB_PORT: String(pgProxy.port),
    INGEST_API_KEY: INGEST_KEY,
    WEBUI_API_KEY: KEY,
    SERVER_PORT_INGESTOR: String(ports.ingest),
    SERVER_PORT_WEBUI: String(ports.webui),
    SYSLOG_UDP_PORT: String(ports.udp),
    ALERTER_WORKERS: '1',
    LOG_LEVEL: 'INFO',
  });
  await mutt.waitForMessage('MUTT is running', 120_000);
  await mutt.waitForMessage('alerter started', 60_000);
  webProxy = await TcpProxy.start({ host: '127.0.0.1', port: ports.webui });
  base = `http://127.0.0.1:${webProxy.port}`;
  chromium = await launchChromium({ width: 1280, height: 800 });
  page = await watch(await chromium.browser.newPage());
}, 240_000);

afterAll(async () => {
  await chromium?.close();
  await mutt?.stop();
  await webProxy?.cut();
  await pgProxy?.cut();
  await svc?.cleanup();
});

const ingest = (event: Record<string, unknown>) =>
  fetch(`http://127.0.0.1:${ports.ingest}/ingest`, {
    method: 'POST',
    headers: { 'X-API-KEY': INGEST_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ timestamp: new Date().toISOString(), ...event }),
  });

describe('the operator’s path', () => {
  it('signs in with the admin key (a wrong key is answered next to the field)', async () => {
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#f-api_key', 'not-the-key');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#e-api_key')).toBe('This key is not valid');
    await page.fill('#f-api_key', KEY);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    expect(await page.textContent('h1')).toBe('Dashboard');
    const cookie = (await chromium.browser.cookies(base)).find((c) => c.name === 'mutt_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000 + 3600);
  });

  it('a wrong field shows its error next to the field, the rest kept; then the rule is created', async () => {
    await page.goto(`${base}/rules/new`);
    await page.selectOption('#f-match_type', 'regex');
    await page.fill('#f-match_string', `${TAG}(`);
    await page.fill('#f-priority', '5');
    await page.fill('#f-team_assignment', 'NETO');
    await page.fill('#f-name', 'browser test rule');
    await page.click('#rule-form button.primary');
    await page.waitForSelector('#e-match_string');
    expect(await page.textContent('#e-match_string')).toMatch(/missing closing \)/);
    expect(await page.inputValue('#f-team_assignment')).toBe('NETO');
    expect(await page.inputValue('#f-name')).toBe('browser test rule');
    expect(await page.getAttribute('#f-match_string', 'aria-invalid')).toBe('true');
    await page.selectOption('#f-match_type', 'contains');
    await page.fill('#f-match_string', TAG);
    await page.click('#rule-form button.primary');
    await page.waitForURL(/\/rules\?saved=\d+/);
    ruleId = Number(/saved=(\d+)/.exec(page.url())![1]);
    expect(await page.textContent(`#rule-${ruleId}`)).toContain('browser test rule');
    expect(await page.textContent('.note.ok')).toContain('Every alerter runs it now');
  });

  it('a syslog message sent with logger shows in the live tail, the audit viewer and the dashboard count', async () => {
    // Not across a minute boundary: the dashboard counts the minute in progress.
    if (new Date().getSeconds() > 45)
      await new Promise((r) => setTimeout(r, (61 - new Date().getSeconds()) * 1000));
    const dash = await watch(await chromium.browser.newPage());
    await dash.goto(`${base}/`);
    const before = Number((await dash.textContent('#minute-count'))!.replace(/,/g, ''));
    // The SLO panel shows the fleet's report (MUTT's own counters: no PROMETHEUS_URL here).
    const slo = (await dash.textContent('#slo'))!;
    expect(slo).toContain('HTTP ingest success');
    expect(slo).toContain("from MUTT's own counters in Redis");
    expect(slo).not.toContain('No SLO report on this node');
    await page.goto(`${base}/tail`);
    await expect.poll(() => page.textContent('#tail-status')).toBe('live');
    const msg = `${TAG}: Interface Gi0/7, changed state to down`;
    expect(
      logger(['--server', '127.0.0.1', '--port', String(ports.udp), '--udp', '-p', 'local7.err', msg]).status,
    ).toBe(0);
    await page.waitForSelector(`#tail tbody tr:has-text("Gi0/7")`, { timeout: 30_000 });
    expect(await page.textContent('#tail tbody tr:has-text("Gi0/7")')).toContain(
      `rule ${ruleId} · Page_and_ticket`,
    );
    // The dashboard (refreshed in place every 3 s) counts it.
    await expect
      .poll(async () => Number((await dash.textContent('#minute-count'))!.replace(/,/g, '')), {
        timeout: 20_000,
      })
      .toBeGreaterThanOrEqual(before + 1);
    await dash.close();
    // The audit viewer: filtered by the rule (the filter is in the URL), then the row's detail.
    await page.goto(`${base}/audit?rule_id=${ruleId}`);
    await page.waitForSelector('#audit-table tbody tr:has-text("Gi0/7")');
    await page.click('#audit-table tbody tr:has-text("Gi0/7") td a >> nth=0');
    await page.waitForURL(/\/audit\/\d+/);
    expect(await page.textContent('#detail-message')).toContain(msg);
  });

  it('the live tail filters by text, pauses on the button (new rows wait), and resumes', async () => {
    const send = (text: string) =>
      expect(
        logger([
          '--server',
          '127.0.0.1',
          '--port',
          String(ports.udp),
          '--udp',
          '-p',
          'local7.err',
          `${TAG}: ${text}`,
        ]).status,
      ).toBe(0);
    await page.goto(`${base}/tail?q=${encodeURIComponent('tail-filter-yes')}`);
    await expect.poll(() => page.textContent('#tail-status')).toBe('live');
    send('tail-filter-no');
    send('tail-filter-yes');
    await page.waitForSelector('#tail tbody tr:has-text("tail-filter-yes")', { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await page.locator('#tail tbody tr:has-text("tail-filter-no")').count()).toBe(0);
    await page.goto(`${base}/tail`);
    await expect.poll(() => page.textContent('#tail-status')).toBe('live');
    await page.click('#tail-pause');
    expect(await page.textContent('#tail-status')).toBe('paused');
    expect(await page.getAttribute('#tail-pause', 'aria-pressed')).toBe('true');
    send('tail-paused-1');
    await new Promise((r) => setTimeout(r, 4000));
    expect(await page.locator('#tail tbody tr:has-text("tail-paused-1")').count()).toBe(0);
    await page.click('#tail-pause');
    await page.waitForSelector('#tail tbody tr:has-text("tail-paused-1")', { timeout: 10_000 });
    expect(await page.locator('#tail tbody tr').count()).toBeLessThanOrEqual(300);
  });

  it('the rule tester says which rule wins a pasted message, and what a draft would catch', async () => {
    await page.goto(`${base}/tester`);
    await page.fill('#f-event', `${TAG}: Interface Gi0/9, changed state to up`);
    await page.click('#tester-form button.primary');
    await expect
      .poll(() => page.textContent('#winner'), { timeout: 20_000 })
      .toBe(`rule ${ruleId} → Page_and_ticket (forwarded)`);
    // A draft that would win it instead, tested on the recent events (the logger message among them).
    await page.fill('#f-match_string', 'Interface Gi0/');
    await page.fill('#f-priority', '1');
    await page.selectOption('#f-prod_handling', 'Ticket_only');
    await page.click('#tester-form button.primary');
    await expect
      .poll(() => page.textContent('#winner-draft'), { timeout: 20_000 })
      .toBe('the draft → Ticket_only (forwarded)');
    expect(Number(await page.textContent('#draft-matches'))).toBeGreaterThanOrEqual(1);
    expect(Number(await page.textContent('#changed'))).toBeGreaterThanOrEqual(1);
    // Nothing was saved.
    expect(
      (await svc.pool.query("SELECT 1 FROM alert_rules WHERE match_string = 'Interface Gi0/'")).rowCount,
    ).toBe(0);
  });

  it('replays a DLQ item after a confirmation that says how many', async () => {
    const item = {
      hostname: 'dlq-host-1',
      team_assignment: 'NETO',
      severity: 'Major',
      message_body: 'replay me',
      raw_json: {},
      _correlation_id: 'ui-dlq-replay-1',
      _moog_retry_count: 5,
      _dlq_reason: 'HTTP 400: bad payload',
      _failed_at: new Date().toISOString(),
    };
    await svc.redis.lpush(svc.keys.moogDlq, JSON.stringify(item));
    await page.goto(`${base}/dlq/moog`);
    const row = page.locator('#dlq-table tbody tr', { hasText: 'dlq-host-1' });
    await row.locator('input[type=checkbox]').check();
    await page.click('button[value=replay]');
    await page.waitForSelector('#confirm-count');
    expect(await page.textContent('#confirm-count')).toBe('This replays 1 item: 1 to alert_queue.');
    await page.fill('#f-note', 'fixed the payload');
    await page.click('form.stack button[type=submit]');
    await page.waitForSelector('#dlq-done');
    expect(await page.textContent('#dlq-done')).toMatch(/Replayed 1 item\(s\) to alert_queue/);
    expect(await svc.redis.llen(svc.keys.moogDlq)).toBe(0);
    // The forwarder delivers it (the file sink of a MUTT without Moogsoft).
    const file = join(svc.env.MUTT_DATA_DIR!, 'alerts.jsonl');
    await until(() => {
      try {
        return readFileSync(file, 'utf8').includes('ui-dlq-replay-1');
      } catch {
        return false;
      }
    }, 30_000);
    const audit = await svc.pool.query("SELECT reason FROM config_audit_log WHERE table_name = 'dlq'");
    expect(audit.rows.map((r) => r.reason)).toContain('fixed the payload');
  });
});

describe('bad input', () => {
  it('a hostname `<img src=x onerror=alert(1)>` and a 1 MB message appear as text, truncated with “show all”, and run nothing', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    expect((await ingest({ hostname: evil, message: `${TAG} "quoted" \u0007 <b>bold</b>` })).status).toBe(
      200,
    );
    const big = `${TAG} ${'y'.repeat(1_000_000)}`;
    expect((await ingest({ hostname: 'big-host', message: big })).status).toBe(200);
    await page.goto(`${base}/audit?hostname=${encodeURIComponent(evil)}`);
    const cell = page.locator('#audit-table tbody tr td:nth-child(2)').first();
    await expect
      .poll(async () => (await page.goto(page.url()), await cell.textContent().catch(() => null)), {
        timeout: 30_000,
      })
      .toBe(evil);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('b:has-text("bold")').count()).toBe(0);
    // The 1 MB message: cut in the list, whole behind "show all" in the detail.
    await page.goto(`${base}/audit?hostname=big-host`);
    await expect
      .poll(async () => (await page.goto(page.url()), await page.locator('#audit-table tbody tr').count()), {
        timeout: 30_000,
      })
      .toBe(1);
    // The audit trail keeps the first 8,192 characters of so large a message (AUDIT_RAW_MESSAGE_MAX_BYTES).
    expect(await page.textContent('#audit-table summary')).toBe('show all (8,192 characters)');
    await page.click('#audit-table tbody tr td a >> nth=0');
    await page.waitForURL(/\/audit\/\d+/);
    expect(await page.textContent('#audit-truncated')).toContain('the message had 1,000,021 characters');
    const summary = page.locator('#detail-message summary');
    expect(await summary.textContent()).toBe('show all (8,192 characters)');
    expect(await page.isVisible('#detail-message pre')).toBe(false);
    await summary.click();
    expect(await page.isVisible('#detail-message pre')).toBe(true);
    expect((await page.locator('#detail-message pre').textContent())!.length).toBe(8192);
    expect(dialogs).toEqual([]);
  });

  it('a forged or expired session cookie: back to sign-in, nothing changed', async () => {
    const ctx = await launchChromium();
    try {
      await ctx.browser.addCookies([{ name: 'mutt_session', value: 'eyJzaWQiOiJ4In0.Zm9yZ2Vk', url: base }]);
      const p = await ctx.browser.newPage();
      await p.goto(`${base}/hosts`);
      expect(new URL(p.url()).pathname).toBe('/login');
    } finally {
      await ctx.close();
    }
  });

  it('a form posted from another site is refused (403) and changes nothing', async () => {
    const evilPort = await freePort();
    const evil: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(
        `<form id="f" method="post" action="${base}/hosts"><input name="hostname" value="cross-site-host"><input name="_csrf" value="guess"></form><script>document.getElementById('f').submit()</script>`,
      );
    });
    await new Promise<void>((r) => evil.listen(evilPort, '127.0.0.1', () => r()));
    try {
      const p = await chromium.browser.newPage();
      const response = p.waitForResponse(
        (r) => r.url() === `${base}/hosts` && r.request().method() === 'POST',
      );
      await p.goto(`http://127.0.0.1:${evilPort}/`);
      expect((await response).status()).toBe(403);
      await p.waitForLoadState();
      expect(await p.textContent('body')).toContain('Nothing was changed');
      await p.close();
    } finally {
      evil.close();
    }
    expect(
      (await svc.pool.query("SELECT 1 FROM development_hosts WHERE hostname = 'cross-site-host'")).rowCount,
    ).toBe(0);
  });

  it('PostgreSQL, then MUTT itself, going away under an open page: a banner says what is down, and goes when it is back', async () => {
    await page.goto(`${base}/rules`);
    expect(await page.textContent('#live-banner')).toBe('');
    await pgProxy.cut();
    const audit = await watch(await chromium.browser.newPage());
    try {
      await expect
        .poll(() => page.textContent('#live-banner'), { timeout: 30_000 })
        .toMatch(/PostgreSQL is unreachable/);
      // A page opened while PostgreSQL is down says so, and loads itself once it is back.
      await audit.goto(`${base}/audit`);
      expect(await audit.textContent('main')).toMatch(/PostgreSQL unavailable/);
      expect(await audit.locator('#audit-table').count()).toBe(0);
    } finally {
      await pgProxy.restore();
    }
    await expect.poll(() => page.textContent('#live-banner'), { timeout: 60_000 }).toBe('');
    await expect.poll(() => audit.locator('#audit-table').count(), { timeout: 60_000 }).toBe(1);
    await audit.close();
    // MUTT itself unreachable: the banner says so, and the live tail shows it reconnecting.
    const tail = await watch(await chromium.browser.newPage());
    await tail.goto(`${base}/tail`);
    await expect.poll(() => tail.textContent('#tail-status')).toBe('live');
    await webProxy.cut();
    try {
      await expect
        .poll(() => page.textContent('#live-banner'), { timeout: 30_000 })
        .toBe('MUTT is not answering — reconnecting…');
      await expect.poll(() => tail.textContent('#tail-status'), { timeout: 30_000 }).toBe('reconnecting…');
    } finally {
      await webProxy.restore();
    }
    await expect.poll(() => page.textContent('#live-banner'), { timeout: 30_000 }).toBe('');
    await expect.poll(() => tail.textContent('#tail-status'), { timeout: 30_000 }).toBe('live');
    await tail.close();
  });

  it('every page works at 1280×800 and 1920×1080: no horizontal scrolling, the navigation reachable by keyboard', async () => {
    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 },
    ]) {
      await page.setViewportSize(size);
      for (const path of [
        '/',
        '/rules',
        `/rules/${ruleId}`,
        `/rules/${ruleId}/history`,
        '/tester',
        '/hosts',
        '/teams',
        '/audit',
        '/tail',
        '/config',
        '/dlq/moog',
      ]) {
        await page.goto(`${base}${path}`);
        const overflow = Number(
          await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
        );
        expect(overflow, `${path} at ${size.width}×${size.height}`).toBeLessThanOrEqual(0);
        expect(await page.locator('nav.main a').count()).toBe(9);
        expect(await page.isVisible('nav.main a[href="/dlq"]')).toBe(true);
      }
      // Keyboard: the skip link first, then the navigation.
      await page.goto(`${base}/rules`);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
      await page.keyboard.press('/');
      expect(await page.evaluate('document.activeElement?.id')).toBe('f-q');
    }
    expect(cspViolations).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
