// Redis Sentinel failover under load: a master, a replica and three Sentinels (Debian's redis-server
// and redis-sentinel on loopback), one MUTT node with every role configured with REDIS_SENTINELS,
// steady load over HTTP, syslog TCP and SNMP informs from real clients, and a kill -9 of the master.
//
// Before the kill the replica falls behind (its replication link stalls, as on a congested network)
// and the pipeline falls behind too (MUTT's PostgreSQL link stalls, so events wait in Redis): what
// the master acknowledged in those seconds exists only on the master. The Sentinels promote the
// replica; the killed master is started again and becomes its replica, as a service manager would.
//
// Run twice: without REDIS_MIN_REPLICAS_ACK (replication is asynchronous: some acknowledged events
// die with the master, and the test counts them) and with REDIS_MIN_REPLICAS_ACK=1 (MUTT answers 503
// instead of acknowledging what no replica has: nothing acknowledged is lost). Both check that MUTT
// follows the new master on every connection, blocking loops included, pauses instead of
// acknowledging during the gap, and resumes by itself.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { addRule } from '../harness/alerting.ts';
import {
  auditedIds,
  type Census,
  census,
  deliveredIds,
  HttpLoad,
  InformLoad,
  settleCounts,
  TcpLoad,
} from '../harness/ha-load.ts';
import { nodeEnv, nodePorts } from '../harness/ha-node.ts';
import { MockMoogsoft } from '../harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from '../harness/mutt-process.ts';
import { MASTER_NAME, redisSentinelBinary, SentinelTopology } from '../harness/redis-topology.ts';
import { type TestServices, useServices } from '../harness/services.ts';
import { TcpProxy } from '../harness/tcp-proxy.ts';

const PASSWORD = 'sentinel-test-secret';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices();
  await addRule(svc.pool, { match_string: 'HA-LOAD', prod_handling: 'Page_and_ticket' });
});
afterAll(async () => {
  await svc?.cleanup();
});

interface RunResult {
  census: Census[];
  /** Bytes of replication stream the replica lacked when the master died. */
  lag: number;
  failoverMs: number;
  /** From the kill to the first HTTP acknowledgement after it. */
  httpResumeMs: number;
  /** The longest time without an HTTP acknowledgement around the kill. */
  httpGapMs: number;
  http503: number;
  informFailures: number;
  before: string[];
  after: string[];
  /** MUTT's connections on the old master once it is back as a replica (none expected). */
  onOld: string[];
  probeMs: number;
  healthy: boolean;
  paused: boolean;
}

/** Names of MUTT's connections on a server (CLIENT SETNAME mutt:<pod>:<connection>). */
async function muttConnections(t: SentinelTopology, port: number): Promise<string[]> {
  const list = String(await t.command(port, 'CLIENT', 'LIST'));
  return [
    ...new Set(
      list
        .split('\n')
        .map((l) => /name=(mutt:\S+)/.exec(l)?.[1])
        .filter((n): n is string => n !== undefined),
    ),
  ].sort();
}

