// The SNMP receiver in-process against the harness Redis: counts (every trap read is queued), bad
// input as a table, 100,000 random datagrams, a flood of v3 engine IDs, and replayed v3 messages.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import snmp from 'net-snmp';
import { type Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enqueuer } from '../src/listeners/enqueue.ts';
import {
  int,
  nul,
  octets,
  oid,
  seq,
  TAG,
  tlv,
  v1TrapMessage,
  v2Message,
  v3Message,
  varbind,
} from '../src/listeners/snmp/ber.ts';
import { startEngine } from '../src/listeners/snmp/engine.ts';
import { SnmpTelemetry } from '../src/listeners/snmp/metrics.ts';
import { MibStore } from '../src/listeners/snmp/mib/store.ts';
import { TrapReceiver } from '../src/listeners/snmp/receiver.ts';
import type { UsmUserSpec } from '../src/listeners/snmp/usm.ts';
import { abortableSleep } from '../src/runtime/sleep.ts';
import { capture, netSnmp } from './harness/snmp-clients.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
const mib = MibStore.load([resolve('test/fixtures/mibs'), resolve('etc/mibs')]);
const opsUser: UsmUserSpec = {
  name: 'ops',
  level: 'authPriv',
  authProtocol: 'sha256',
  authKey: 'auth-passphrase-1',
  privProtocol: 'aes',
  privKey: 'priv-passphrase-1',
  engineIds: [],
  weak: false,
};

beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => svc.cleanup());

interface Rig {
  receiver: TrapReceiver;
  telemetry: SnmpTelemetry;
  client: Socket;
  send(buf: Buffer): Promise<void>;
  feed(buf: Buffer): void;
  depth(): Promise<number>;
  stop(): Promise<void>;
}

async function rig(
  o: { limits?: Record<string, number>; clock?: () => number; cap?: number } = {},
): Promise<Rig> {
  await svc.redis.del(svc.keys.ingestQueue);
  const telemetry = new SnmpTelemetry(new Registry(), quietLog());
  const enqueuer = new Enqueuer({ redis: svc.redis, keys: svc.keys, cap: o.cap ?? 1_000_000 });
  const receiver = new TrapReceiver({
    port: 0,
    address: '127.0.0.1',
    communities: ['public'],
    users: [opsUser],
    identity: startEngine(mkdtempSync(join(tmpdir(), 'mutt-snmp-'))),
    severity: 4,
    mib,
    enqueuer,
    telemetry,
    log: quietLog(),
    reverseDns: false,
    recvBufferBytes: 8 * 1024 * 1024,
    pendingMax: 1000,
    limits: o.limits,
    clock: o.clock,
  });
  await receiver.start();
  const client = createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  const rinfo: RemoteInfo = { address: '127.0.0.1', family: 'IPv4', port: client.address().port, size: 0 };
  return {
    receiver,
    telemetry,
    client,
    send: (buf) =>
      new Promise((r, j) => client.send(buf, receiver.boundPort, '127.0.0.1', (e) => (e ? j(e) : r()))),
    feed: (buf) => receiver.onDatagram(receiver.socket!, buf, { ...rinfo, size: buf.length }),
    depth: () => svc.redis.llen(svc.keys.ingestQueue),
    async stop() {
      await receiver.stop();
      await enqueuer.drain();
      client.close();
    },
  };
}

const value = async (c: Counter<string>, labels: Record<string, string> = {}) =>
  (await c.get()).values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((a, v) => a + v.value, 0);

async function until(pred: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await abortableSleep(20);
  }
}

const linkDown = (requestId: number, community = 'public') =>
  v2Message({
    community,
    requestId,
    varbinds: [
      varbind('1.3.6.1.2.1.1.3.0', int(12345, TAG.TimeTicks)),
      varbind('1.3.6.1.6.3.1.1.4.1.0', oid('1.3.6.1.6.3.1.1.5.3')),
      varbind('1.3.6.1.2.1.2.2.1.1.7', int(7)),
      varbind('1.3.6.1.2.1.2.2.1.7.7', int(1)),
      varbind('1.3.6.1.2.1.2.2.1.8.7', int(2)),
      varbind('1.3.6.1.2.1.1.5.0', octets('edge-rtr-7')),
    ],
  });

