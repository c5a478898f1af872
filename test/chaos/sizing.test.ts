// The measurements behind the default queue sizes (docs/RELIABILITY.md, "Sizing"), taken on the real
// daemon: Redis memory per queued syslog event and per queued alert, and how fast the alerter drains
// a backlog. And a flood of random datagrams: the unhandled counters it creates stay bounded
// (UNHANDLED_MAX_SIGNATURES per host), with the folded events counted.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addRule, resetTables } from '../harness/alerting.ts';
import { LONG, record } from '../harness/chaos.ts';
import { metric, scenario, until } from '../harness/forwarding.ts';
import { type MuttProcess, startMutt } from '../harness/mutt-process.ts';
import { freePort, freeUdpPort } from '../harness/ports.ts';
import { type TestServices, useServices } from '../harness/services.ts';
import { openTcp } from '../harness/syslog-clients.ts';

let svc: TestServices;
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices();
});
afterEach(async () => {
  for (const p of procs.splice(0))
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.kill('SIGTERM');
      await p.exited().catch(() => p.kill('SIGKILL'));
    }
});
afterAll(async () => svc.cleanup());

const start = async (env: Record<string, string>) => {
  const p = startMutt(env);
  procs.push(p);
  await p.running();
  return p;
};

/** Redis's own account of a list's memory (every element sampled), per element. */
async function bytesPerItem(key: string): Promise<{ items: number; bytes: number; perItem: number }> {
  const items = await svc.redis.llen(key);
  const bytes = Number(await svc.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  return { items, bytes, perItem: Math.round(bytes / items) };
}

/** A Cisco IOS line as devices send it (RFC 3164 with the IOS sequence number and timestamp). */
const ciscoLine = (i: number) =>
  `<187>${1000 + i}: core-rtr-${String(i % 40).padStart(2, '0')}: *Mar 10 12:00:${String(i % 60).padStart(2, '0')}.123 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/${i % 48}, changed state to down\n`;

describe('sizing', () => {
  it(
    'measures Redis memory per queued event and per queued alert, and the alerter drain rate',
    { timeout: 300_000 },
    async () => {
      await resetTables(svc.pool);
      await addRule(svc.pool, { match_string: 'UPDOWN', prod_handling: 'Page_and_ticket' });
      const n = LONG ? 100_000 : 20_000;
      // 1. Listeners only: the events stay in the ingest queue, as the syslog listener writes them.
      const s = await scenario(svc, {
        MUTT_ROLES: 'listeners',
        SYSLOG_TCP_PORT: String(await freePort()),
      });
      await start(s.env);
      const sock = await openTcp(Number(s.env.SYSLOG_TCP_PORT));
      for (let i = 0; i < n; i++)
        if (!sock.write(ciscoLine(i))) await new Promise((r) => sock.once('drain', r));
      await new Promise<void>((r) => sock.end(r));
      await until(async () => (await svc.redis.llen(s.keys.ingestQueue)) === n, 60_000, 'all events queued');
      const event = await bytesPerItem(s.keys.ingestQueue);
      const sample = (await svc.redis.lindex(s.keys.ingestQueue, 0))!;
      for (const p of procs.splice(0)) await p.stop();

      // 2. The alerter alone: every event becomes an alert that waits in the alert queue.
      const started = Date.now();
      const a = await start({
        ...s.env,
        MUTT_ROLES: 'alerter',
        SERVER_PORT_INGESTOR: String(await freePort()),
      });
      await a.waitForMessage('alerter started');
      await until(async () => (await svc.redis.llen(s.keys.alertQueue)) === n, 120_000, 'all alerts queued');
      const drainSeconds = (Date.now() - started) / 1000;
      const alert = await bytesPerItem(s.keys.alertQueue);
      const alertSample = (await svc.redis.lindex(s.keys.alertQueue, 0))!;

      const figures = {
        events: n,
        event_json_bytes: Buffer.byteLength(sample),
        redis_bytes_per_event: event.perItem,
        alert_json_bytes: Buffer.byteLength(alertSample),
        redis_bytes_per_alert: alert.perItem,
        full_ingest_queue_mb_at_1M: Math.round((event.perItem * 1_000_000) / 1e6),
        full_alert_queue_mb_at_100k: Math.round((alert.perItem * 100_000) / 1e6),
        alerter_events_per_second_including_start: Math.round(n / drainSeconds),
      };
      console.log(`sizing ${JSON.stringify(figures)}`);
      record('sizing', figures);
      // The figures docs/RELIABILITY.md and the configuration reference state (0.4 KB and 0.8 KB), within 25 %.
      expect(event.perItem).toBeLessThan(400 * 1.25);
      expect(alert.perItem).toBeLessThan(800 * 1.25);
    },
  );

  it(
    'a flood of random datagrams creates at most UNHANDLED_MAX_SIGNATURES unhandled counters per host',
    { timeout: 300_000 },
    async () => {
      await resetTables(svc.pool);
      await addRule(svc.pool, { match_string: 'never-matches', prod_handling: 'Ignore' });
      const s = await scenario(svc, {
        MUTT_ROLES: 'listeners,alerter',
        SYSLOG_UDP_PORT: String(await freeUdpPort()),
      });
      await start(s.env);
      const n = LONG ? 50_000 : 10_000;
      const udp = dgram.createSocket('udp4');
      for (let i = 0; i < n; i++) {
        await new Promise<void>((r) =>
          udp.send(randomBytes(48).toString('base64url'), Number(s.env.SYSLOG_UDP_PORT), '127.0.0.1', () =>
            r(),
          ),
        );
        if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
      }
      udp.close();
      const processed = () => metric(s.port, 'mutt_alerter_events_processed_total', 'status="unhandled"');
      await until(async () => (await processed()) >= n * 0.99, 120_000, 'the datagrams processed');
      const keys = await svc.redis.keys(`${s.keys.prefix}:unhandled:*`);
      const folded = await metric(s.port, 'mutt_alerter_unhandled_folded_total');
      const figures = { datagrams: n, processed: await processed(), unhandled_keys: keys.length, folded };
      console.log(`flood ${JSON.stringify(figures)}`);
      record('garbage flood', figures);
      // One host (the sender's address): 1,000 signatures and its overflow counter, whatever the flood.
      expect(keys.length).toBeLessThanOrEqual(1000 + 1);
      expect(folded).toBeGreaterThanOrEqual((await processed()) - 1000);
    },
  );
});