async function run(replicasAck: number, replicas = 1): Promise<RunResult> {
  const name = `${replicasAck}-${replicas}`;
  // The runs share the file's database: each counts only its own audit rows.
  await svc.pool.query('TRUNCATE event_audit_log');
  const dir = join(svc.tmp, `sentinel-${name}`);
  const topo = await SentinelTopology.start({
    dir,
    redisServer: svc.services.redisServerBinary,
    sentinel: redisSentinelBinary(),
    password: PASSWORD,
    proxiedReplication: true,
    replicas,
  });
  const mock = await MockMoogsoft.start();
  const pgLink = await TcpProxy.start({ host: svc.services.postgres.host, port: svc.services.postgres.port });
  const ports = await nodePorts();
  let mutt: MuttProcess | undefined;
  const loads: (HttpLoad | TcpLoad | InformLoad)[] = [];
  try {
    mutt = startMutt(
      nodeEnv(svc, {
        ports,
        redis: {
          REDIS_SENTINELS: topo.sentinelList,
          REDIS_SENTINEL_MASTER: MASTER_NAME,
          REDIS_PASS: PASSWORD,
          MUTT_KEY_PREFIX: `${svc.prefix}-${name}`,
        },
        db: { DB_HOST: '127.0.0.1', DB_PORT: String(pgLink.port) },
        extra: {
          POD_NAME: `sentinel-node-${name}`,
          MOOG_WEBHOOK_URL: mock.url,
          MOOG_AUTH_MODE: 'none',
          REDIS_MIN_REPLICAS_ACK: String(replicasAck),
          REDIS_MIN_REPLICAS_ACK_TIMEOUT_MS: '500',
        },
      }),
    );
    await mutt.running();
    await mutt.waitForMessage('alerter started');
    const http = new HttpLoad({
      url: `http://127.0.0.1:${ports.http}/ingest`,
      apiKey: svc.env.INGEST_API_KEY!,
      batch: 20,
      intervalMs: 50,
    });
    const tcp = new TcpLoad({ port: ports.tcp, linesPerTick: 5, intervalMs: 50 });
    const informs = new InformLoad({ port: ports.snmp, intervalMs: 100 });
    loads.push(http, tcp, informs);
    for (const l of loads) l.start();
    await abortableSleep(3000);
    expect(http.acked.size).toBeGreaterThan(0);
    expect(informs.acked.size).toBeGreaterThan(0);

    const from = topo.master.port;
    const before = await muttConnections(topo, from);
    // The (first) replica and the pipeline fall behind; then the master dies.
    topo.link!.stall();
    pgLink.stall();
    await abortableSleep(2000);
    const lag = await topo.replicaLag();
    const killedAt = await topo.killMaster();
    const failedOverAt = await topo.waitForFailover(from);
    // The killed master comes back (its service manager restarts it) as a replica of the new one.
    await topo.restartOldMaster();
    const newMaster = (await topo.currentMaster())!;
    await mutt.waitFor((l) => l.msg === 'Redis connection restored', 30_000);
    // Acknowledgements resume by themselves.
    const acked = http.acked.size;
    const end = Date.now() + 60_000;
    while (http.acked.size === acked && Date.now() < end) await abortableSleep(100);
    const resumedAt = Date.now();
    pgLink.resume();
    await abortableSleep(4000);
    for (const l of loads) await l.stop();

    const counts = await settleCounts(loads, async () => ({
      audited: await auditedIds(svc.pool),
      delivered: deliveredIds(mock),
    }));
    const result = loads.map((l) => census(l, counts.audited, counts.delivered));

    // Blocking loops included: with the queue idle (the alerter blocked in BLMOVE on the new
    // master), one more event goes through at once.
    await abortableSleep(3000);
    const probe = new HttpLoad({
      url: `http://127.0.0.1:${ports.http}/ingest`,
      apiKey: svc.env.INGEST_API_KEY!,
      batch: 1,
      intervalMs: 0,
      prefix: 'probe',
    });
    const probeAt = Date.now();
    probe.start();
    await abortableSleep(10);
    await probe.stop();
    let probeMs = -1;
    for (let i = 0; i < 200; i++) {
      if ((await auditedIds(svc.pool)).has('probe-0') && deliveredIds(mock).has('probe-0')) {
        probeMs = Date.now() - probeAt;
        break;
      }
      await abortableSleep(50);
    }
    if (process.env.DEBUG_HA)
      console.log(
        mutt.lines
          .filter((l) => Date.parse(String(l.time)) > killedAt - 3000)
          .map(
            (l) =>
              `${Date.parse(String(l.time)) - killedAt} ${l.level} ${l.msg} ${JSON.stringify(l.err ?? '')}`,
          )
          .join('\n'),
      );
    const health = (await (await fetch(`http://127.0.0.1:${ports.http}/health`)).json()) as {
      status: string;
    };
    return {
      census: result,
      lag,
      failoverMs: failedOverAt - killedAt,
      httpResumeMs: (http.around(killedAt).next ?? resumedAt) - killedAt,
      httpGapMs: http.longestGap(killedAt - 5000, resumedAt),
      http503: http.statuses.get('503') ?? 0,
      informFailures: informs.failures.length,
      before,
      after: await muttConnections(topo, newMaster),
      onOld: await muttConnections(topo, from),
      probeMs,
      healthy: health.status === 'healthy',
      paused: mutt.lines.some((l) => /syslog TCP\/TLS connections are paused/.test(l.msg)),
    };
  } finally {
    for (const l of loads) await Promise.race([l.stop(), abortableSleep(15_000)]);
    await mutt?.stop();
    await mock.close();
    await pgLink.cut();
    await topo.stop();
  }
}

