// A fleet: three `mutt serve` processes on one machine sharing one Redis and one PostgreSQL, each with
// its own roles (MUTT_ROLES) and POD_NAME — listeners + web UI, alerter, forwarder + remediation —
// under a steady HTTP load. The alerter node is killed with SIGKILL in the middle of a batch (its
// PostgreSQL link stalled, so the batch is in its processing list, audited or not); a second alerter
// node is started. Its janitor returns the dead pod's processing list to the ingest queue once the
// pod's heartbeat has been gone a full ALERTER_JANITOR_TIMEOUT, and every acknowledged event is
// audited and delivered (the dead pod's batch possibly twice, counted and bounded). The admin API of
// the web UI node lists the alerter and forwarder pods of every node from their heartbeats.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { addRule } from '../harness/alerting.ts';
import { auditedIds, census, deliveredIds, HttpLoad, settleCounts } from '../harness/ha-load.ts';
import { nodeEnv } from '../harness/ha-node.ts';
import { MockMoogsoft } from '../harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from '../harness/mutt-process.ts';
import { freePort } from '../harness/ports.ts';
import { type TestServices, useServices } from '../harness/services.ts';
import { TcpProxy } from '../harness/tcp-proxy.ts';

const BATCH = 100;
const JANITOR_TIMEOUT = 5;

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices();
  await addRule(svc.pool, { match_string: 'HA-LOAD', prod_handling: 'Page_and_ticket' });
});
afterAll(async () => {
  await svc?.cleanup();
});

