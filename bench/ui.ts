// Browser benchmark of the admin UI: Debian's Chromium (playwright-core) against a real `mutt serve`
// on a private PostgreSQL holding --rows (default 5,000,000) audit rows and a private Redis.
//
//   first render   each page loaded --samples times after sign-in: navigation start → `load` event
//                  (server time + transfer + parse + scripts), read from the Navigation Timing entry;
//                  the first visit (assets not yet cached) reported beside the median
//   next page      the audit viewer's "Older →" link followed --samples times (cursor paging)
//   live refresh   the dashboard's polled panels: server time of one refresh
//   live tail      --tail-rate (default 2,000) syslog events/s over UDP for --tail-seconds (30): rows in
//                  the DOM (bound 300), frame gaps and main-thread lag in the page, and the round trip
//                  of a script evaluation (how long an operator's click would wait)
//
// Targets: first render < 500 ms per page, next audit page < 300 ms, the tail bounded and responsive.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/runtime/logging.ts';
import { launchChromium } from '../test/harness/browser.ts';
import { freePort, freeUdpPort } from '../test/harness/ports.ts';
import { loadAuditRows } from './lib/audit-rows.ts';
import { startStores } from './lib/stores.ts';
import { fmt, machine, median, percentile } from './lib/env.ts';
import { startMutt } from './lib/mutt.ts';
import { writeSection } from './lib/report.ts';
import { openLoopUdp } from './lib/udp.ts';

const KEY = 'bench-ui-admin-key';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

interface NavTiming {
  responseStart: number;
  responseEnd: number;
  domContentLoadedEventEnd: number;
  loadEventEnd: number;
  transferSize: number;
}

const ms = (n: number) => `${n.toFixed(0)} ms`;

