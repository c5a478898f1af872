// From a received notification (net-snmp's decoded PDU) to a MUTT event (PROTOCOL.md "Event"):
// the SNMPv1 → SNMPv2 conversion of RFC 3584 §3.1, the trap OID and name, the hostname rule, and
// the readable message line. Pure functions: the receiver supplies the MIB store and the clock.
import { randomUUID } from 'node:crypto';
import type { MibStore } from './mib/store.ts';
import {
  type EventVarbind,
  type FormatStats,
  formatVarbind,
  type RawVarbind,
  renderPair,
} from './varbinds.ts';

export const OIDS = {
  sysUpTime0: '1.3.6.1.2.1.1.3.0',
  sysName0: '1.3.6.1.2.1.1.5.0',
  snmpTrapOID0: '1.3.6.1.6.3.1.1.4.1.0',
  snmpTrapEnterprise0: '1.3.6.1.6.3.1.1.4.3.0',
  snmpTraps: '1.3.6.1.6.3.1.1.5',
  snmpTrapAddress0: '1.3.6.1.6.3.18.1.3.0',
} as const;

/** BER tags of the values the conversion synthesizes. */
const T = { TimeTicks: 67, Oid: 6 } as const;

export type SnmpVersion = 'v1' | 'v2c' | 'v3';

export interface V1TrapFields {
  enterprise: string;
  agentAddr: string;
  generic: number;
  specific: number;
  upTime: number;
}

/**
 * RFC 3584 §3.1: the SNMPv2 form of an SNMPv1 Trap-PDU. Generic traps become `snmpTraps.(generic+1)`
 * (linkDown(2) → 1.3.6.1.6.3.1.1.5.3); enterprise-specific traps become `enterprise.0.specific`.
 * The variable bindings are sysUpTime.0 (the time-stamp), snmpTrapOID.0, the trap's own bindings,
 * then snmpTrapEnterprise.0. snmpTrapCommunity.0 is never added: communities are not stored.
 */
export function v1ToV2(
  pdu: V1TrapFields,
  varbinds: readonly RawVarbind[],
): { trapOid: string; varbinds: RawVarbind[] } {
  const enterprise = pdu.enterprise.replace(/^\./, '');
  const trapOid =
    pdu.generic === 6 ? `${enterprise}.0.${pdu.specific}` : `${OIDS.snmpTraps}.${pdu.generic + 1}`;
  return {
    trapOid,
    varbinds: [
      { oid: OIDS.sysUpTime0, type: T.TimeTicks, value: pdu.upTime },
      { oid: OIDS.snmpTrapOID0, type: T.Oid, value: trapOid },
      ...varbinds,
      { oid: OIDS.snmpTrapEnterprise0, type: T.Oid, value: enterprise },
    ],
  };
}

/** Bindings that are framing, not content: left out of the message line. */
const FRAMING = new Set<string>([OIDS.sysUpTime0, OIDS.snmpTrapOID0, OIDS.snmpTrapEnterprise0]);

export interface BuiltEvent {
  event: Record<string, unknown>;
  trapOid: string;
  /** The hostname still needs the reverse DNS of the source address. */
  needsReverseDns: boolean;
}

export interface BuildInput {
  version: SnmpVersion;
  pdu: {
    id: number;
    varbinds: RawVarbind[];
    enterprise?: string;
    agentAddr?: string;
    generic?: number;
    specific?: number;
    upTime?: number;
    contextName?: string;
  };
  sourceIp: string;
  receivedAt: Date;
  inform: boolean;
  engineId?: Buffer;
  severity: number;
  mib?: MibStore;
  stats?: FormatStats;
}

function stringValue(vb: EventVarbind | undefined): string | undefined {
  return vb && typeof vb.value === 'string' && vb.value.length > 0 && vb.encoding !== 'hex'
    ? vb.value
    : undefined;
}

export function buildEvent(i: BuildInput): BuiltEvent | { error: string } {
  let trapOid: string | undefined;
  let raw: RawVarbind[];
  if (i.version === 'v1') {
    const p = i.pdu;
    if (p.enterprise === undefined || p.generic === undefined || p.specific === undefined)
      return { error: 'SNMPv1 Trap-PDU without enterprise or trap numbers' };
    const c = v1ToV2(
      {
        enterprise: p.enterprise,
        agentAddr: p.agentAddr ?? '',
        generic: p.generic,
        specific: p.specific,
        upTime: p.upTime ?? 0,
      },
      p.varbinds,
    );
    trapOid = c.trapOid;
    raw = c.varbinds;
  } else {
    raw = i.pdu.varbinds;
    // RFC 3416 §4.2.6/4.2.7: the second binding is snmpTrapOID.0; accept it anywhere.
    const t = raw[1]?.oid === OIDS.snmpTrapOID0 ? raw[1] : raw.find((v) => v.oid === OIDS.snmpTrapOID0);
    if (t && t.type === T.Oid && typeof t.value === 'string') trapOid = t.value;
    if (!trapOid) return { error: 'notification without snmpTrapOID.0' };
  }
  trapOid = trapOid.replace(/^\./, '');
  const varbinds = raw.map((vb) => formatVarbind(vb, i.mib, i.stats));
  const trapName = i.mib?.translate(trapOid);
  if (i.stats) {
    if (trapName) i.stats.translated++;
    else i.stats.numeric++;
  }

  const trapAddress = varbinds.find((v) => v.oid === OIDS.snmpTrapAddress0 && v.type === 'IpAddress');
  const sysName = stringValue(
    varbinds.find((v) => v.oid === OIDS.sysName0 || v.oid.startsWith('1.3.6.1.2.1.1.5.')),
  );
  const hostname = (trapAddress?.value as string | undefined) ?? sysName ?? i.sourceIp;
  const agentAddress =
    i.version === 'v1'
      ? (i.pdu.agentAddr ?? i.sourceIp)
      : ((trapAddress?.value as string | undefined) ?? i.sourceIp);

  const parts = [trapName?.text ?? trapOid];
  for (const vb of varbinds) if (!FRAMING.has(vb.oid)) parts.push(renderPair(vb));
  const at = i.receivedAt.toISOString();
  const event: Record<string, unknown> = {
    hostname,
    timestamp: at,
    message: parts.join(' '),
    syslog_severity: i.severity,
    source: 'snmp',
    source_ip: i.sourceIp,
    trap_oid: trapOid,
  };
  if (trapName) event.trap_name = trapName.text;
  event.snmp_version = i.version;
  event.snmp_pdu = i.inform ? 'inform' : 'trap';
  event.snmp_request_id = i.pdu.id;
  if (i.engineId) event.snmp_engine_id = i.engineId.toString('hex');
  if (i.pdu.contextName) event.snmp_context = i.pdu.contextName;
  event.agent_address = agentAddress;
  event.varbinds = varbinds;
  event.received_at = at;
  event._correlation_id = randomUUID();
  return { event, trapOid, needsReverseDns: trapAddress === undefined && sysName === undefined };
}