describe('a fleet of three nodes with different roles', () => {
  it('survives a kill -9 of the alerter node mid-batch: the janitor of a new alerter node returns its batch', async () => {
    const mock = await MockMoogsoft.start();
    const pgLink = await TcpProxy.start({
      host: svc.services.postgres.host,
      port: svc.services.postgres.port,
    });
    const nodes: MuttProcess[] = [];
    const http = { port: 0 };
    const load = { current: undefined as HttpLoad | undefined };
    const node = async (pod: string, roles: string, extra: Record<string, string> = {}) => {
      const port = await freePort();
      const p = startMutt(
        nodeEnv(svc, {
          ports: { http: port },
          extra: {
            POD_NAME: pod,
            MUTT_ROLES: roles,
            MOOG_WEBHOOK_URL: mock.url,
            MOOG_AUTH_MODE: 'none',
            ALERTER_BATCH_SIZE: String(BATCH),
            ALERTER_JANITOR_TIMEOUT: String(JANITOR_TIMEOUT),
            ...extra,
          },
        }),
      );
      nodes.push(p);
      await p.running();
      return { p, port };
    };
    try {
      const webui = await freePort();
      const a = await node('fleet-listeners', 'listeners,webui', { SERVER_PORT_WEBUI: String(webui) });
      http.port = a.port;
      // The admin API of the web UI node: every pod of the fleet, from the heartbeats in Redis.
      const pods = async () => {
        const r = await fetch(`http://127.0.0.1:${webui}/api/v1/status`, {
          headers: { 'X-API-KEY': svc.env.WEBUI_API_KEY! },
        });
        const body = (await r.json()) as { pods: { pod: string; role: string; alive: boolean }[] };
        return body.pods.map((p) => `${p.role}:${p.pod}:${p.alive ? 'alive' : 'dead'}`).sort();
      };
      const b = await node('fleet-alerter-1', 'alerter', {
        DB_HOST: '127.0.0.1',
        DB_PORT: String(pgLink.port),
      });
      await b.p.waitForMessage('alerter started');
      const c = await node('fleet-forwarder', 'forwarder,remediation');

      // A worker's first heartbeat follows its start by up to one beat.
      const both = ['alerter:fleet-alerter-1-0:alive', 'moog:fleet-forwarder-0:alive'];
      const seen = Date.now() + 15_000;
      let listed = await pods();
      while (!both.every((p) => listed.includes(p)) && Date.now() < seen) {
        await abortableSleep(200);
        listed = await pods();
      }
      expect(listed).toEqual(expect.arrayContaining(both));
      const loadGen = new HttpLoad({
        url: `http://127.0.0.1:${a.port}/ingest`,
        apiKey: svc.env.INGEST_API_KEY!,
        batch: 20,
        intervalMs: 50,
      });
      load.current = loadGen;
      loadGen.start();
      await abortableSleep(3000);
      expect(loadGen.acked.size).toBeGreaterThan(0);

      // Mid-batch: the alerter cannot commit its audit rows, so its batch stays in its processing list.
      const processing = svc.keys.alerterProcessing('fleet-alerter-1-0');
      pgLink.stall();
      const end = Date.now() + 20_000;
      while ((await svc.redis.llen(processing)) === 0 && Date.now() < end) await abortableSleep(50);
      const inHand = await svc.redis.llen(processing);
      expect(inHand).toBeGreaterThan(0);
      const killedAt = Date.now();
      b.p.kill('SIGKILL');
      await b.p.exited();
      await pgLink.cut();

      // Another alerter node; its janitor returns the dead pod's batch after the heartbeat TTL.
      const d = await node('fleet-alerter-2', 'alerter');
      const recovered = await d.p.waitFor(
        (l) => l.msg === 'returned the events of an alerter whose heartbeat stopped to the ingest queue',
        60_000,
      );
      const recoveredAt = Date.parse(String(recovered.time));
      await abortableSleep(3000);
      await loadGen.stop();

      const counts = await settleCounts([loadGen], async () => ({
        audited: await auditedIds(svc.pool),
        delivered: deliveredIds(mock),
      }));
      const r = census(loadGen, counts.audited, counts.delivered);
      // Every node's workers beat in Redis under their own pod names.
      const beats = (await svc.redis.keys(`${svc.prefix}:heartbeat:*`))
        .map((k) => k.split(':').slice(2).join(':'))
        .sort();
      console.log(
        `[fleet] alerter node killed with ${inHand} events in hand; returned by the new node's janitor ${recoveredAt - killedAt} ms later (${String(recovered.list)}: ${String(recovered.items)} events; ALERTER_JANITOR_TIMEOUT ${JANITOR_TIMEOUT} s); ` +
          `${r.acknowledged} acknowledged, ${r.audited} audited, ${r.delivered} delivered, ${r.lost} lost, duplicates ${r.auditDuplicates} audit rows / ${r.deliveryDuplicates} alerts; heartbeats: ${beats.join(', ')}`,
      );
      expect(String(recovered.list)).toBe(processing);
      expect(Number(recovered.items)).toBe(inHand);
      // Not before the TTL: a pod that merely missed a beat keeps its batch.
      expect(recoveredAt - killedAt).toBeGreaterThanOrEqual(JANITOR_TIMEOUT * 1000);
      expect(await svc.redis.exists(processing)).toBe(0);
      expect(r.notAudited).toBe(0);
      expect(r.notDelivered).toBe(0);
      expect(r.auditDuplicates).toBeLessThanOrEqual(2 * BATCH);
      expect(r.deliveryDuplicates).toBeLessThanOrEqual(2 * BATCH);
      expect(beats).toEqual(expect.arrayContaining(['alerter:fleet-alerter-2-0', 'moog:fleet-forwarder-0']));
      expect(beats).not.toContain('alerter:fleet-alerter-1-0');
      const after = await pods();
      expect(after).toEqual(
        expect.arrayContaining(['alerter:fleet-alerter-2-0:alive', 'moog:fleet-forwarder-0:alive']),
      );
      expect(after.filter((p) => p.includes('fleet-alerter-1-0'))).toEqual([]);
      for (const n of [a, c, d]) {
        const h = (await (await fetch(`http://127.0.0.1:${n.port}/health`)).json()) as { status: string };
        expect(h.status).toBe('healthy');
      }
    } finally {
      if (load.current) await Promise.race([load.current.stop(), abortableSleep(15_000)]);
      for (const n of nodes) await n.stop();
      await pgLink.cut();
      await mock.close();
    }
  }, 300_000);
});