/** A v2c trap with `n` Null-valued variable bindings after snmpTrapOID.0. */
const manyVarbinds = (n: number) =>
  v2Message({
    community: 'public',
    requestId: 1,
    varbinds: [
      varbind('1.3.6.1.6.3.1.1.4.1.0', oid('1.3.6.1.4.1.99.0.1')),
      ...Array.from({ length: n }, (_, i) => varbind(`1.3.6.1.4.1.99.1.${i}`, nul())),
    ],
  });

describe('every trap read is queued', () => {
  it('queues 2,000 traps sent over UDP, one event each, with names and enumerations', async () => {
    const r = await rig();
    try {
      for (let i = 0; i < 2000; i++) {
        await r.send(linkDown(i));
        if (i % 200 === 199) await abortableSleep(5); // stay below the socket buffer on a busy machine
      }
      await until(async () => (await r.depth()) >= 2000);
      await abortableSleep(100);
      expect(await r.depth()).toBe(2000);
      expect(await value(r.telemetry.packets)).toBe(2000);
      expect(await value(r.telemetry.received, { version: 'v2c', pdu: 'trap' })).toBe(2000);
      expect(await value(r.telemetry.queued)).toBe(2000);
      const ids = new Set(
        (await svc.redis.lrange(svc.keys.ingestQueue, 0, -1)).map((s) => JSON.parse(s).snmp_request_id),
      );
      expect(ids.size).toBe(2000);
      const e = JSON.parse((await svc.redis.lindex(svc.keys.ingestQueue, 0))!);
      expect(e).toMatchObject({
        hostname: 'edge-rtr-7',
        message:
          'IF-MIB::linkDown IF-MIB::ifIndex.7=7 IF-MIB::ifAdminStatus.7=up(1) IF-MIB::ifOperStatus.7=down(2) SNMPv2-MIB::sysName.0=edge-rtr-7',
        trap_oid: '1.3.6.1.6.3.1.1.5.3',
        source: 'snmp',
        source_ip: '127.0.0.1',
      });
      expect(await value(r.telemetry.oids, { result: 'translated' })).toBe(2000 * 7);
    } finally {
      await r.stop();
    }
  });

  it('stop() hands every trap already read to the enqueuer', async () => {
    const r = await rig();
    for (let i = 0; i < 500; i++) r.feed(linkDown(i));
    await r.stop(); // right away: events are still on their way to Redis
    expect(await r.depth()).toBe(500);
  });

  it('sheds traps at the queue cap and counts them', async () => {
    const r = await rig({ cap: 10 });
    try {
      // One trap at a time, each counted before the next: the cap is checked per batch written to
      // Redis (a batch pushed below the cap is pushed whole), so traps that travel together on a
      // slow host could pass it together.
      const counted = async () => (await value(r.telemetry.queued)) + (await value(r.telemetry.dropped));
      for (let i = 0; i < 25; i++) {
        r.feed(linkDown(i));
        await until(async () => (await counted()) === i + 1);
      }
      expect(await r.depth()).toBe(10);
      expect(await value(r.telemetry.queued)).toBe(10);
      expect(await value(r.telemetry.dropped, { reason: 'queue_full' })).toBe(15);
    } finally {
      await r.stop();
    }
  });
});

