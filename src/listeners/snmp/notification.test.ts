import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MibStore } from './mib/store.ts';
import { normalizeAddress } from '../../runtime/listen.ts';
import { buildEvent, OIDS, v1ToV2 } from './notification.ts';

const mib = MibStore.load([resolve('test/fixtures/mibs'), resolve('etc/mibs')]);
const at = new Date('2026-11-24T12:00:00.000Z');

describe('RFC 3584 §3.1: SNMPv1 trap → SNMPv2 notification', () => {
  it.each([
    [0, 0, '1.3.6.1.6.3.1.1.5.1'], // coldStart
    [1, 0, '1.3.6.1.6.3.1.1.5.2'], // warmStart
    [2, 0, '1.3.6.1.6.3.1.1.5.3'], // linkDown
    [3, 0, '1.3.6.1.6.3.1.1.5.4'], // linkUp
    [4, 0, '1.3.6.1.6.3.1.1.5.5'], // authenticationFailure
    [5, 0, '1.3.6.1.6.3.1.1.5.6'], // egpNeighborLoss
    [6, 17, '1.3.6.1.4.1.9.9.43.2.0.17'], // enterprise-specific
  ])('generic %d specific %d → %s', (generic, specific, trapOid) => {
    const r = v1ToV2(
      { enterprise: '1.3.6.1.4.1.9.9.43.2', agentAddr: '10.0.0.1', generic, specific, upTime: 42 },
      [{ oid: '1.3.6.1.2.1.2.2.1.1.2', type: 2, value: 2 }],
    );
    expect(r.trapOid).toBe(trapOid);
    expect(r.varbinds.map((v) => v.oid)).toEqual([
      OIDS.sysUpTime0,
      OIDS.snmpTrapOID0,
      '1.3.6.1.2.1.2.2.1.1.2',
      OIDS.snmpTrapEnterprise0,
    ]);
    expect(r.varbinds[0]).toEqual({ oid: OIDS.sysUpTime0, type: 67, value: 42 });
    expect(r.varbinds[1]!.value).toBe(trapOid);
    expect(r.varbinds[3]!.value).toBe('1.3.6.1.4.1.9.9.43.2');
  });
});

const v2 = (varbinds: { oid: string; type: number; value: unknown }[]) => ({
  id: 9,
  varbinds: [
    { oid: OIDS.sysUpTime0, type: 67, value: 100 },
    { oid: OIDS.snmpTrapOID0, type: 6, value: '1.3.6.1.6.3.1.1.5.3' },
    ...varbinds,
  ],
});

describe('buildEvent', () => {
  const base = {
    version: 'v2c' as const,
    sourceIp: '192.0.2.10',
    receivedAt: at,
    inform: false,
    severity: 4,
    mib,
  };

  it('builds a linkDown event with names, enumerations and a readable message', () => {
    const r = buildEvent({
      ...base,
      pdu: v2([
        { oid: '1.3.6.1.2.1.2.2.1.1.3', type: 2, value: 3 },
        { oid: '1.3.6.1.2.1.2.2.1.8.3', type: 2, value: 2 },
      ]),
    });
    if ('error' in r) throw new Error(r.error);
    expect(r.event).toMatchObject({
      hostname: '192.0.2.10',
      timestamp: '2026-11-24T12:00:00.000Z',
      message: 'IF-MIB::linkDown IF-MIB::ifIndex.3=3 IF-MIB::ifOperStatus.3=down(2)',
      syslog_severity: 4,
      source: 'snmp',
      source_ip: '192.0.2.10',
      trap_oid: '1.3.6.1.6.3.1.1.5.3',
      trap_name: 'IF-MIB::linkDown',
      snmp_version: 'v2c',
      snmp_pdu: 'trap',
      snmp_request_id: 9,
      agent_address: '192.0.2.10',
      received_at: '2026-11-24T12:00:00.000Z',
    });
    expect(r.event._correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.needsReverseDns).toBe(true);
  });

  it.each([
    [
      'snmpTrapAddress.0 (relayed by a proxy) wins',
      [
        { oid: OIDS.snmpTrapAddress0, type: 64, value: '10.9.9.9' },
        { oid: OIDS.sysName0, type: 4, value: Buffer.from('sw1') },
      ],
      '10.9.9.9',
      '10.9.9.9',
    ],
    [
      'then a sysName varbind',
      [{ oid: OIDS.sysName0, type: 4, value: Buffer.from('sw1') }],
      'sw1',
      '192.0.2.10',
    ],
    [
      'a binary sysName is not a name',
      [{ oid: OIDS.sysName0, type: 4, value: Buffer.from([0, 1]) }],
      '192.0.2.10',
      '192.0.2.10',
    ],
    ['then the source address', [], '192.0.2.10', '192.0.2.10'],
  ])('hostname: %s', (_n, extra, hostname, agent) => {
    const r = buildEvent({ ...base, pdu: v2(extra) });
    if ('error' in r) throw new Error(r.error);
    expect(r.event.hostname).toBe(hostname);
    expect(r.event.agent_address).toBe(agent);
  });

  it('converts a v1 enterprise trap and keeps agent-addr as agent_address', () => {
    const r = buildEvent({
      ...base,
      version: 'v1',
      pdu: {
        id: 0,
        enterprise: '1.3.6.1.4.1.9.9.43.2',
        agentAddr: '10.1.1.1',
        generic: 6,
        specific: 2,
        upTime: 5,
        varbinds: [{ oid: '1.3.6.1.4.1.9.9.43.1.4.0', type: 4, value: Buffer.from('admin') }],
      },
    });
    if ('error' in r) throw new Error(r.error);
    expect(r.event).toMatchObject({
      trap_oid: '1.3.6.1.4.1.9.9.43.2.0.2',
      trap_name: 'MUTT-FIXTURE-CISCO-MIB::ciscoConfigSavedTrap',
      agent_address: '10.1.1.1',
      hostname: '192.0.2.10',
      message:
        'MUTT-FIXTURE-CISCO-MIB::ciscoConfigSavedTrap MUTT-FIXTURE-CISCO-MIB::ccmHistoryEventTerminalUser.0=admin',
    });
  });

  it('leaves unknown OIDs numeric', () => {
    const r = buildEvent({
      ...base,
      mib: undefined,
      pdu: {
        id: 1,
        varbinds: [
          { oid: OIDS.snmpTrapOID0, type: 6, value: '1.3.6.1.4.1.99999.0.1' },
          { oid: '1.3.6.1.4.1.99999.1.1', type: 2, value: 5 },
        ],
      },
    });
    if ('error' in r) throw new Error(r.error);
    expect(r.event.message).toBe('1.3.6.1.4.1.99999.0.1 1.3.6.1.4.1.99999.1.1=5');
    expect(r.event.trap_name).toBeUndefined();
  });

  it('rejects a notification without snmpTrapOID.0', () => {
    expect(
      buildEvent({ ...base, pdu: { id: 1, varbinds: [{ oid: OIDS.sysUpTime0, type: 67, value: 1 }] } }),
    ).toEqual({
      error: 'notification without snmpTrapOID.0',
    });
  });

  it('normalizes IPv4-mapped IPv6 source addresses', () => {
    expect(normalizeAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeAddress('2001:db8::1')).toBe('2001:db8::1');
  });
});
