// The SNMP listener in the real `mutt serve` process, driven by Net-SNMP's snmptrap and snmpinform
// (Debian package `snmp`): v1, v2c, v2c informs, v3 authPriv SHA-256/AES traps and informs, the
// failures operators hit (wrong community, unknown user, wrong passphrase), the engine ID across a
// restart, and informs at the queue cap.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortableSleep } from '../src/runtime/sleep.ts';
import { type MuttProcess, runMutt, startMutt } from './harness/mutt-process.ts';
import { freePort, freeUdpPort } from './harness/ports.ts';
import { netSnmp } from './harness/snmp-clients.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
const AUTH = 'sha256-auth-pass';
const PRIV = 'aes128-priv-pass';

beforeAll(async () => {
  svc = await useServices({ database: false });
  writeFileSync(
    join(svc.tmp, 'snmp-users.conf'),
    [
      `createUser netops SHA-256 "${AUTH}" AES "${PRIV}"`,
      `createUser -e 0x80001F8880C0FFEE01 bound SHA-512 "${AUTH}" AES "${PRIV}"`,
      `createUser strong SHA-384 "${AUTH}" AES-256 "${PRIV}"`,
    ].join('\n'),
  );
});
afterAll(async () => svc.cleanup());

interface Running {
  p: MuttProcess;
  trapPort: number;
  target: string;
  metrics(): Promise<string>;
  events(): Promise<any[]>;
  waitEvents(n: number): Promise<any[]>;
}

async function serve(extra: Record<string, string> = {}): Promise<Running> {
  const trapPort = await freeUdpPort();
  const httpPort = await freePort();
  const p = startMutt({
    ...svc.env,
    MUTT_ROLES: 'listeners',
    SERVER_PORT_INGESTOR: String(httpPort),
    SNMP_TRAP_PORT: String(trapPort),
    SNMP_COMMUNITIES: 'public,n0c-community',
    SNMP_USERS_FILE: join(svc.tmp, 'snmp-users.conf'),
    SNMP_MIB_DIRS: 'test/fixtures/mibs,etc/mibs',
    ...extra,
  });
  await p.running();
  const events = async () =>
    (await svc.redis.lrange(svc.keys.ingestQueue, 0, -1)).map((s) => JSON.parse(s)).reverse();
  return {
    p,
    trapPort,
    target: `127.0.0.1:${trapPort}`,
    metrics: async () => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(),
    events,
    async waitEvents(n) {
      for (let i = 0; i < 250; i++) {
        const e = await events();
        if (e.length >= n) return e;
        await abortableSleep(40);
      }
      throw new Error(`expected ${n} events in Redis; have ${(await events()).length}\n${p.tail()}`);
    },
  };
}

const metric = (text: string, name: string, labels = '') => {
  const re = new RegExp(`^${name}${labels ? `\\{${labels.replace(/[{}]/g, '')}\\}` : ''} (\\S+)$`, 'm');
  return Number(re.exec(text)?.[1] ?? Number.NaN);
};