export async function uiBench(o: { seconds: number; runs: number }): Promise<void> {
  const rows = arg('rows', 5_000_000);
  const samples = arg('samples', 10);
  const tailRate = arg('tail-rate', 2000);
  const tailSeconds = arg('tail-seconds', 30);
  const loadBefore = loadavg()[0]!;
  const log = createLogger({ level: 'ERROR', destination: process.stderr });
  const stores = await startStores('ui', log);
  const { pool, dir } = stores;
  const pgPort = stores.pg.port;
  const pgUser = stores.pg.user;
  const redisPort = stores.redis.port;
  const out: string[] = [];
  let loadSeconds = 0;
  try {
    // A working set an operator would have: 50 rules, 100 dev hosts, 200 team mappings.
    const rule = await pool.query<{ id: number }>(
      `INSERT INTO alert_rules (match_string, match_type, priority, prod_handling, dev_handling, team_assignment, name)
       VALUES ('%LINK-3-UPDOWN', 'contains', 10, 'Page_and_ticket', 'Ignore', 'NETO', 'interface down') RETURNING id`,
    );
    await pool.query(
      `INSERT INTO alert_rules (match_string, match_type, priority, prod_handling, dev_handling, team_assignment, name)
       SELECT '%BENCH-' || i || '-EVENT', CASE WHEN i % 3 = 0 THEN 'regex' ELSE 'contains' END, 100 + i, 'Ticket_only', 'Ignore', 'TEAM' || (i % 7), 'rule ' || i
         FROM generate_series(1, 49) AS i`,
    );
    await pool.query(`INSERT INTO development_hosts SELECT 'lab-' || i FROM generate_series(1, 100) AS i`);
    await pool.query(
      `INSERT INTO device_teams SELECT 'host-' || lpad(i::text, 4, '0'), 'TEAM' || (i % 7) FROM generate_series(1, 200) AS i`,
    );
    if (rows > 0)
      loadSeconds = (await loadAuditRows(pool, { rows, ruleId: rule.rows[0]!.id, months: 6, hosts: 2000 }))
        .loadSeconds;
    const total = Number(
      (await pool.query<{ n: string }>('SELECT count(*) AS n FROM event_audit_log')).rows[0]!.n,
    );
    const anyRow = await pool.query<{ id: string }>(
      'SELECT id FROM event_audit_log ORDER BY event_timestamp DESC LIMIT 1',
    );

    const webPort = await freePort();
    const udpPort = await freeUdpPort();
    const mutt = await startMutt({
      MUTT_DATA_DIR: join(dir, 'data'),
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redisPort),
      DB_HOST: '127.0.0.1',
      DB_PORT: String(pgPort),
      DB_USER: pgUser,
      DB_NAME: 'mutt',
      WEBUI_API_KEY: KEY,
      INGEST_API_KEY: 'bench-ingest',
      SERVER_PORT_WEBUI: String(webPort),
      SERVER_PORT_INGESTOR: String(await freePort()),
      SYSLOG_UDP_PORT: String(udpPort),
      SYSLOG_TCP_PORT: '0',
      SYSLOG_TLS_PORT: '0',
      SNMP_TRAP_PORT: '0',
      ALERTER_WORKERS: '1',
    });
    // A few DLQ items to browse.
    const { Redis } = await import('ioredis');
    const redis = new Redis({ host: '127.0.0.1', port: redisPort });
    for (let i = 0; i < 200; i++)
      await redis.lpush(
        'mutt:dlq:moog',
        JSON.stringify({
          hostname: `host-${i}`,
          message_body: 'x',
          _correlation_id: `dlq-${i}`,
          _dlq_reason: 'HTTP 400',
          _failed_at: new Date().toISOString(),
          _moog_retry_count: 5,
        }),
      );
    const base = `http://127.0.0.1:${webPort}`;
    const chromium = await launchChromium({ width: 1280, height: 800 });
    try {
      const page = await chromium.browser.newPage();
      await page.goto(`${base}/login`);
      await page.fill('#f-api_key', KEY);
      await page.click('button[type=submit]');
      await page.waitForURL(`${base}/`);
      const timing = async (): Promise<NavTiming> =>
        JSON.parse(
          String(await page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")),
        ) as NavTiming;

      // ── first render, per page ──
      const pages = [
        ['dashboard', '/'],
        ['rules', '/rules'],
        ['rule tester', '/tester'],
        ['dev hosts', '/hosts'],
        ['teams', '/teams'],
        ['audit viewer', '/audit'],
        ['audit viewer, one host', '/audit?hostname=host-0042'],
        ['audit detail', `/audit/${anyRow.rows[0]?.id ?? 1}`],
        ['live tail', '/tail'],
        ['config', '/config'],
        ['DLQ', '/dlq/moog'],
      ] as const;
      const table: string[] = [
        '| page | first visit | median | p90 | server (TTFB, median) | bytes (HTML) | target < 500 ms |',
        '|---|---|---|---|---|---|---|',
      ];
      let allMet = true;
      for (const [name, path] of pages) {
        const loads: number[] = [];
        const ttfb: number[] = [];
        let first = 0;
        let bytes = 0;
        for (let i = 0; i <= samples; i++) {
          await page.goto(`${base}${path}`, { waitUntil: 'load' });
          const t = await timing();
          if (i === 0) {
            first = t.loadEventEnd;
            continue;
          }
          loads.push(t.loadEventEnd);
          ttfb.push(t.responseStart);
          bytes = t.transferSize;
        }
        const sorted = [...loads].sort((a, b) => a - b);
        const med = median(loads);
        const met = med < 500;
        allMet &&= met;
        table.push(
          `| ${name} | ${ms(first)} | **${ms(med)}** | ${ms(percentile(sorted, 90))} | ${ms(median(ttfb))} | ${fmt(bytes)} | ${met ? 'met' : 'missed'} |`,
        );
        process.stderr.write(`  ${name}: median ${ms(med)}\n`);
      }

      // ── the audit viewer's next page ──
      await page.goto(`${base}/audit`, { waitUntil: 'load' });
      const next: number[] = [];
      for (let i = 0; i < samples * 2; i++) {
        await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#next-page')]);
        next.push((await timing()).loadEventEnd);
      }
      const nextSorted = [...next].sort((a, b) => a - b);

      // ── the dashboard's live refresh ──
      const cookie = (await chromium.browser.cookies(base)).find((c) => c.name === 'mutt_session')!;
      const refresh: Record<string, number[]> = { rates: [], status: [] };
      for (const part of ['rates', 'status'] as const)
        for (let i = 0; i < 50; i++) {
          const t0 = performance.now();
          const r = await fetch(`${base}/dashboard/panels?part=${part}`, {
            headers: { Cookie: `mutt_session=${cookie.value}` },
          });
          await r.text();
          refresh[part]!.push(performance.now() - t0);
        }

      // ── the live tail at tailRate events/s ──
      await page.goto(`${base}/tail`, { waitUntil: 'load' });
      await page.waitForFunction("document.getElementById('tail-status').dataset.state === 'live'");
      await page.evaluate(`(() => {
        const m = { gaps: [], lags: [], maxRows: 0 };
        window.__tailBench = m;
        let last = performance.now();
        const frame = (t) => { m.gaps.push(t - last); last = t; const n = document.querySelectorAll('#tail tbody tr').length; if (n > m.maxRows) m.maxRows = n; requestAnimationFrame(frame); };
        requestAnimationFrame(frame);
        let due = performance.now() + 100;
        setInterval(() => { const now = performance.now(); m.lags.push(Math.max(0, now - due)); due = now + 100; }, 100);
      })()`);
      const roundTrips: number[] = [];
      let sending = true;
      const probe = (async () => {
        while (sending) {
          const t0 = performance.now();
          await page.evaluate('1');
          roundTrips.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      const line = (n: number) =>
        Buffer.from(
          `<187>Mar 10 12:00:00 host-${n % 2000} %LINK-3-UPDOWN: Interface GigabitEthernet0/${n % 48}, changed state to down (${n})`,
        );
      const sent = await openLoopUdp(udpPort, tailRate, tailSeconds, line);
      sending = false;
      await probe;
      const m = JSON.parse(
        String(
          await page.evaluate(
            "JSON.stringify({ gaps: window.__tailBench.gaps.slice(10), lags: window.__tailBench.lags, maxRows: window.__tailBench.maxRows, shown: document.getElementById('tail-count').textContent })",
          ),
        ),
      ) as { gaps: number[]; lags: number[]; maxRows: number; shown: string };
      const gaps = m.gaps.sort((a, b) => a - b);
      const lags = m.lags.sort((a, b) => a - b);
      const trips = [...roundTrips].sort((a, b) => a - b);
      await redis.quit();
      await mutt.stop();
      const loadAfter = loadavg()[0]!;

      out.push(
        `Command: \`npm run bench -- ui\` (${samples} loads per page after a first visit; ${samples * 2} next-page clicks; the tail at ${fmt(tailRate)} events/s for ${tailSeconds} s). Measured ${new Date().toISOString().slice(0, 10)} on: ${machine()}; Chromium ${chromium.browser.browser()?.version() ?? ''} headless at 1280×800. One-minute load average: ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after${loadBefore > 1.5 || loadAfter > 1.5 ? ' (the machine was shared with other busy work: read these figures with that load beside them)' : ''}.`,
        `Data: ${fmt(total)} rows of \`event_audit_log\` over 6 monthly partitions${rows > 0 ? ` (generated in SQL in ${loadSeconds.toFixed(0)} s)` : ''}, 50 rules, 100 development hosts, 200 team mappings, 200 DLQ items; \`mutt serve\` (the bundle) with one alerter worker, on a private PostgreSQL and Redis.`,
        '',
        '**First render**: navigation start to the `load` event (server time, transfer, parsing, scripts; assets come from the immutable cache after the first visit).',
        '',
        ...table,
        '',
        `**Audit viewer, next page** (cursor paging, 50 rows, ${fmt(total)} rows in the table): median **${ms(median(next))}**, p90 ${ms(percentile(nextSorted, 90))}, worst ${ms(nextSorted[nextSorted.length - 1] ?? 0)} — target < 300 ms: ${median(next) < 300 ? 'met' : 'missed'}.`,
        '',
        `**Dashboard live refresh** (polled every 3 s; server time of one refresh over HTTP): rates ${ms(median(refresh.rates!))} median, status (fleet status from Redis, health) ${ms(median(refresh.status!))} median.`,
        '',
        `**Live tail at ${fmt(tailRate)} events/s** (${fmt(sent.sent)} syslog datagrams in ${sent.elapsed.toFixed(1)} s): at most **${m.maxRows}** rows in the DOM (bound 300); ${m.shown || 'no rows'} (the tail is a sample at this rate: the alerters keep up to 20 events of each batch for it); frame gaps median ${ms(median(gaps))}, p99 ${ms(percentile(gaps, 99))}, worst ${ms(gaps[gaps.length - 1] ?? 0)}; timer lag p99 ${ms(percentile(lags, 99))}; a script round trip into the page (what a click waits for) median ${ms(median(trips))}, p99 ${ms(percentile(trips, 99))}.`,
        '',
        `First render ${allMet ? 'met the 500 ms target on every page' : 'missed the 500 ms target on some page (see the table)'}.`,
      );
    } finally {
      await chromium.close();
    }
  } finally {
    await stores.stop();
  }
  writeSection('ui', `## Admin UI in the browser\n\n${out.join('\n')}`);
  process.stdout.write(`${out.join('\n')}\n`);
  void o;
}
