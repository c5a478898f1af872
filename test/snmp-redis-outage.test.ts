// Redis stopped while traps arrive: trap events wait in memory and all reach Redis when it returns;
// informs are left unanswered meanwhile (their senders retransmit); the held buffer is bounded.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../src/core/protocol/keys.ts';
import { withScripts } from '../src/core/protocol/scripts.ts';
import { Enqueuer } from '../src/listeners/enqueue.ts';
import { int, oid, TAG, v2Message, varbind } from '../src/listeners/snmp/ber.ts';
import { startEngine } from '../src/listeners/snmp/engine.ts';
import { SnmpTelemetry } from '../src/listeners/snmp/metrics.ts';
import { TrapReceiver } from '../src/listeners/snmp/receiver.ts';
import { createRedis, whenReady } from '../src/runtime/redis.ts';
import { type RedisServerHandle, startRedisServer } from '../src/runtime/services/redis-server.ts';
import { abortableSleep } from '../src/runtime/sleep.ts';
import { freePort } from './harness/ports.ts';
import { netSnmp } from './harness/snmp-clients.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
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
  svc = await useServices({ database: false });
  port = await freePort();
  await start();
});
afterAll(async () => {
  await server?.stop();
  await svc.cleanup();
});

const value = async (c: Counter<string>, labels: Record<string, string> = {}) =>
  (await c.get()).values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((a, v) => a + v.value, 0);

const trap = (id: number) =>
  v2Message({
    community: 'public',
    requestId: id,
    varbinds: [
      varbind('1.3.6.1.2.1.1.3.0', int(1, TAG.TimeTicks)),
      varbind('1.3.6.1.6.3.1.1.4.1.0', oid('1.3.6.1.6.3.1.1.5.3')),
      varbind('1.3.6.1.2.1.2.2.1.1.1', int(id)),
    ],
  });

describe('Redis outage under the SNMP listener', () => {
  it('holds trap events while Redis is down and queues every one when it returns', async () => {
    const config = svc.config({ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(port) });
    const redis = withScripts(
      createRedis(
        config,
        { kind: 'tcp', host: '127.0.0.1', port },
        { name: 'test', log: quietLog(), failFast: true },
      ),
    );
    await whenReady(redis);
    const keys = new Keys(config);
    const telemetry = new SnmpTelemetry(new Registry(), quietLog());
    const enqueuer = new Enqueuer({ redis, keys, cap: 1_000_000 });
    const receiver = new TrapReceiver({
      port: 0,
      address: '127.0.0.1',
      communities: ['public'],
      users: [],
      identity: startEngine(mkdtempSync(join(tmpdir(), 'mutt-snmp-'))),
      severity: 4,
      enqueuer,
      telemetry,
      log: quietLog(),
      reverseDns: false,
      recvBufferBytes: 4 * 1024 * 1024,
      pendingMax: 300,
    });
    await receiver.start();
    const feed = (id: number) =>
      receiver.onDatagram(receiver.socket!, trap(id), {
        address: '127.0.0.1',
        family: 'IPv4',
        port: 9,
        size: 0,
      });
    try {
      feed(1);
      for (let i = 0; i < 100 && (await value(telemetry.queued)) < 1; i++) await abortableSleep(20);
      expect(await value(telemetry.queued)).toBe(1);

      await server!.stop();
      for (let i = 2; i <= 251; i++) feed(i);
      for (let i = 0; i < 200 && receiver.pendingEvents < 250; i++) await abortableSleep(20);
      expect(receiver.pendingEvents).toBe(250);
      // An inform meanwhile is not answered: snmpinform times out and will retry later.
      const inform = await netSnmp('snmpinform', [
        '-v',
        '2c',
        '-c',
        'public',
        '-t',
        '1',
        '-r',
        '0',
        `127.0.0.1:${receiver.boundPort}`,
        '',
        '1.3.6.1.6.3.1.1.5.4',
      ]);
      expect(inform.status).not.toBe(0);
      expect(await value(telemetry.informsUnanswered, { reason: 'redis_unavailable' })).toBe(1);
      // Beyond SNMP_PENDING_MAX_EVENTS (300 here) new traps are shed, and counted.
      for (let i = 252; i <= 401; i++) feed(i);
      for (let i = 0; i < 100 && receiver.pendingEvents + (await value(telemetry.dropped)) < 400; i++)
        await abortableSleep(20);
      expect(receiver.pendingEvents).toBe(300);
      expect(await value(telemetry.dropped, { reason: 'buffer_full' })).toBe(100);

      await start();
      for (let i = 0; i < 500 && receiver.pendingEvents > 0; i++) await abortableSleep(20);
      expect(receiver.pendingEvents).toBe(0);
      const items = await redis.lrange(keys.ingestQueue, 0, -1);
      // Oldest first (LPUSH puts the newest at the head): the held events kept their order.
      const ids = items.map((s) => JSON.parse(s).snmp_request_id as number).reverse();
      expect(ids).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
      expect(await value(telemetry.queued)).toBe(301);
    } finally {
      await receiver.stop();
      redis.disconnect();
    }
  });
});
