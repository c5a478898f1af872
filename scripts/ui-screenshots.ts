#!/usr/bin/env node
// `npm run docs:screenshots`: starts MUTT as the quick start does (its own Redis and PostgreSQL in a
// scratch data directory, private ports), gives it a small demo data set through its own doors (the
// admin API, HTTP ingest, syslog from `logger`, a few dead letters), and photographs every page of
// the admin UI with Debian's Chromium at 1280×800 into docs/ui/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { launchChromium } from '../test/harness/browser.ts';

const OUT = 'docs/ui';
const KEY = 'demo-admin-key';
const INGEST = 'demo-ingest-key';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'mutt-shots-'));
spawnSync('chmod', ['711', dir]);
const ports = { web: await freePort(), ingest: await freePort(), udp: await freePort() };
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/root',
  MUTT_ENV_FILE: '/dev/null',
  MUTT_DATA_DIR: join(dir, 'data'),
  WEBUI_API_KEY: KEY,
  INGEST_API_KEY: INGEST,
  SERVER_PORT_WEBUI: String(ports.web),
  SERVER_PORT_INGESTOR: String(ports.ingest),
  SYSLOG_UDP_PORT: String(ports.udp),
  SYSLOG_TCP_PORT: '0',
  SYSLOG_TLS_PORT: '0',
  SNMP_TRAP_PORT: '0',
  POD_NAME: 'mutt-demo-1',
  LOG_LEVEL: 'INFO',
};
const mutt = spawn(process.execPath, ['dist/mutt.js', 'serve'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  let buf = '';
  const timer = setTimeout(() => reject(new Error('mutt did not start in 180 s')), 180_000);
  mutt.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    if (buf.includes('"alerter started"') && buf.includes('"MUTT is running"')) {
      clearTimeout(timer);
      resolve();
    }
  });
  mutt.once('exit', (code) => reject(new Error(`mutt exited with ${code}`)));
});
mutt.stdout.resume();

const base = `http://127.0.0.1:${ports.web}`;
const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${base}/api/v2${path}`, {
    method,
    headers: { 'X-API-KEY': KEY, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<any>;
};
const ingest = (events: Record<string, unknown>[]) =>
  fetch(`http://127.0.0.1:${ports.ingest}/ingest`, {
    method: 'POST',
    headers: { 'X-API-KEY': INGEST, 'Content-Type': 'application/json' },
    body: JSON.stringify(events.map((e) => ({ timestamp: new Date().toISOString(), ...e }))),
  });
const syslog = (line: string) =>
  spawnSync('logger', [
    '--server',
    '127.0.0.1',
    '--port',
    String(ports.udp),
    '--udp',
    '-p',
    'local7.err',
    line,
  ]);

