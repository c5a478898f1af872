// Backpressure and outages under the syslog listeners: at MAX_INGEST_QUEUE_SIZE a TCP sender is
// paused (its TCP window closes) and every message it sent arrives, once, in order, as the queue is
// drained; UDP sheds and counts. While Redis is down, TCP holds and UDP buffers; all of it is
// queued when Redis returns.
import { join } from 'node:path';
import { type Counter, type Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../src/core/protocol/keys.ts';
import { withScripts } from '../src/core/protocol/scripts.ts';
import { Enqueuer } from '../src/listeners/enqueue.ts';
import { QueueGate } from '../src/listeners/syslog/backpressure.ts';
import { HostNames } from '../src/listeners/reverse-dns.ts';
import { SyslogTelemetry } from '../src/listeners/syslog/metrics.ts';
import { Encoder } from '../src/listeners/syslog/encoder.ts';
import { parserThreadUrl } from '../src/listeners/syslog/index.ts';
import { StreamListener } from '../src/listeners/syslog/tcp.ts';
import { UdpListener } from '../src/listeners/syslog/udp.ts';
import { createRedis, whenReady } from '../src/runtime/redis.ts';
import { type RedisServerHandle, startRedisServer } from '../src/runtime/services/redis-server.ts';
import { abortableSleep } from '../src/runtime/sleep.ts';
import { startMutt } from './harness/mutt-process.ts';
import { freePort, freeUdpPort } from './harness/ports.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';
import { openTcp } from './harness/syslog-clients.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => svc.cleanup());

const value = async (c: Counter<string> | Gauge<string>, labels: Record<string, string> = {}) =>
  (await c.get()).values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((a, v) => a + v.value, 0);

const metric = (text: string, name: string, labels: Record<string, string> = {}) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await abortableSleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('at the ingest-queue cap', () => {
  it('pauses a TCP sender and loses nothing; UDP sheds and counts', async () => {
    const [tcp, udp, http] = [await freePort(), await freeUdpPort(), await freePort()];
    const cap = 2000;
    await svc.redis.del(svc.keys.ingestQueue);
    const p = startMutt({
      ...svc.env,
      MUTT_ROLES: 'listeners',
      SERVER_PORT_INGESTOR: String(http),
      SYSLOG_TCP_PORT: String(tcp),
      SYSLOG_UDP_PORT: String(udp),
      MAX_INGEST_QUEUE_SIZE: String(cap),
    });
    const metrics = async () => (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    try {
      await p.running();
      const N = 100_000;
      const s = await openTcp(tcp);
      let written = 0;
      const writer = (async () => {
        for (let i = 0; i < N; i += 500) {
          const lines: string[] = [];
          for (let k = i; k < i + 500; k++) lines.push(`<13>1 - h app - - - seq ${k} ${'p'.repeat(150)}\n`);
          if (!s.write(lines.join(''))) await new Promise((r) => s.once('drain', r));
          written = i + 500;
        }
        await new Promise<void>((r) => s.end(r));
      })();
      // The queue fills to the cap, the connection is paused, the sender is blocked by TCP.
      await until(async () => (await svc.redis.llen(svc.keys.ingestQueue)) >= cap, 'the queue to fill');
      await until(
        async () => metric(await metrics(), 'mutt_syslog_paused_connections', { transport: 'tcp' }) === 1,
        'a paused connection',
      );
      // The queue stops growing (the last batch admitted below the cap may overshoot it) and the
      // sender cannot write everything: its TCP window is closed.
      const depth = await svc.redis.llen(svc.keys.ingestQueue);
      await abortableSleep(500);
      expect(await svc.redis.llen(svc.keys.ingestQueue)).toBe(depth);
      expect(written).toBeLessThan(N);

      // UDP meanwhile: shed and counted.
      const { createSocket } = await import('node:dgram');
      const u = createSocket('udp4');
      for (let i = 0; i < 50; i++) u.send(`<13>1 - h app - - - udp ${i}`, udp, '127.0.0.1');
      await until(
        async () => metric(await metrics(), 'mutt_syslog_shed_total', { reason: 'queue_full' }) > 0,
        'UDP shed',
      );
      u.close();

      // A consumer drains the queue (oldest at the tail): everything sent arrives once, in order.
      const got: number[] = [];
      const end = Date.now() + 60_000;
      while (got.length < N && Date.now() < end) {
        const items = (await svc.redis.rpop(svc.keys.ingestQueue, 500)) ?? [];
        for (const it of items) {
          const e = JSON.parse(it);
          if (e.message.startsWith('seq ')) got.push(Number(e.message.split(' ')[1]));
        }
        if (items.length === 0) await abortableSleep(20);
      }
      await writer;
      expect(got.length).toBe(N);
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
      const text = await metrics();
      expect(metric(text, 'mutt_syslog_paused_connections', { transport: 'tcp' })).toBe(0);
      expect(metric(text, 'mutt_syslog_queued_total', { transport: 'tcp' })).toBe(N);
      // Every UDP datagram read was either queued or shed.
      expect(
        metric(text, 'mutt_syslog_queued_total', { transport: 'udp' }) +
          metric(text, 'mutt_syslog_shed_total'),
      ).toBe(metric(text, 'mutt_syslog_messages_total', { transport: 'udp' }));
    } finally {
      await p.stop();
      await svc.redis.del(svc.keys.ingestQueue);
    }
  }, 120_000);
});

describe('Redis outage', () => {
  let server: RedisServerHandle | undefined;
  let port: number;
  const start = async () => {
    server = await startRedisServer({
      binary: svc.services.redisServerBinary,
      dir: join(svc.tmp, 'redis'),
      port,
      persistence: 'aof',
      log: quietLog(),
    });
  };
  beforeAll(async () => {
    port = await freePort();
    await start();
  });
  afterAll(async () => server?.stop());
  /** A client of the Redis this block stops and restarts, failing fast while it is down. */
  const connect = async () => {
    const config = svc.config({ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port) });
    const redis = withScripts(
      createRedis(
        config,
        { kind: 'tcp', host: '127.0.0.1', port },
        { name: 'test', log: quietLog(), failFast: true },
      ),
    );
    await whenReady(redis);
    return { redis, keys: new Keys(config) };
  };

  it('UDP events still held when the shutdown grace runs out are counted as shed (shutdown)', async () => {
    const { redis, keys } = await connect();
    const telemetry = new SyslogTelemetry(new Registry(), quietLog());
    const encoder = new Encoder({ tz: 'UTC', log: quietLog() });
    const udp = new UdpListener({
      address: '127.0.0.1',
      maxSize: 65536,
      tz: 'UTC',
      enqueuer: new Enqueuer({ redis, keys, cap: 1_000_000 }),
      encoder,
      telemetry,
      log: quietLog(),
      hostnames: new HostNames(false),
      port: 0,
      recvBufferBytes: 1 << 20,
      pendingMax: 1000,
    });
    await udp.start();
    await server!.stop();
    try {
      for (let i = 1; i <= 20; i++)
        udp.onDatagram(Buffer.from(`<13>1 - h app - - - udp ${i}`), { address: '127.0.0.1' });
      await until(() => udp.pendingEvents === 20, 'UDP events held');
      const t0 = Date.now();
      await udp.stop(300);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(udp.pendingEvents).toBe(0);
      // A retry push in flight at the end of the grace is counted when it fails, once.
      await until(
        async () => (await value(telemetry.shed, { reason: 'shutdown' })) === 20,
        'the held events counted as lost',
      );
      await abortableSleep(300);
      expect(await value(telemetry.shed, { reason: 'shutdown' })).toBe(20);
      expect(await value(telemetry.queued)).toBe(0);
      expect(await value(telemetry.pending)).toBe(0);
    } finally {
      redis.disconnect();
      await start();
    }
  }, 60_000);

  it('TCP holds what it read and UDP buffers; all of it is queued when Redis returns', async () => {
    const { redis, keys } = await connect();
    const telemetry = new SyslogTelemetry(new Registry(), quietLog());
    const enqueuer = new Enqueuer({ redis, keys, cap: 1_000_000 });
    const gate = new QueueGate({ redis, queueKey: keys.ingestQueue, cap: 1_000_000, lowWater: 900_000 });
    // The parser thread, as the daemon runs it.
    const encoder = new Encoder({ threadUrl: parserThreadUrl(), tz: 'UTC', log: quietLog() });
    const common = {
      address: '127.0.0.1',
      maxSize: 65536,
      tz: 'UTC',
      enqueuer,
      encoder,
      telemetry,
      log: quietLog(),
      hostnames: new HostNames(false),
    };
    const tcp = new StreamListener({
      ...common,
      transport: 'tcp',
      variable: 'SYSLOG_TCP_PORT',
      port: 0,
      idleTimeoutMs: 0,
      maxConnections: 10,
      gate,
    });
    const udp = new UdpListener({ ...common, port: 0, recvBufferBytes: 1 << 20, pendingMax: 150 });
    await tcp.start();
    await udp.start();
    try {
      expect(encoder.threaded).toBe(true);
      const s = await openTcp(tcp.boundPort);
      s.write('<13>1 - h app - - - tcp 0\n');
      await until(async () => (await value(telemetry.queued)) === 1, 'the first event');

      await server!.stop();
      for (let i = 1; i <= 100; i++) s.write(`<13>1 - h app - - - tcp ${i}\n`);
      for (let i = 1; i <= 200; i++)
        udp.onDatagram(Buffer.from(`<13>1 - h app - - - udp ${i}`), { address: '127.0.0.1' });
      await until(
        async () => (await value(telemetry.paused, { transport: 'tcp' })) === 1,
        'the TCP connection paused',
      );
      await until(() => udp.pendingEvents === 150, 'UDP events held');
      // Beyond SYSLOG_PENDING_MAX_EVENTS (150 here), UDP sheds and counts.
      expect(await value(telemetry.shed, { reason: 'buffer_full' })).toBe(50);

      await start();
      await until(
        async () => (await value(telemetry.queued, { transport: 'tcp' })) === 101,
        'TCP events queued',
        30_000,
      );
      await until(() => udp.pendingEvents === 0, 'UDP events queued', 30_000);
      const items = (await redis.lrange(keys.ingestQueue, 0, -1))
        .map((x) => JSON.parse(x).message as string)
        .reverse();
      const tcpSeq = items.filter((m) => m.startsWith('tcp ')).map((m) => Number(m.split(' ')[1]));
      expect(tcpSeq).toEqual(Array.from({ length: 101 }, (_, i) => i));
      const udpSeq = items.filter((m) => m.startsWith('udp ')).map((m) => Number(m.split(' ')[1]));
      expect(udpSeq).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
      expect(await value(telemetry.paused, { transport: 'tcp' })).toBe(0);
      s.destroy();
    } finally {
      await tcp.stop();
      await udp.stop();
      gate.stop();
      await encoder.close();
      redis.disconnect();
    }
  }, 90_000);
});