/** Every connection MUTT had on the old master is on the new one, and none on the old one. */
function expectFollowed(r: RunResult): void {
  const missing = r.before.filter((n) => !r.after.includes(n));
  expect(
    r.after,
    `not on the new master: ${missing.join(', ')}; on the old one: ${r.onOld.join(', ')}`,
  ).toEqual(r.before);
  expect(r.onOld).toEqual([]);
}

const line = (mode: string, r: RunResult) =>
  `[sentinel failover, ${mode}] replica behind by ${r.lag} bytes at the kill; failover ${r.failoverMs} ms; first HTTP acknowledgement ${r.httpResumeMs} ms after the kill, longest time without one ${r.httpGapMs} ms (${r.http503} answers 503); inform retries ${r.informFailures}; ` +
  r.census
    .map(
      (c) =>
        `${c.source}: ${c.acknowledged} acknowledged, ${c.audited} audited, ${c.delivered} delivered, ${c.lost} lost (${c.notAudited} not audited, ${c.notDelivered} not delivered), duplicates ${c.auditDuplicates} audit rows / ${c.deliveryDuplicates} alerts`,
    )
    .join('; ');

describe('Redis Sentinel: kill -9 of the master under HTTP, syslog TCP and SNMP inform load', () => {
  it('without REDIS_MIN_REPLICAS_ACK: follows the new master everywhere and resumes; what only the dead master had is lost, and counted', async () => {
    const r = await run(0);
    console.log(line('REDIS_MIN_REPLICAS_ACK=0', r));
    expect(r.lag).toBeGreaterThan(0);
    // Every connection MUTT had on the old master is on the new one, the blocking ones included.
    expectFollowed(r);
    expect(r.before.some((n) => n.endsWith('-blocking'))).toBe(true);
    expect(r.probeMs).toBeGreaterThan(0);
    expect(r.probeMs).toBeLessThan(5000);
    expect(r.healthy).toBe(true);
    // While the master was gone: 503 rather than an acknowledgement, syslog TCP paused.
    expect(r.http503).toBeGreaterThan(0);
    expect(r.paused).toBe(true);
    // Asynchronous replication: what was acknowledged while the replica lagged died with the master.
    const lost = r.census.reduce((n, c) => n + c.lost, 0);
    expect(lost).toBeGreaterThan(0);
    // …and only that: everything acknowledged after the failover arrived.
    for (const c of r.census) expect(c.audited).toBeGreaterThan(0);
  }, 300_000);

  it('with REDIS_MIN_REPLICAS_ACK=1 and two replicas: nothing acknowledged is lost, and acknowledgements resume with the failover', async () => {
    const r = await run(1, 2);
    console.log(line('REDIS_MIN_REPLICAS_ACK=1, two replicas', r));
    expectFollowed(r);
    expect(r.probeMs).toBeGreaterThan(0);
    expect(r.probeMs).toBeLessThan(5000);
    expect(r.healthy).toBe(true);
    for (const c of r.census) {
      expect(c.notAudited, `${c.source}: acknowledged but not audited`).toBe(0);
      expect(c.notDelivered, `${c.source}: acknowledged but not delivered`).toBe(0);
    }
    // The replica that kept up confirmed writes while the other lagged, was promoted, and the other
    // confirms for it at once: no wait for the dead master to come back.
    expect(r.httpResumeMs).toBeLessThan(r.failoverMs + 5000);
  }, 300_000);

  it('with REDIS_MIN_REPLICAS_ACK=1: nothing acknowledged is lost', async () => {
    const r = await run(1);
    console.log(line('REDIS_MIN_REPLICAS_ACK=1', r));
    expectFollowed(r);
    expect(r.probeMs).toBeGreaterThan(0);
    expect(r.probeMs).toBeLessThan(5000);
    expect(r.healthy).toBe(true);
    expect(r.http503).toBeGreaterThan(0);
    for (const c of r.census) {
      expect(c.notAudited, `${c.source}: acknowledged but not audited`).toBe(0);
      expect(c.notDelivered, `${c.source}: acknowledged but not delivered`).toBe(0);
      expect(c.audited).toBe(c.acknowledged);
      expect(c.delivered).toBe(c.acknowledged);
    }
  }, 300_000);
});