try {
  // ── demo data ──
  const rules = [
    {
      name: 'interface down',
      match_type: 'contains',
      match_string: '%LINK-3-UPDOWN',
      priority: 10,
      prod_handling: 'Page_and_ticket',
      dev_handling: 'Ignore',
      team_assignment: 'NETO',
    },
    {
      name: 'BGP neighbour lost',
      match_type: 'regex',
      match_string: 'BGP-5-ADJCHANGE: neighbor \\S+ Down',
      priority: 5,
      prod_handling: 'Page_and_ticket',
      dev_handling: 'Ticket_only',
      team_assignment: 'WAN',
    },
    {
      name: 'power supply',
      match_type: 'contains',
      match_string: '%PLATFORM_ENV-1-PWR',
      priority: 1,
      prod_handling: 'Page_only',
      dev_handling: 'Ignore',
      team_assignment: 'DC-OPS',
    },
    {
      name: 'link up (noise)',
      match_type: 'contains',
      match_string: 'changed state to up',
      priority: 50,
      prod_handling: 'Ignore',
      dev_handling: 'Ignore',
      team_assignment: 'NETO',
    },
    {
      name: 'cold start trap',
      match_type: 'oid_prefix',
      trap_oid: '1.3.6.1.6.3.1.1.5.1',
      priority: 20,
      prod_handling: 'Ticket_only',
      dev_handling: 'Ignore',
      team_assignment: 'NETO',
    },
    {
      name: 'config change',
      match_type: 'contains',
      match_string: '%SYS-5-CONFIG_I',
      priority: 80,
      prod_handling: 'Log_only',
      dev_handling: 'Ignore',
      team_assignment: 'NETO',
      is_active: false,
    },
  ];
  for (const r of rules) await api('POST', '/rules', { ...r, reason: 'initial rule set' });
  const first = (await api('GET', '/rules')).rules.find((r: { name: string }) => r.name === 'interface down');
  await api('PUT', `/rules/${first.id}`, { priority: 8, reason: 'before the link-up noise rule' });
  for (const h of ['lab-sw1', 'lab-sw2', 'lab-rtr1'])
    await api('POST', '/dev-hosts', { hostname: h, reason: 'lab' });
  for (const [h, t] of [
    ['core-rtr-01', 'WAN'],
    ['core-rtr-02', 'WAN'],
    ['dc1-sw-17', 'DC-OPS'],
    ['edge-fw-01', 'SECOPS'],
  ])
    await api('POST', '/teams', { hostname: h, team_assignment: t });
  await api('PUT', '/config/unhandled_threshold', { value: '50', reason: 'noisy maintenance week' });
  const hosts = ['core-rtr-01', 'core-rtr-02', 'dc1-sw-17', 'edge-fw-01', 'lab-sw1'];
  for (let i = 0; i < 40; i++) {
    syslog(`%LINK-3-UPDOWN: Interface GigabitEthernet0/${i % 8}, changed state to down`);
    if (i % 4 === 0) syslog(`%BGP-5-ADJCHANGE: neighbor 192.0.2.${i} Down BGP Notification sent`);
    if (i % 3 === 0) syslog(`%LINK-3-UPDOWN: Interface GigabitEthernet0/${i % 8}, changed state to up`);
    await sleep(30);
  }
  await ingest(
    Array.from({ length: 60 }, (_, i) => ({
      hostname: hosts[i % hosts.length],
      message:
        i % 2
          ? `%SEC-6-IPACCESSLOGP: list 101 denied tcp 198.51.100.${i}(4431) -> 203.0.113.5(22), 1 packet`
          : `%DUAL-5-NBRCHANGE: EIGRP-IPv4 100: Neighbor 10.0.${i}.2 (Vlan${i}) is up: new adjacency`,
      source: 'webhook',
    })),
  );
  await ingest([
    { hostname: 'dc1-sw-17', message: '%PLATFORM_ENV-1-PWR: Power supply 2 failed', syslog_severity: 1 },
  ]);
  // Dead letters: alerts Moogsoft refused.
  const redis = new Redis({ path: join(dir, 'data', 'redis', 'redis.sock') });
  for (let i = 0; i < 4; i++)
    await redis.lpush(
      'mutt:dlq:moog',
      JSON.stringify({
        hostname: hosts[i],
        team_assignment: 'NETO',
        severity: 'Major',
        message_body: `%LINK-3-UPDOWN: Interface GigabitEthernet0/${i}, changed state to down`,
        _correlation_id: `demo-dlq-${i}`,
        _moog_retry_count: 5,
        _dlq_reason:
          i === 3
            ? 'HTTP 422: Unprocessable Entity: "severity" must be an integer'
            : 'HTTP 400: Bad Request: missing field "source"',
        _dlq_code: i === 3 ? 'http_422' : 'http_400',
        _failed_at: new Date(Date.now() - (i + 1) * 420_000).toISOString(),
      }),
    );
  // A day of history for the 24 h chart (events per minute, a working-day curve), as the ingest
  // paths count them; the minutes of this run keep their real counts.
  const minute = 60_000;
  const now = Math.floor(Date.now() / minute) * minute;
  const day = redis.pipeline();
  for (let i = 2; i < 1440; i++) {
    const at = new Date(now - i * minute);
    const hour = at.getUTCHours() + at.getUTCMinutes() / 60;
    const rate = Math.round(
      900 +
        700 * Math.sin(((hour - 6) / 24) * 2 * Math.PI) +
        150 * Math.sin(i / 7) +
        (i % 97 === 0 ? 2500 : 0),
    );
    day.set(`mutt:metrics:1m:${at.toISOString().slice(0, 16)}`, String(Math.max(0, rate)), 'EX', 90_000);
  }
  await day.exec();
  redis.disconnect();
  // Into the next minute, so "events/s, last minute" counts this run's events.
  await sleep(minute - (Date.now() % minute) + 3000);

  // ── photographs ──
  mkdirSync(OUT, { recursive: true });
  const chromium = await launchChromium({ width: 1280, height: 800 });
  const page = await chromium.browser.newPage();
  const shot = async (name: string, path?: string, before?: () => Promise<void>) => {
    if (path) await page.goto(`${base}${path}`, { waitUntil: 'load' });
    if (before) await before();
    await sleep(600);
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    process.stdout.write(`${OUT}/${name}.png\n`);
  };
  await shot('sign-in', '/login');
  await page.fill('#f-api_key', KEY);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
  await shot('dashboard', '/', () => sleep(2500));
  await shot('rules', '/rules');
  await shot('rule-form-error', '/rules/new', async () => {
    await page.selectOption('#f-match_type', 'regex');
    await page.fill('#f-match_string', 'BGP-5-ADJCHANGE: neighbor (\\S+ Down');
    await page.fill('#f-team_assignment', 'WAN');
    await Promise.all([page.waitForLoadState('load'), page.click('#rule-form button.primary')]);
    await page.waitForSelector('#e-match_string');
    await page.locator('#f-match_string').scrollIntoViewIfNeeded();
  });
  await shot('rule-history', `/rules/${first.id}/history`);
  await shot('rule-tester', '/tester', async () => {
    await page.fill('#f-event', '%LINK-3-UPDOWN: Interface GigabitEthernet0/3, changed state to down');
    await page.fill('#f-hostname', 'core-rtr-01');
    await page.fill('#f-match_string', 'GigabitEthernet0/3');
    await page.fill('#f-priority', '1');
    await page.selectOption('#f-prod_handling', 'Ticket_only');
    await page.click('#tester-form button.primary');
    await page.waitForSelector('#set-result');
    await page.locator('#result').scrollIntoViewIfNeeded();
  });
  await shot('dev-hosts', '/hosts', async () => {
    await page.fill('#f-csv', 'hostname\nlab-sw3\nlab-sw1\nlab\u0007bad\nlab-sw4');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/hosts/import"] button')]);
    await page.locator('#import-result').scrollIntoViewIfNeeded();
  });
  await shot('teams', '/teams');
  await shot('audit', '/audit');
  await shot('audit-detail', '/audit', async () => {
    await Promise.all([page.waitForLoadState('load'), page.click('#audit-table tbody tr td a >> nth=0')]);
  });
  await shot('live-tail', '/tail', async () => {
    await page.waitForFunction("document.getElementById('tail-status').dataset.state === 'live'");
    for (let i = 0; i < 12; i++) {
      syslog(`%LINK-3-UPDOWN: Interface GigabitEthernet1/${i}, changed state to ${i % 3 ? 'down' : 'up'}`);
      await sleep(150);
    }
    await sleep(1500);
  });
  await shot('config', '/config?history=unhandled_threshold');
  await shot('dlq', '/dlq/moog');
  await shot('dlq-confirm', '/dlq/moog', async () => {
    await page.check('#dlq-table tbody tr:nth-child(1) input[type=checkbox]');
    await page.check('#dlq-table tbody tr:nth-child(2) input[type=checkbox]');
    await Promise.all([page.waitForLoadState('load'), page.click('button[value=replay]')]);
  });
  // Dark, as a browser set to a dark system theme shows it.
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot('dashboard-dark', '/', () => sleep(2500));
  await chromium.close();
} finally {
  mutt.kill('SIGTERM');
  await new Promise((r) => mutt.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