describe('informs', () => {
  it('answers a retransmitted inform again without queueing it twice', async () => {
    const r = await rig();
    try {
      const answers: Buffer[] = [];
      r.client.on('message', (m) => answers.push(m));
      const inform = v2Message({
        community: 'public',
        requestId: 4242,
        pduType: TAG.InformRequest,
        varbinds: [
          varbind('1.3.6.1.2.1.1.3.0', int(1, TAG.TimeTicks)),
          varbind('1.3.6.1.6.3.1.1.4.1.0', oid('1.3.6.1.6.3.1.1.5.4')),
        ],
      });
      await r.send(inform);
      await until(() => answers.length === 1);
      await r.send(inform); // the sender did not see the answer and retransmits
      await until(() => answers.length === 2);
      expect(await r.depth()).toBe(1);
      expect(await value(r.telemetry.informsAnswered)).toBe(2);
      expect(await value(r.telemetry.informsDuplicate)).toBe(1);
      // The answer is a GetResponse-PDU (0xa2) with the inform's request-id.
      for (const a of answers) {
        expect(a.includes(Buffer.from([0xa2]))).toBe(true);
        expect(a.includes(int(4242))).toBe(true);
      }
    } finally {
      await r.stop();
    }
  });
});

describe('bad input: counted, never a crash', () => {
  const trap = linkDown(1);
  const withFlags = (flags: number, user: string, securityModel = 3) =>
    v3Message({
      msgId: 1,
      flags,
      engineId: Buffer.from('8000000001020304', 'hex'),
      boots: 1,
      time: 1,
      userName: user,
      authLength: flags & 1 ? 24 : 0,
      contextEngineId: Buffer.alloc(0),
      securityModel,
      pdu:
        flags & 2
          ? octets(Buffer.alloc(40, 7))
          : tlv(TAG.TrapV2, [
              int(1),
              int(0),
              int(0),
              seq(varbind('1.3.6.1.6.3.1.1.4.1.0', oid('1.3.6.1.6.3.1.1.5.1'))),
            ]),
    });
  const rows: [string, Buffer, 'decode' | 'auth', string, boolean?][] = [
    ['empty datagram', Buffer.alloc(0), 'decode', 'malformed'],
    ['truncated BER', trap.subarray(0, trap.length - 5), 'decode', 'malformed'],
    [
      'length field longer than the datagram',
      Buffer.concat([Buffer.from([0x30, 0x82, 0x7f, 0xff]), trap.subarray(2)]),
      'decode',
      'malformed',
    ],
    [
      'varbind list length beyond its PDU',
      seq(
        int(1),
        octets('public'),
        tlv(TAG.TrapV2, [
          int(1),
          int(0),
          int(0),
          Buffer.from([0x30, 0x7f]),
          varbind('1.3.6.1.6.3.1.1.4.1.0', oid('1.3.6.1.6.3.1.1.5.1')),
        ]),
      ),
      'decode',
      'malformed',
    ],
    [
      'unknown value type in a varbind',
      v2Message({
        community: 'public',
        requestId: 2,
        varbinds: [
          varbind('1.3.6.1.6.3.1.1.4.1.0', oid('1.3.6.1.6.3.1.1.5.1')),
          varbind('1.3.6.1.2.1.1.1.0', tlv(0x47, Buffer.from([1]))),
        ],
      }),
      'decode',
      'malformed',
    ],
    [
      'empty OID value',
      v2Message({
        community: 'public',
        requestId: 3,
        varbinds: [varbind('1.3.6.1.6.3.1.1.4.1.0', tlv(TAG.Oid, Buffer.alloc(0)))],
      }),
      'decode',
      'malformed',
    ],
    [
      'SNMP version 2 (not a version)',
      seq(int(2), octets('public'), tlv(TAG.TrapV2, [int(1), int(0), int(0), seq()])),
      'decode',
      'unsupported_version',
    ],
    [
      'a GetRequest',
      v2Message({
        community: 'public',
        requestId: 4,
        pduType: TAG.GetRequest,
        varbinds: [varbind('1.3.6.1.2.1.1.1.0', nul())],
      }),
      'decode',
      'unsupported_pdu',
    ],
    [
      'a trap without snmpTrapOID.0',
      v2Message({
        community: 'public',
        requestId: 5,
        varbinds: [varbind('1.3.6.1.2.1.1.3.0', int(1, TAG.TimeTicks))],
      }),
      'decode',
      'no_trap_oid',
    ],
    ['4,000 varbinds (the most a datagram holds)', manyVarbinds(4000), 'decode', 'too_many_varbinds'],
    [
      '10,000 varbinds (fed directly: larger than UDP)',
      manyVarbinds(10_000),
      'decode',
      'too_many_varbinds',
      true,
    ],
    ['wrong community', linkDown(6, 'private'), 'auth', 'bad_community'],
    ['v3 from an unknown user', withFlags(0, 'mallory'), 'auth', 'unknown_user'],
    ['v3 noAuthNoPriv for an authPriv user', withFlags(0, 'ops'), 'auth', 'unsupported_security_level'],
    ['v3 with an unknown security model', withFlags(0, 'ops', 9), 'auth', 'unsupported_security_level'],
    ['v3 authPriv with a forged digest', withFlags(3, 'ops'), 'auth', 'wrong_digest'],
  ];

  it.each(rows.map(([name, buf, kind, reason, direct]) => ({ name, buf, kind, reason, direct })))(
    '$name → $kind $reason',
    async ({ buf, kind, reason, direct }) => {
      const r = await rig();
      try {
        const counter = kind === 'decode' ? r.telemetry.decodeErrors : r.telemetry.authFailures;
        if (direct) r.feed(buf);
        else await r.send(buf);
        await until(async () => (await value(counter, { reason })) === 1);
        // The listener keeps going: a good trap right after is queued.
        await r.send(linkDown(99));
        await until(async () => (await r.depth()) === 1);
        expect(await value(r.telemetry.received)).toBe(1);
        expect(await value(r.telemetry.decodeErrors)).toBe(kind === 'decode' ? 1 : 0);
        expect(await value(r.telemetry.authFailures)).toBe(kind === 'auth' ? 1 : 0);
      } finally {
        await r.stop();
      }
    },
  );

  it('survives 100,000 random and mutated datagrams and accounts for every one', async () => {
    const r = await rig();
    try {
      const seeds = [
        linkDown(7),
        v1TrapMessage({
          community: 'public',
          enterprise: '1.3.6.1.4.1.9.9.43.2',
          agentAddr: '10.0.0.1',
          generic: 6,
          specific: 1,
          timestamp: 5,
          varbinds: [varbind('1.3.6.1.2.1.1.5.0', octets('x'))],
        }),
        withFlags(4, ''),
      ];
      let n = 0;
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
          r.feed(Buffer.from(bytes));
          n++;
        }),
        { numRuns: 50_000 },
      );
      fc.assert(
        fc.property(
          fc.nat(seeds.length - 1),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
          (s, edits) => {
            const buf = Buffer.from(seeds[s]!);
            for (const [pos, b] of edits) buf[pos % buf.length] = b;
            r.feed(buf);
            n++;
          },
        ),
        { numRuns: 50_000 },
      );
      expect(n).toBe(100_000);
      const accounted = async () =>
        (await value(r.telemetry.decodeErrors)) +
        (await value(r.telemetry.authFailures)) +
        (await value(r.telemetry.received)) +
        (await value(r.telemetry.reports, { kind: 'discovery' }));
      expect(await value(r.telemetry.packets)).toBe(100_000);
      expect(await accounted()).toBe(100_000);
      const received = await value(r.telemetry.received);
      await until(async () => (await value(r.telemetry.queued)) === received, 30_000);
      expect(await r.depth()).toBe(received);
      // Still receiving after the flood: a trap sent over UDP (sent again while it has not arrived:
      // the kernel may drop a datagram on a loaded host, as it may any trap) is queued.
      let sent = 0;
      while ((await r.depth()) === received) {
        if (sent === 10) throw new Error('no trap queued after the flood in 10 attempts');
        await r.send(linkDown(12345));
        sent++;
        await until(async () => (await r.depth()) > received, 3000).catch(() => undefined);
      }
      // Each arrived copy queued once, each counted as received and queued: nothing else slipped in.
      await until(async () => {
        const now = await value(r.telemetry.received);
        return (await value(r.telemetry.queued)) === now && (await r.depth()) === now;
      });
      const arrived = (await r.depth()) - received;
      expect(arrived).toBeGreaterThanOrEqual(1);
      expect(arrived).toBeLessThanOrEqual(sent);
    } finally {
      await r.stop();
    }
  });
});

