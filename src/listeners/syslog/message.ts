// One syslog message, from the bytes of a datagram or a TCP frame to the parsed fields: PRI, then
// RFC 5424 when a version follows it, else RFC 3164 and its real-world variants; Cisco's
// %FAC-SEV-MNEMONIC. Never throws: what cannot be parsed is kept as the message with `parseError`.
import { isUtf8 } from 'node:buffer';
import { parseRfc3164 } from './rfc3164.ts';
import { parseRfc5424, type StructuredData } from './rfc5424.ts';

export interface SyslogMessage {
  /** PRI as sent; 13 (user.notice) when absent or invalid, as rsyslog does. */
  facility: number;
  severity: number;
  /** Epoch ms from the header; undefined when absent or invalid. */
  timestamp?: number;
  hostname?: string;
  appName?: string;
  procid?: string;
  msgid?: string;
  structuredData?: StructuredData;
  message: string;
  /** Why part of the message could not be parsed (the rest is still filled in). */
  parseError?: string;
  /** Cisco %FACILITY-SEVERITY-MNEMONIC */
  cisco?: { facility: string; severity: number; mnemonic: string };
  invalidUtf8?: boolean;
  format: 'rfc5424' | 'rfc3164';
}

export interface ParseOptions {
  now: number;
  /** IANA zone for timestamps without an offset (SYSLOG_DEFAULT_TIMEZONE). */
  tz: string;
}

const DEFAULT_PRI = 13;
const CISCO = /%([A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*?)-([0-7])-([A-Z0-9_]+)\s?:/y;

/** Parses decoded text (trailing NUL, CR and LF already removed or not). */
export function parseText(text: string, o: ParseOptions): SyslogMessage {
  let end = text.length;
  for (;;) {
    const c = text.charCodeAt(end - 1);
    if (c === 0 || c === 10 || c === 13) end--;
    else break;
  }
  const s = end === text.length ? text : text.slice(0, end);
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 0 || c === 9) i++;
    else break;
  }
  // Every field present from the start: one object shape for every message (the encoder's property
  // reads stay monomorphic, and no field added later changes the shape).
  const m: SyslogMessage = {
    facility: 1,
    severity: 5,
    timestamp: undefined,
    hostname: undefined,
    appName: undefined,
    procid: undefined,
    msgid: undefined,
    structuredData: undefined,
    message: '',
    parseError: undefined,
    cisco: undefined,
    invalidUtf8: undefined,
    format: 'rfc3164',
  };
  let pri = -1;
  let hadPri = false;
  if (s.charCodeAt(i) === 60 /* < */) {
    let j = i + 1;
    let v = 0;
    while (j - i <= 4) {
      const d = s.charCodeAt(j) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      j++;
    }
    if (j > i + 1 && s.charCodeAt(j) === 62 /* > */) {
      if (j - i > 4 || v > 191) {
        m.parseError = `invalid PRI <${s.slice(i + 1, j)}> (expected 0-191): treated as ${DEFAULT_PRI}`;
      } else pri = v;
      hadPri = true;
      i = j + 1;
    }
  }
  if (pri < 0) pri = DEFAULT_PRI;
  m.facility = pri >> 3;
  m.severity = pri & 7;
  // RFC 5424: VERSION (1) then SP
  if (s.charCodeAt(i) === 49 && s.charCodeAt(i + 1) === 32 && s.charCodeAt(i - 1) === 62) {
    m.format = 'rfc5424';
    const err = m.parseError;
    parseRfc5424(s, i + 2, m);
    if (err && m.parseError && m.parseError !== err) m.parseError = `${err}; ${m.parseError}`;
    else if (err) m.parseError = err;
  } else {
    const err = m.parseError;
    parseRfc3164(s, i, m, o);
    if (err && m.parseError && m.parseError !== err) m.parseError = `${err}; ${m.parseError}`;
    else if (err) m.parseError = err;
    // Neither PRI nor timestamp: not recognisably syslog (the text is still the message).
    if (!hadPri && m.timestamp === undefined && m.parseError === undefined)
      m.parseError = 'not a syslog message (no PRI, no timestamp)';
  }
  const pct = m.message.indexOf('%');
  if (pct !== -1 && pct < 256) cisco(m, pct);
  return m;
}

function cisco(m: SyslogMessage, from: number): void {
  let at = from;
  for (let k = 0; k < 3 && at !== -1 && at < 256; k++) {
    CISCO.lastIndex = at;
    const r = CISCO.exec(m.message);
    if (r) {
      m.cisco = { facility: r[1]!, severity: Number(r[2]), mnemonic: r[3]! };
      return;
    }
    at = m.message.indexOf('%', at + 1);
  }
}

/** Parses the bytes of one message (datagram or frame). */
export function parseBytes(buf: Buffer, o: ParseOptions): SyslogMessage {
  const text = buf.toString('utf8');
  const m = parseText(text, o);
  // Invalid bytes decode to U+FFFD; only then is the (rarer) full check needed.
  if (text.includes('\uFFFD') && !isUtf8(buf)) m.invalidUtf8 = true;
  return m;
}
