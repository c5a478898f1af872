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
  const e = {
    hostname: m.hostname ?? hostname,
    timestamp:
      m.timestamp === undefined || !(Math.abs(m.timestamp) < 8.64e15) ? received : headerIso(m.timestamp),
    message,
    syslog_severity: m.severity,
    facility: m.facility,
  } as SyslogEvent;
  if (m.appName !== undefined) e.app_name = m.appName;
  if (m.procid !== undefined) e.procid = m.procid;
  if (m.msgid !== undefined) e.msgid = m.msgid;
  if (m.structuredData !== undefined) e.structured_data = m.structuredData;
  e.source = 'syslog';
  e.source_ip = sourceIp;
  e.received_at = received;
  e._correlation_id = randomUUID();
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

// Text that JSON needs to escape. Lone surrogates cannot occur: the text was decoded from UTF-8.
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const ESCAPE = /["\\\u0000-\u001f]/;
const str = (s: string): string => (ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

/**
 * The event's JSON, written directly (the per-message hot path): the same text as
 * `JSON.stringify(toEvent(…))`, without building the object first.
 */
export function encodeEvent(
  m: SyslogMessage,
  sourceIp: string,
  hostname: string,
  receivedMs: number,
  raw: string,
  truncated: boolean,
): string {
  const received = receivedIso(receivedMs);
  let message = m.message;
  if (message.length === 0) message = raw.length > 0 ? raw : '(empty)';
  const ts =
    m.timestamp === undefined || !(Math.abs(m.timestamp) < 8.64e15) ? received : headerIso(m.timestamp);
  let out = `{"hostname":${str(m.hostname ?? hostname)},"timestamp":"${ts}","message":${str(message)},"syslog_severity":${m.severity},"facility":${m.facility}`;
  if (m.appName !== undefined) out += `,"app_name":${str(m.appName)}`;
  if (m.procid !== undefined) out += `,"procid":${str(m.procid)}`;
  if (m.msgid !== undefined) out += `,"msgid":${str(m.msgid)}`;
  if (m.structuredData !== undefined) out += `,"structured_data":${JSON.stringify(m.structuredData)}`;
  out += `,"source":"syslog","source_ip":${str(sourceIp)},"received_at":"${received}","_correlation_id":"${randomUUID()}"`;
  if (m.cisco)
    out += `,"cisco_facility":${str(m.cisco.facility)},"cisco_severity":${m.cisco.severity},"mnemonic":${str(m.cisco.mnemonic)}`;
  if (m.parseError !== undefined) out += `,"parse_error":${str(m.parseError)}`;
  if (truncated) out += ',"truncated":true';
  if (m.invalidUtf8) out += ',"invalid_utf8":true';
  return `${out}}`;
}