describe('SNMP traps and informs from Net-SNMP clients', () => {
  let m: Running;
  beforeAll(async () => {
    await svc.redis.del(svc.keys.ingestQueue);
    m = await serve();
  });
  afterAll(async () => m.p.stop());

  it('logs the listener and the engine identity at start-up', async () => {
    const ready = await m.p.waitForMessage('SNMP trap listener ready');
    expect(ready).toMatchObject({ port: m.trapPort, communities: 2, v3_users: 3, engine_boots: 1 });
    // The test's users file is mode 0644: MUTT says so, without printing any passphrase.
    await m.p.waitForMessage(/holds passphrases but every user of this host can read it \(chmod 0640\)/);
    expect(JSON.stringify(m.p.lines)).not.toContain('n0c-community');
    expect(JSON.stringify(m.p.lines)).not.toContain(AUTH);
  });

  it('v2c: an IF-MIB linkDown arrives in Redis with names, enumerations and the sysName as hostname', async () => {
    const before = (await m.events()).length;
    const r = await netSnmp('snmptrap', [
      '-v',
      '2c',
      '-c',
      'n0c-community',
      m.target,
      '',
      '1.3.6.1.6.3.1.1.5.3',
      '1.3.6.1.2.1.2.2.1.1.3',
      'i',
      '3',
      '1.3.6.1.2.1.2.2.1.7.3',
      'i',
      '1',
      '1.3.6.1.2.1.2.2.1.8.3',
      'i',
      '2',
      '1.3.6.1.2.1.1.5.0',
      's',
      'dist-sw-03',
    ]);
    expect(r.status).toBe(0);
    const e = (await m.waitEvents(before + 1)).at(-1);
    expect(e).toMatchObject({
      hostname: 'dist-sw-03',
      message:
        'IF-MIB::linkDown IF-MIB::ifIndex.3=3 IF-MIB::ifAdminStatus.3=up(1) IF-MIB::ifOperStatus.3=down(2) SNMPv2-MIB::sysName.0=dist-sw-03',
      trap_oid: '1.3.6.1.6.3.1.1.5.3',
      trap_name: 'IF-MIB::linkDown',
      snmp_version: 'v2c',
      snmp_pdu: 'trap',
      source: 'snmp',
      source_ip: '127.0.0.1',
      agent_address: '127.0.0.1',
      syslog_severity: 4,
    });
    expect(e.varbinds[4]).toEqual({
      oid: '1.3.6.1.2.1.2.2.1.8.3',
      name: 'IF-MIB::ifOperStatus.3',
      type: 'Integer',
      value: 2,
      display: 'down(2)',
    });
    expect(e.varbinds[0]).toMatchObject({ name: 'SNMPv2-MIB::sysUpTime.0', type: 'TimeTicks' });
    expect(typeof e.varbinds[0].value).toBe('string');
    expect(Date.parse(e.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.stringify(e)).not.toContain('n0c-community');
  });

  it('v2c: a Cisco enterprise notification is named from its MIB with decoded enumerations', async () => {
    const before = (await m.events()).length;
    const r = await netSnmp('snmptrap', [
      '-v',
      '2c',
      '-c',
      'public',
      m.target,
      '',
      '1.3.6.1.4.1.9.9.43.2.0.1',
      '1.3.6.1.4.1.9.9.43.1.1.0',
      'i',
      '1',
      '1.3.6.1.4.1.9.9.43.1.2.0',
      'i',
      '3',
      '1.3.6.1.4.1.9.9.43.1.3.0',
      'i',
      '4',
      '1.3.6.1.4.1.9.9.43.1.4.0',
      's',
      'jdoe',
    ]);
    expect(r.status).toBe(0);
    const e = (await m.waitEvents(before + 1)).at(-1);
    expect(e).toMatchObject({
      trap_oid: '1.3.6.1.4.1.9.9.43.2.0.1',
      trap_name: 'MUTT-FIXTURE-CISCO-MIB::ciscoConfigManEvent',
      message:
        'MUTT-FIXTURE-CISCO-MIB::ciscoConfigManEvent MUTT-FIXTURE-CISCO-MIB::ccmHistoryEventCommandSource.0=commandLine(1) MUTT-FIXTURE-CISCO-MIB::ccmHistoryEventConfigSource.0=running(3) MUTT-FIXTURE-CISCO-MIB::ccmHistoryEventConfigDestination.0=startup(4) MUTT-FIXTURE-CISCO-MIB::ccmHistoryEventTerminalUser.0=jdoe',
    });
  });

  it('v1: a generic linkDown becomes snmpTraps.3 (RFC 3584) and keeps agent-addr', async () => {
    const before = (await m.events()).length;
    const r = await netSnmp('snmptrap', [
      '-v',
      '1',
      '-c',
      'public',
      m.target,
      '1.3.6.1.4.1.8072.3.2.10',
      '192.0.2.44',
      '2',
      '0',
      '',
      '1.3.6.1.2.1.2.2.1.1.9',
      'i',
      '9',
    ]);
    expect(r.status).toBe(0);
    const e = (await m.waitEvents(before + 1)).at(-1);
    expect(e).toMatchObject({
      trap_oid: '1.3.6.1.6.3.1.1.5.3',
      trap_name: 'IF-MIB::linkDown',
      snmp_version: 'v1',
      agent_address: '192.0.2.44',
      hostname: '127.0.0.1',
      message: 'IF-MIB::linkDown IF-MIB::ifIndex.9=9',
    });
    expect(e.varbinds.at(-1)).toMatchObject({
      name: 'SNMPv2-MIB::snmpTrapEnterprise.0',
      value: '1.3.6.1.4.1.8072.3.2.10',
    });
  });

  it('v1: an enterprise-specific Cisco trap becomes enterprise.0.specific and is named', async () => {
    const before = (await m.events()).length;
    const r = await netSnmp('snmptrap', [
      '-v',
      '1',
      '-c',
      'public',
      m.target,
      '1.3.6.1.4.1.9.9.43.2',
      '192.0.2.45',
      '6',
      '2',
      '',
      '1.3.6.1.4.1.9.9.43.1.4.0',
      's',
      'admin',
    ]);
    expect(r.status).toBe(0);
    const e = (await m.waitEvents(before + 1)).at(-1);
    expect(e).toMatchObject({
      trap_oid: '1.3.6.1.4.1.9.9.43.2.0.2',
      trap_name: 'MUTT-FIXTURE-CISCO-MIB::ciscoConfigSavedTrap',
      agent_address: '192.0.2.45',
    });
  });

  it('v2c inform: answered (snmpinform exits 0) once the event is in Redis', async () => {
    const before = (await m.events()).length;
    const r = await netSnmp('snmpinform', [
      '-v',
      '2c',
      '-c',
      'public',
      '-t',
      '3',
      '-r',
      '1',
      m.target,
      '',
      '1.3.6.1.6.3.1.1.5.4',
      '1.3.6.1.2.1.2.2.1.1.5',
      'i',
      '5',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const e = (await m.waitEvents(before + 1)).at(-1);
    expect(e).toMatchObject({ trap_name: 'IF-MIB::linkUp', snmp_pdu: 'inform', snmp_version: 'v2c' });
  });

  it('v3 authPriv SHA-256/AES: inform (with engine discovery) and trap', async () => {
    const before = (await m.events()).length;
    const v3 = [
      '-v',
      '3',
      '-u',
      'netops',
      '-l',
      'authPriv',
      '-a',
      'SHA-256',
      '-A',
      AUTH,
      '-x',
      'AES',
      '-X',
      PRIV,
    ];
    const inform = await netSnmp('snmpinform', [
      ...v3,
      '-t',
      '3',
      '-r',
      '1',
      m.target,
      '',
      '1.3.6.1.6.3.1.1.5.4',
      '1.3.6.1.2.1.2.2.1.1.6',
      'i',
      '6',
    ]);
    expect(inform.stderr).toBe('');
    expect(inform.status).toBe(0);
    const trap = await netSnmp('snmptrap', [
      ...v3,
      '-e',
      '0x80001F8880ABCDEF01',
      m.target,
      '',
      '1.3.6.1.6.3.1.1.5.3',
      '1.3.6.1.2.1.2.2.1.1.7',
      'i',
      '7',
    ]);
    expect(trap.status).toBe(0);
    const events = await m.waitEvents(before + 2);
    expect(events.at(-2)).toMatchObject({
      snmp_version: 'v3',
      snmp_pdu: 'inform',
      trap_name: 'IF-MIB::linkUp',
    });
    expect(events.at(-1)).toMatchObject({
      snmp_version: 'v3',
      snmp_pdu: 'trap',
      trap_name: 'IF-MIB::linkDown',
      snmp_engine_id: '80001f8880abcdef01',
    });
    expect(JSON.stringify(events.slice(-2))).not.toMatch(new RegExp(`${AUTH}|${PRIV}|netops-secret`));
  });

  it.each([['strong', 'SHA-384', 'AES-256']])(
    'v3 inform from user %s with %s and %s',
    async (user, auth, priv) => {
      const before = (await m.events()).length;
      const r = await netSnmp('snmpinform', [
        '-v',
        '3',
        '-u',
        user,
        '-l',
        'authPriv',
        '-a',
        auth,
        '-A',
        AUTH,
        '-x',
        priv,
        '-X',
        PRIV,
        '-t',
        '3',
        '-r',
        '1',
        m.target,
        '',
        '1.3.6.1.6.3.1.1.5.4',
        '1.3.6.1.2.1.2.2.1.1.8',
        'i',
        '8',
      ]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect((await m.waitEvents(before + 1)).at(-1)).toMatchObject({
        snmp_version: 'v3',
        snmp_pdu: 'inform',
        message: 'IF-MIB::linkUp IF-MIB::ifIndex.8=8',
      });
    },
  );

  it('a user bound to an engine ID (createUser -e) accepts traps from that engine only', async () => {
    const before = (await m.events()).length;
    const v3 = [
      '-v',
      '3',
      '-u',
      'bound',
      '-l',
      'authPriv',
      '-a',
      'SHA-512',
      '-A',
      AUTH,
      '-x',
      'AES',
      '-X',
      PRIV,
    ];
    expect(
      (await netSnmp('snmptrap', [...v3, '-e', '0x80001F8880BADBAD01', m.target, '', '1.3.6.1.6.3.1.1.5.1']))
        .status,
    ).toBe(0);
    expect(
      (await netSnmp('snmptrap', [...v3, '-e', '0x80001F8880C0FFEE01', m.target, '', '1.3.6.1.6.3.1.1.5.2']))
        .status,
    ).toBe(0);
    const e = (await m.waitEvents(before + 1)).at(-1);
    expect(e).toMatchObject({ trap_name: 'SNMPv2-MIB::warmStart', snmp_engine_id: '80001f8880c0ffee01' });
    expect(metric(await m.metrics(), 'mutt_snmp_auth_failures_total', 'reason="unknown_engine_id"')).toBe(1);
  });

  it('rejects and counts a wrong community, an unknown user and a wrong passphrase', async () => {
    const before = (await m.events()).length;
    const wrongCommunity = await netSnmp('snmptrap', [
      '-v',
      '2c',
      '-c',
      'guessme',
      m.target,
      '',
      '1.3.6.1.6.3.1.1.5.3',
    ]);
    expect(wrongCommunity.status).toBe(0); // traps are unacknowledged: the sender cannot know
    const unknownUser = await netSnmp('snmpinform', [
      '-v',
      '3',
      '-u',
      'mallory',
      '-l',
      'authPriv',
      '-a',
      'SHA-256',
      '-A',
      AUTH,
      '-x',
      'AES',
      '-X',
      PRIV,
      '-t',
      '2',
      '-r',
      '0',
      m.target,
      '',
      '1.3.6.1.6.3.1.1.5.3',
    ]);
    expect(unknownUser.status).not.toBe(0);
    expect(unknownUser.stderr).toContain('Unknown user name'); // the usmStatsUnknownUserNames report
    const wrongPass = await netSnmp('snmpinform', [
      '-v',
      '3',
      '-u',
      'netops',
      '-l',
      'authPriv',
      '-a',
      'SHA-256',
      '-A',
      'not-the-passphrase',
      '-x',
      'AES',
      '-X',
      PRIV,
      '-t',
      '1',
      '-r',
      '0',
      m.target,
      '',
      '1.3.6.1.6.3.1.1.5.3',
    ]);
    expect(wrongPass.status).not.toBe(0);
    const wrongTrapPass = await netSnmp('snmptrap', [
      '-v',
      '3',
      '-u',
      'netops',
      '-l',
      'authPriv',
      '-a',
      'SHA-256',
      '-A',
      'not-the-passphrase',
      '-x',
      'AES',
      '-X',
      PRIV,
      '-e',
      '0x80001F8880ABCDEF02',
      m.target,
      '',
      '1.3.6.1.6.3.1.1.5.3',
    ]);
    expect(wrongTrapPass.status).toBe(0);
    // Right authentication passphrase, wrong privacy passphrase: authentic but undecipherable.
    const wrongPriv = await netSnmp('snmptrap', [
      '-v',
      '3',
      '-u',
      'netops',
      '-l',
      'authPriv',
      '-a',
      'SHA-256',
      '-A',
      AUTH,
      '-x',
      'AES',
      '-X',
      'not-the-priv-passphrase',
      '-e',
      '0x80001F8880ABCDEF03',
      m.target,
      '',
      '1.3.6.1.6.3.1.1.5.3',
      '1.3.6.1.2.1.1.5.0',
      's',
      'should-not-arrive',
    ]);
    expect(wrongPriv.status).toBe(0);
    // A good trap after them proves they were all processed (one socket, in order).
    await netSnmp('snmptrap', ['-v', '2c', '-c', 'public', m.target, '', '1.3.6.1.6.3.1.1.5.1']);
    const events = await m.waitEvents(before + 1);
    expect(events.length).toBe(before + 1);
    expect(events.at(-1).trap_name).toBe('SNMPv2-MIB::coldStart');
    const text = await m.metrics();
    expect(metric(text, 'mutt_snmp_auth_failures_total', 'reason="bad_community"')).toBe(1);
    expect(metric(text, 'mutt_snmp_auth_failures_total', 'reason="unknown_user"')).toBe(1);
    expect(metric(text, 'mutt_snmp_auth_failures_total', 'reason="wrong_digest"')).toBe(2);
    expect(metric(text, 'mutt_snmp_auth_failures_total', 'reason="decryption_error"')).toBe(1);
    const logs = JSON.stringify(m.p.lines);
    expect(logs).not.toContain('guessme');
    expect(logs).not.toContain('not-the-passphrase');
    expect(logs).not.toContain('not-the-priv-passphrase');
    expect(m.p.lines.some((l) => l.reason === 'bad_community' && l.source_ip === '127.0.0.1')).toBe(true);
  });

  it('receives over IPv6 on the same dual-stack socket', async () => {
    const before = (await m.events()).length;
    const r = await netSnmp('snmptrap', [
      '-v',
      '2c',
      '-c',
      'public',
      `udp6:[::1]:${m.trapPort}`,
      '',
      '1.3.6.1.6.3.1.1.5.1',
    ]);
    expect(r.status).toBe(0);
    expect((await m.waitEvents(before + 1)).at(-1)).toMatchObject({
      trap_name: 'SNMPv2-MIB::coldStart',
      source_ip: '::1',
      hostname: '::1',
    });
  });

  it('exposes the SNMP metrics', async () => {
    const text = await m.metrics();
    expect(metric(text, 'mutt_snmp_traps_received_total', 'version="v2c",pdu="trap"')).toBeGreaterThanOrEqual(
      3,
    );
    expect(metric(text, 'mutt_snmp_traps_received_total', 'version="v1",pdu="trap"')).toBe(2);
    expect(metric(text, 'mutt_snmp_traps_received_total', 'version="v3",pdu="inform"')).toBe(2);
    expect(metric(text, 'mutt_snmp_informs_answered_total')).toBe(3);
    expect(metric(text, 'mutt_snmp_oids_total', 'result="translated"')).toBeGreaterThan(20);
    expect(metric(text, 'mutt_snmp_reports_total', 'kind="discovery"')).toBeGreaterThanOrEqual(1);
    expect(metric(text, 'mutt_snmp_mib', 'what="modules"')).toBe(11);
  });
});

describe('engine identity across restarts', () => {
  it('keeps the engine ID, counts boots, and a sender configured with it resynchronises', async () => {
    const dataDir = join(svc.tmp, 'restart-data');
    const first = await serve({ MUTT_DATA_DIR: dataDir });
    const a = await first.p.waitForMessage('SNMP trap listener ready');
    await first.p.stop();
    await svc.redis.del(svc.keys.ingestQueue);
    const second = await serve({ MUTT_DATA_DIR: dataDir });
    try {
      const b = await second.p.waitForMessage('SNMP trap listener ready');
      expect(b.engine_id).toBe(a.engine_id);
      expect(b.engine_boots).toBe((a.engine_boots as number) + 1);
      // -e: no discovery; the first inform carries stale boots/time, MUTT answers with an
      // authenticated notInTimeWindow report, and snmpinform retransmits in time.
      const r = await netSnmp('snmpinform', [
        '-v',
        '3',
        '-e',
        `0x${String(a.engine_id)}`,
        '-u',
        'netops',
        '-l',
        'authPriv',
        '-a',
        'SHA-256',
        '-A',
        AUTH,
        '-x',
        'AES',
        '-X',
        PRIV,
        '-t',
        '3',
        '-r',
        '1',
        second.target,
        '',
        '1.3.6.1.6.3.1.1.5.4',
      ]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect((await second.waitEvents(1)).at(-1)).toMatchObject({ snmp_pdu: 'inform', snmp_version: 'v3' });
      const text = await second.metrics();
      expect(metric(text, 'mutt_snmp_reports_total', 'kind="not_in_time_window"')).toBe(1);
      expect(metric(text, 'mutt_snmp_informs_answered_total')).toBe(1);
    } finally {
      await second.p.stop();
    }
  });
});

describe('at the queue cap', () => {
  it('leaves informs unanswered so the sender retransmits, and sheds traps, counting both', async () => {
    await svc.redis.del(svc.keys.ingestQueue);
    const m = await serve({ MAX_INGEST_QUEUE_SIZE: '2', SNMP_COMMUNITIES: 'public' });
    try {
      for (let i = 0; i < 2; i++)
        await netSnmp('snmptrap', ['-v', '2c', '-c', 'public', m.target, '', '1.3.6.1.6.3.1.1.5.1']);
      await m.waitEvents(2);
      await netSnmp('snmptrap', ['-v', '2c', '-c', 'public', m.target, '', '1.3.6.1.6.3.1.1.5.1']);
      const inform = await netSnmp('snmpinform', [
        '-v',
        '2c',
        '-c',
        'public',
        '-t',
        '1',
        '-r',
        '1',
        m.target,
        '',
        '1.3.6.1.6.3.1.1.5.4',
      ]);
      expect(inform.status).not.toBe(0);
      expect(inform.stderr).toContain('Timeout');
      const text = await m.metrics();
      expect(metric(text, 'mutt_snmp_traps_dropped_total', 'reason="queue_full"')).toBe(1);
      expect(metric(text, 'mutt_snmp_informs_unanswered_total', 'reason="queue_full"')).toBe(2); // first try and one retry
      expect(metric(text, 'mutt_snmp_informs_answered_total')).toBe(0);
      expect(await svc.redis.llen(svc.keys.ingestQueue)).toBe(2);
      // Room again: the sender's next attempt is answered.
      await svc.redis.rpop(svc.keys.ingestQueue);
      const again = await netSnmp('snmpinform', [
        '-v',
        '2c',
        '-c',
        'public',
        '-t',
        '2',
        '-r',
        '1',
        m.target,
        '',
        '1.3.6.1.6.3.1.1.5.4',
      ]);
      expect(again.status).toBe(0);
      expect(await svc.redis.llen(svc.keys.ingestQueue)).toBe(2);
    } finally {
      await m.p.stop();
    }
  });
});

describe('reverse DNS', () => {
  it('names a trap without snmpTrapAddress.0 or sysName by the system resolver when enabled', async () => {
    await svc.redis.del(svc.keys.ingestQueue);
    const m = await serve({ SNMP_REVERSE_DNS: 'true' });
    try {
      await netSnmp('snmptrap', ['-v', '2c', '-c', 'public', m.target, '', '1.3.6.1.6.3.1.1.5.1']);
      await netSnmp('snmptrap', [
        '-v',
        '2c',
        '-c',
        'public',
        m.target,
        '',
        '1.3.6.1.6.3.1.1.5.1',
        '1.3.6.1.2.1.1.5.0',
        's',
        'named-by-sysname',
      ]);
      const events = await m.waitEvents(2);
      // The lookup is asynchronous: the two events may be queued in either order.
      expect(events.map((e) => [e.hostname, e.source_ip]).sort()).toEqual([
        ['localhost', '127.0.0.1'], // 127.0.0.1 is "localhost" in /etc/hosts
        ['named-by-sysname', '127.0.0.1'],
      ]);
    } finally {
      await m.p.stop();
    }
  });
});

describe('start-up', () => {
  it('refuses a users file with weak crypto or a named file that is missing, naming the variable (exit 78)', async () => {
    const weak = join(svc.tmp, 'weak-users.conf');
    writeFileSync(weak, 'createUser old MD5 md5-passphrase DES des-passphrase\n');
    const a = startMutt({
      ...svc.env,
      MUTT_ROLES: 'listeners',
      SERVER_PORT_INGESTOR: '0',
      SNMP_TRAP_PORT: String(await freeUdpPort()),
      SNMP_USERS_FILE: weak,
    });
    expect((await a.exited()).code).toBe(78);
    expect(a.stderr.join('')).toContain(`SNMP_USERS_FILE=${weak} line 1: user "old" uses MD5, SHA-1 or DES`);
    expect(a.stderr.join('')).not.toContain('md5-passphrase');
    const b = startMutt({
      ...svc.env,
      MUTT_ROLES: 'listeners',
      SERVER_PORT_INGESTOR: '0',
      SNMP_TRAP_PORT: String(await freeUdpPort()),
      SNMP_USERS_FILE: join(svc.tmp, 'missing.conf'),
    });
    expect((await b.exited()).code).toBe(78);
    expect(b.stderr.join('')).toContain('missing.conf: cannot read the SNMPv3 users file (ENOENT)');
  });

  it('names SNMP_TRAP_PORT when the port is taken', async () => {
    const m = await serve();
    try {
      // Another node (a name of its own) on the same port.
      const clash = startMutt({
        ...svc.env,
        MUTT_ROLES: 'listeners',
        SERVER_PORT_INGESTOR: '0',
        SNMP_TRAP_PORT: String(m.trapPort),
        POD_NAME: 'second-node',
      });
      expect((await clash.exited()).code).toBe(78);
      expect(clash.stderr.join('')).toContain(`SNMP_TRAP_PORT=${m.trapPort} (udp): address already in use`);
    } finally {
      await m.p.stop();
    }
  });

  it('warns when the default community "public" is accepted', async () => {
    const m = await serve({ SNMP_COMMUNITIES: '' });
    try {
      await m.p.waitForMessage(/SNMP_COMMUNITIES is not set/);
    } finally {
      await m.p.stop();
    }
  });
});

describe('mutt mib translate and mutt validate', () => {
  const env = () => ({ ...svc.env, SNMP_MIB_DIRS: 'test/fixtures/mibs,etc/mibs' });

  it.each([
    [['1.3.6.1.6.3.1.1.5.3'], 'IF-MIB::linkDown'],
    [['.1.3.6.1.2.1.2.2.1.8.3'], 'IF-MIB::ifOperStatus.3'],
    [['1.3.6.1.2.1.2.2.1.8.3', '--value', '2'], 'IF-MIB::ifOperStatus.3=down(2)'],
    [['1.3.6.1.4.1.9.9.43.2.0.1'], 'MUTT-FIXTURE-CISCO-MIB::ciscoConfigManEvent'],
    [['1.3.6.1.4.1.99999.7.1'], '1.3.6.1.4.1.99999.7.1'],
    [['IF-MIB::ifOperStatus.3'], '1.3.6.1.2.1.2.2.1.8.3'],
  ])('mib translate %j → %s', (args, out) => {
    const r = runMutt(['mib', 'translate', ...args], env());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(out);
  });

  it('mib translate exits 1 for an unknown name and reports skipped MIB files', () => {
    const dir = join(svc.tmp, 'broken-mibs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'BROKEN-MIB.txt'),
      'BROKEN-MIB DEFINITIONS ::= BEGIN\nx OBJECT IDENTIFIER ::= { iso 3 \n',
    );
    const r = runMutt(['mib', 'translate', 'NO-SUCH-MIB::thing'], {
      ...svc.env,
      SNMP_MIB_DIRS: `${dir},etc/mibs`,
    });
    expect(r.status).toBe(1);
    expect(r.stdout.trim()).toBe('NO-SUCH-MIB::thing: not found in the MIBs of SNMP_MIB_DIRS');
    expect(r.stderr).toContain(`mutt: warning: MIB skipped: ${join(dir, 'BROKEN-MIB.txt')}: line`);
  });

  it('validate reports the SNMP listener and problems of its users file', () => {
    const ok = runMutt(['validate'], {
      ...svc.env,
      SNMP_TRAP_PORT: '1162',
      SNMP_USERS_FILE: join(svc.tmp, 'snmp-users.conf'),
    });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('snmp traps:  port 1162/udp, 3 SNMPv3 users');
    const bad = join(svc.tmp, 'bad-users.conf');
    writeFileSync(bad, 'createUser x SHA-256 short\n');
    const r = runMutt(['validate'], { ...svc.env, SNMP_TRAP_PORT: '1162', SNMP_USERS_FILE: bad });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(
      `mutt: configuration error: SNMP_USERS_FILE=${bad} line 1: the authentication passphrase of user "x" must have at least 8 characters`,
    );
  });
});
