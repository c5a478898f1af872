// REDIS_MIN_REPLICAS_ACK: a node in front of a master with one replica acknowledges only what the
// replica confirmed (WAIT). While the replica does not answer (stopped with SIGSTOP): HTTP 503 naming
// the reason, informs unanswered, syslog TCP paused and queued once when the replica returns (never
// pushed twice), UDP queued once without waiting. When the replica answers again, so does MUTT.
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServerHandle, startRedisServer } from '../src/runtime/services/redis-server.ts';
import { abortableSleep } from '../src/runtime/sleep.ts';
import { nodeMetric } from './harness/ha-node.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort, freeUdpPort } from './harness/ports.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';
import { netSnmp } from './harness/snmp-clients.ts';
import { openTcp } from './harness/syslog-clients.ts';

let svc: TestServices;
let master: RedisServerHandle;
let replica: RedisServerHandle;
let mutt: MuttProcess;
const ports = { http: 0, tcp: 0, udp: 0, snmp: 0 };

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await abortableSleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  svc = await useServices({ database: false });
  const mport = await freePort();
  master = await startRedisServer({
    binary: svc.services.redisServerBinary,
    dir: join(svc.tmp, 'master'),
    port: mport,
    persistence: 'none',
    log: quietLog(),
  });
  replica = await startRedisServer({
    binary: svc.services.redisServerBinary,
    dir: join(svc.tmp, 'replica'),
    port: await freePort(),
    persistence: 'none',
    log: quietLog(),
    extraArgs: ['--replicaof', '127.0.0.1', String(mport)],
  });
  await until(async () => /slave0:.*state=online/.test(await info(mport)), 'the replica to connect');
  ports.http = await freePort();
  ports.tcp = await freePort();
  ports.udp = await freeUdpPort();
  ports.snmp = await freeUdpPort();
  mutt = startMutt({
    ...svc.env,
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(mport),
    MUTT_ROLES: 'listeners',
    SERVER_PORT_INGESTOR: String(ports.http),
    SYSLOG_TCP_PORT: String(ports.tcp),
    SYSLOG_UDP_PORT: String(ports.udp),
    SNMP_TRAP_PORT: String(ports.snmp),
    REDIS_MIN_REPLICAS_ACK: '1',
    REDIS_MIN_REPLICAS_ACK_TIMEOUT_MS: '300',
  });
  await mutt.running();
});
afterAll(async () => {
  if (replica?.process.pid) process.kill(replica.process.pid, 'SIGCONT');
  await mutt?.stop();
  await replica?.stop();
  await master?.stop();
  await svc.cleanup();
});

async function info(port: number): Promise<string> {
  const { Redis } = await import('ioredis');
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  try {
    await r.connect();
    return await r.info('replication');
  } finally {
    r.disconnect();
  }
}

const post = (message: string) =>
  fetch(`http://127.0.0.1:${ports.http}/ingest`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-API-KEY': svc.env.INGEST_API_KEY! },
    body: JSON.stringify({ hostname: 'h1', timestamp: new Date().toISOString(), message }),
  });

/** Messages in the ingest queue of the master (or the replica), with how often each appears. */
async function queued(port: number): Promise<Map<string, number>> {
  const { Redis } = await import('ioredis');
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  try {
    await r.connect();
    const m = new Map<string, number>();
    for (const s of await r.lrange(svc.keys.ingestQueue, 0, -1)) {
      const msg = (JSON.parse(s) as { message?: string }).message ?? '';
      m.set(msg, (m.get(msg) ?? 0) + 1);
    }
    return m;
  } finally {
    r.disconnect();
  }
}

describe('REDIS_MIN_REPLICAS_ACK=1', () => {
  it('acknowledges an HTTP event once the replica has it', async () => {
    const r = await post('confirmed-1');
    expect(r.status).toBe(200);
    // The replica had it before the answer.
    expect((await queued(replica.port)).get('confirmed-1')).toBe(1);
    expect(
      await nodeMetric(ports.http, 'mutt_redis_replica_wait_seconds_count', { outcome: 'confirmed' }),
    ).toBeGreaterThan(0);
  });

  it('while the replica does not answer: 503 over HTTP, informs unanswered, TCP paused then queued once, UDP queued once', async () => {
    process.kill(replica.process.pid!, 'SIGSTOP');
    try {
      const r = await post('unconfirmed-1');
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('5');
      const body = (await r.json()) as { message: string };
      expect(body.message).toBe('Redis replicas did not confirm the events in time (REDIS_MIN_REPLICAS_ACK)');
      expect(await nodeMetric(ports.http, 'mutt_ingest_requests_total', { reason: 'replica_timeout' })).toBe(
        1,
      );
      expect(
        await nodeMetric(ports.http, 'mutt_redis_replica_wait_seconds_count', { outcome: 'timeout' }),
      ).toBeGreaterThan(0);

      const inform = await netSnmp('snmpinform', [
        '-v',
        '2c',
        '-c',
        'public',
        '-t',
        '1',
        '-r',
        '0',
        `127.0.0.1:${ports.snmp}`,
        '',
        '1.3.6.1.6.3.1.1.5.3',
      ]);
      expect(inform.status).not.toBe(0);
      expect(
        await nodeMetric(ports.http, 'mutt_snmp_informs_unanswered_total', { reason: 'replica_timeout' }),
      ).toBeGreaterThan(0);

      const s = await openTcp(ports.tcp);
      s.write(Array.from({ length: 10 }, (_, i) => `<13>Mar 10 12:00:00 h app: tcp-${i}\n`).join(''));
      await until(
        async () =>
          (await nodeMetric(ports.http, 'mutt_syslog_paused_connections', { transport: 'tcp' })) === 1,
        'the TCP connection to pause',
      );
      const u = createSocket('udp4');
      for (let i = 0; i < 5; i++) u.send(`<13>Mar 10 12:00:00 h app: udp-${i}`, ports.udp, '127.0.0.1');
      await until(async () => (await queued(master.port)).get('udp-4') === 1, 'UDP queued on the master');
      u.close();
      // Held while the replica stays silent: many WAIT timeouts, yet each line is on the master once.
      await abortableSleep(1500);
      const held = await queued(master.port);
      for (let i = 0; i < 10; i++) expect(held.get(`tcp-${i}`) ?? 0).toBeLessThanOrEqual(1);

      process.kill(replica.process.pid!, 'SIGCONT');
      await until(
        async () =>
          (await nodeMetric(ports.http, 'mutt_syslog_paused_connections', { transport: 'tcp' })) === 0,
        'the TCP connection to resume',
      );
      await new Promise<void>((resolve) => s.end(resolve));
      const after = await queued(master.port);
      for (let i = 0; i < 10; i++) expect(after.get(`tcp-${i}`), `tcp-${i}`).toBe(1);
      for (let i = 0; i < 5; i++) expect(after.get(`udp-${i}`), `udp-${i}`).toBe(1);
    } finally {
      process.kill(replica.process.pid!, 'SIGCONT');
    }
    // The replica answers again, and so does MUTT.
    const r = await post('confirmed-2');
    expect(r.status).toBe(200);
    expect((await queued(replica.port)).get('confirmed-2')).toBe(1);
  });
});
