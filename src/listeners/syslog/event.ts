// A parsed syslog message as the PROTOCOL.md event that goes on the ingest queue.
import { randomUUID } from 'node:crypto';
import type { SyslogMessage } from './message.ts';

export interface SyslogEvent {
  hostname: string;
  timestamp: string;
  message: string;
  syslog_severity: number;
  facility: number;
  app_name?: string;
  procid?: string;
  msgid?: string;
  structured_data?: SyslogMessage['structuredData'];
  source: 'syslog';
  source_ip: string;
  received_at: string;
  _correlation_id: string;
  cisco_facility?: string;
  cisco_severity?: number;
  mnemonic?: string;
  parse_error?: string;
  truncated?: true;
  invalid_utf8?: true;
}

/** An IPv4 peer of a dual-stack socket arrives as ::ffff:a.b.c.d; events carry a.b.c.d. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** ISO 8601 of an epoch ms, remembering the last one (every message of a burst shares it). */
function isoCache(): (ms: number) => string {
  let lastMs = Number.NaN;
  let lastIso = '';
  return (ms) => {
    if (ms === lastMs) return lastIso;
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
    return lastIso;
  };
}
const receivedIso = isoCache();
const headerIso = isoCache();

/**
 * Builds the event. `hostname` is the name for messages whose header carries none (the source
 * address, or its reverse-DNS name).
 */
export function toEvent(
  m: SyslogMessage,
  sourceIp: string,
  hostname: string,
  receivedMs: number,
  raw: string,
  truncated: boolean,
): SyslogEvent {
  const received = receivedIso(receivedMs);
  let message = m.message;
  // `message` must not be empty (REQUIRED_MESSAGE_FIELDS): an empty body keeps the whole line.
  if (message.length === 0) message = raw.length > 0 ? raw : '(empty)';
  const e: SyslogEvent = {
    hostname: m.hostname ?? hostname,
    timestamp:
      m.timestamp === undefined || !(Math.abs(m.timestamp) < 8.64e15) ? received : headerIso(m.timestamp),
    message,
    syslog_severity: m.severity,
    facility: m.facility,
    source: 'syslog',
    source_ip: sourceIp,
    received_at: received,
    _correlation_id: randomUUID(),
  };
  if (m.appName !== undefined) e.app_name = m.appName;
  if (m.procid !== undefined) e.procid = m.procid;
  if (m.msgid !== undefined) e.msgid = m.msgid;
  if (m.structuredData !== undefined) e.structured_data = m.structuredData;
  if (m.cisco) {
    e.cisco_facility = m.cisco.facility;
    e.cisco_severity = m.cisco.severity;
    e.mnemonic = m.cisco.mnemonic;
  }
  if (m.parseError !== undefined) e.parse_error = m.parseError;
  if (truncated) e.truncated = true;
  if (m.invalidUtf8) e.invalid_utf8 = true;
  return e;
}