describe('SNMPv3 USM', () => {
  it('keeps its key and engine caches bounded under a flood of new engine IDs, and queues every authentic trap', async () => {
    const r = await rig({ limits: { localizedKeys: 50, engineTimes: 50 } });
    try {
      const user = {
        name: 'ops',
        level: snmp.SecurityLevel.authPriv,
        authProtocol: snmp.AuthProtocols.sha256,
        authKey: opsUser.authKey,
        privProtocol: snmp.PrivProtocols.aes,
        privKey: opsUser.privKey,
      };
      for (let i = 0; i < 300; i++) {
        const engineID = `80000000${i.toString(16).padStart(8, '0')}aabb`;
        const session = snmp.createV3Session('127.0.0.1', user, {
          port: 162,
          trapPort: r.receiver.boundPort,
          engineID,
          version: 3,
        });
        await new Promise<void>((res, rej) =>
          session.trap(
            '1.3.6.1.6.3.1.1.5.4',
            [{ oid: '1.3.6.1.2.1.2.2.1.1.1', type: 2, value: i }],
            (err: Error | null) => (err ? rej(err) : res()),
          ),
        );
        session.close();
      }
      await until(async () => (await r.depth()) === 300);
      expect(await value(r.telemetry.received, { version: 'v3' })).toBe(300);
      const sizes = r.receiver.cacheSizes();
      expect(sizes.localized_keys).toBe(50);
      expect(sizes.engine_times).toBeLessThanOrEqual(50);
      expect(await value(r.telemetry.authFailures)).toBe(0);
    } finally {
      await r.stop();
    }
  });

  it('rejects and counts a v3 trap replayed outside the time window', async () => {
    let now = 1_000_000;
    const r = await rig({ clock: () => now });
    try {
      const trapAt = (boots: number, time: number) =>
        capture((port) =>
          netSnmp('snmptrap', [
            '-v',
            '3',
            '-e',
            '0x80001F8880AABBCCDD',
            '-Z',
            `${boots},${time}`,
            '-u',
            'ops',
            '-l',
            'authPriv',
            '-a',
            'SHA-256',
            '-A',
            opsUser.authKey!,
            '-x',
            'AES',
            '-X',
            opsUser.privKey!,
            `127.0.0.1:${port}`,
            '',
            '1.3.6.1.6.3.1.1.5.4',
            '1.3.6.1.2.1.2.2.1.1.3',
            'i',
            String(time),
          ]),
        );
      const fresh = await trapAt(5, 1000);
      const older = await trapAt(5, 800);
      const earlierBoot = await trapAt(4, 5000);
      const tooOld = async () => value(r.telemetry.authFailures, { reason: 'not_in_time_window' });

      await r.send(fresh); // learned: engine 80001F88…, boots 5, time 1000
      await until(async () => (await r.depth()) === 1);
      await r.send(older); // 200 s older than the latest: a replay
      await until(async () => (await tooOld()) === 1);
      await r.send(earlierBoot);
      await until(async () => (await tooOld()) === 2);
      now += 10_000;
      await r.send(fresh); // the same message 10 s later: inside the window (USM accepts it)
      await until(async () => (await r.depth()) === 2);
      now += 300_000;
      await r.send(fresh); // 310 s later: outside the window
      await until(async () => (await tooOld()) === 3);
      expect(await r.depth()).toBe(2);
    } finally {
      await r.stop();
    }
  });
});
