// PostgreSQL failover under load: a Patroni cluster (Debian's patroni on etcd, two PostgreSQL 15
// members on loopback, synchronous mode) and one MUTT node with every role, DB_HOST listing both
// members. Under a steady HTTP load: a planned switchover, then a kill -9 of the primary (its Patroni
// and its PostgreSQL, as when its host dies). The alerter holds its batches while no member accepts
// writes (nothing leaves a processing list before its audit row is committed), finds the new primary
// by itself, and every acknowledged event is audited and delivered; an event audited twice (a batch
// whose commit succeeded but whose answer was lost) is counted, and bounded by the batches in hand.
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { addRule } from '../harness/alerting.ts';
import { auditedIds, census, deliveredIds, HttpLoad, settleCounts } from '../harness/ha-load.ts';
import { nodeEnv, nodeMetric, nodePorts } from '../harness/ha-node.ts';
import { MockMoogsoft } from '../harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from '../harness/mutt-process.ts';
import { PATRONI_SUPERUSER, PatroniCluster } from '../harness/patroni.ts';
import { type TestServices, useServices } from '../harness/services.ts';

const DB = 'mutt_ha';
const BATCH = 200;

let svc: TestServices;
let cluster: PatroniCluster | undefined;
beforeAll(async () => {
  svc = await useServices({ database: false });
  cluster = await PatroniCluster.start({
    dir: join(svc.tmp, 'patroni'),
    pgBinDir: svc.services.postgres.binDir,
  });
  await cluster.createDatabase(DB);
});
afterAll(async () => {
  await cluster?.stop();
  await svc?.cleanup();
});

/** A connection to whichever member accepts writes now (for the test's own reads). */
async function primaryClient(): Promise<pg.Client> {
  for (;;) {
    const leader = await cluster!.leader();
    if (leader) {
      const c = cluster!.client(leader, DB);
      try {
        await c.connect();
        const r = await c.query<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro");
        if (r.rows[0]?.ro === 'off') return c;
      } catch {
        // not yet
      }
      await c.end().catch(() => {});
    }
    await abortableSleep(200);
  }
}

/** Samples the audit-row count every 200 ms; the longest time it stood still in a window. */
class AuditClock {
  private readonly changes: number[] = [];
  private running = true;
  private loop: Promise<void>;
  constructor() {
    this.loop = (async () => {
      let last = -1;
      while (this.running) {
        try {
          const c = await primaryClient();
          try {
            while (this.running) {
              const n = Number(
                (await c.query<{ n: string }>('SELECT count(*) AS n FROM event_audit_log')).rows[0]!.n,
              );
              if (n !== last) {
                last = n;
                this.changes.push(Date.now());
              }
              await abortableSleep(200);
            }
          } finally {
            await c.end().catch(() => {});
          }
        } catch {
          await abortableSleep(200);
        }
      }
    })();
  }
  longestPause(from: number, to: number): number {
    const t = [from, ...this.changes.filter((x) => x > from && x < to), to];
    let gap = 0;
    for (let i = 1; i < t.length; i++) gap = Math.max(gap, t[i]! - t[i - 1]!);
    return gap;
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

describe('Patroni: switchover and kill -9 of the primary under load', () => {
  it('holds batches while no member accepts writes, follows the new primary, loses nothing', async () => {
    const c = cluster!;
    const mock = await MockMoogsoft.start();
    const ports = await nodePorts();
    let mutt: MuttProcess | undefined;
    const http = new HttpLoad({
      url: `http://127.0.0.1:${ports.http}/ingest`,
      apiKey: svc.env.INGEST_API_KEY!,
      batch: 20,
      intervalMs: 50,
    });
    const clock = new AuditClock();
    try {
      mutt = startMutt(
        nodeEnv(svc, {
          ports: { http: ports.http },
          db: { DB_HOST: c.dbHost, DB_USER: PATRONI_SUPERUSER, DB_NAME: DB },
          extra: {
            POD_NAME: 'patroni-node',
            MOOG_WEBHOOK_URL: mock.url,
            MOOG_AUTH_MODE: 'none',
            ALERTER_BATCH_SIZE: String(BATCH),
          },
        }),
      );
      await mutt.running();
      await mutt.waitForMessage('database schema is up to date', 60_000);
      const admin = await primaryClient();
      try {
        const pool = { query: admin.query.bind(admin) } as unknown as pg.Pool;
        await addRule(pool, { match_string: 'HA-LOAD', prod_handling: 'Page_and_ticket' });
      } finally {
        await admin.end();
      }
      await mutt.waitFor((l) => l.msg === 'rules loaded' && l.rules === 1, 30_000);

      http.start();
      await abortableSleep(3000);
      const sw = await c.switchover();
      await abortableSleep(3000);
      const kill = await c.killPrimary();
      // While the replica waits for the dead leader's key to expire, no member accepts writes.
      const waited = mutt.lines.some((l) => /no member of DB_HOST accepts writes/.test(l.msg));
      await abortableSleep(4000);
      await http.stop();

      const reader = await primaryClient();
      let counts;
      try {
        const pool = { query: reader.query.bind(reader) } as unknown as pg.Pool;
        counts = await settleCounts([http], async () => ({
          audited: await auditedIds(pool),
          delivered: deliveredIds(mock),
        }));
      } finally {
        await reader.end();
      }
      const r = census(http, counts.audited, counts.delivered);
      const switchoverPause = clock.longestPause(sw.startedAt - 1000, sw.doneAt + 5000);
      const killPause = clock.longestPause(kill.killedAt - 1000, kill.doneAt + 5000);
      const searches = await nodeMetric(ports.http, 'mutt_db_primary_searches_total', { outcome: 'found' });
      const none = await nodeMetric(ports.http, 'mutt_db_primary_searches_total', { outcome: 'none' });
      console.log(
        `[patroni failover] switchover ${sw.doneAt - sw.startedAt} ms (${sw.from.name} → ${sw.to.name}), audit paused ${switchoverPause} ms; ` +
          `kill -9 of ${kill.from.name}: ${kill.to.name} leads after ${kill.doneAt - kill.killedAt} ms, audit paused ${killPause} ms; ` +
          `HTTP answers other than 200: ${http.failures.length}; searches for the primary: ${searches} found, ${none} found none; ` +
          `${r.acknowledged} acknowledged, ${r.audited} audited, ${r.delivered} delivered, ${r.lost} lost, duplicates ${r.auditDuplicates} audit rows / ${r.deliveryDuplicates} alerts`,
      );
      // Ingest never depended on PostgreSQL.
      expect(http.failures).toEqual([]);
      // Nothing acknowledged is lost; duplicates are bounded by the batches in hand at each failover
      // (two per alerter worker, one worker).
      expect(r.notAudited).toBe(0);
      expect(r.notDelivered).toBe(0);
      expect(r.auditDuplicates).toBeLessThanOrEqual(2 * 2 * BATCH);
      expect(r.deliveryDuplicates).toBeLessThanOrEqual(2 * 2 * BATCH);
      // The alerter looked for the primary again after each failover and waited while none accepted writes.
      expect(searches).toBeGreaterThanOrEqual(3);
      expect(waited || none > 0).toBe(true);
      const health = (await (await fetch(`http://127.0.0.1:${ports.http}/health`)).json()) as {
        status: string;
      };
      expect(health.status).toBe('healthy');
    } finally {
      await Promise.race([http.stop(), abortableSleep(15_000)]);
      await clock.stop();
      await mutt?.stop();
      await mock.close();
    }
  }, 400_000);
});
