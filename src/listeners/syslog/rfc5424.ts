// RFC 5424 header, structured data and message, after the PRI. Strict where the RFC is strict
// (field order, single spaces, SD escapes) but never throwing: a part that does not parse leaves the
// rest of the text as the message and says what went wrong in `parseError`.
import type { SyslogMessage } from './message.ts';
import { validDate } from './time.ts';
import { digitsAt } from '../../core/protocol/digits.ts';

export type StructuredData = Record<string, Record<string, string | string[]>>;

const NIL = 45; // '-'
const SP = 32;

/** Reads a header field up to the next space; '-' is absent. Returns the end index or -1. */
function field(s: string, i: number, max: number): number {
  const end = s.indexOf(' ', i);
  if (end === -1 || end === i || end - i > max) return -1;
  return end;
}

/** RFC 3339 timestamp as in RFC 5424 §6.2.3; epoch ms, or NaN when invalid. */
export function parseRfc3339(s: string, start: number, end: number): number {
  const i = start;
  if (end - i < 20 || s.charCodeAt(i + 4) !== 45 || s.charCodeAt(i + 7) !== 45) return Number.NaN;
  const t = s.charCodeAt(i + 10);
  if ((t !== 84 && t !== 116 && t !== 32) || s.charCodeAt(i + 13) !== 58 || s.charCodeAt(i + 16) !== 58)
    return Number.NaN;
  const y = digitsAt(s, i, 4);
  const mo = digitsAt(s, i + 5, 2);
  const d = digitsAt(s, i + 8, 2);
  const h = digitsAt(s, i + 11, 2);
  const mi = digitsAt(s, i + 14, 2);
  const sec = digitsAt(s, i + 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return Number.NaN;
  if (!validDate(y, mo - 1, d, h, mi, sec)) return Number.NaN;
  let j = i + 19;
  let ms = 0;
  if (s.charCodeAt(j) === 46) {
    j++;
    let scale = 100;
    const from = j;
    while (j < end) {
      const c = s.charCodeAt(j) - 48;
      if (c < 0 || c > 9) break;
      ms += c * scale;
      scale /= 10;
      j++;
    }
    if (j === from || j - from > 9) return Number.NaN;
    ms = Math.floor(ms);
  }
  let offset = 0;
  const z = s.charCodeAt(j);
  if (z === 90 || z === 122) j++;
  else if (z === 43 || z === 45) {
    const oh = digitsAt(s, j + 1, 2);
    const om = digitsAt(s, j + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59 || s.charCodeAt(j + 3) !== 58) return Number.NaN;
    offset = (z === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
    j += 6;
  } else return Number.NaN;
  if (j !== end) return Number.NaN;
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offset;
}

/** Parses `[id k="v" …]…` from i; returns the data and the index after it, or an error. */
export function parseStructuredData(
  s: string,
  i: number,
): { sd: StructuredData; end: number } | { error: string } {
  const sd: StructuredData = Object.create(null) as StructuredData;
  const n = s.length;
  while (i < n && s.charCodeAt(i) === 91 /* [ */) {
    i++;
    let j = i;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === SP || c === 93 || c === 61 || c === 34) break;
      j++;
    }
    if (j === i || j - i > 32) return { error: 'invalid SD-ID' };
    const id = s.slice(i, j);
    const params = (sd[id] ??= Object.create(null) as Record<string, string | string[]>);
    i = j;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 93 /* ] */) {
        i++;
        break;
      }
      if (c !== SP) return { error: `structured data element ${id} not closed` };
      while (s.charCodeAt(i) === SP) i++;
      if (s.charCodeAt(i) === 93) continue;
      j = i;
      while (j < n) {
        const k = s.charCodeAt(j);
        if (k === 61 || k === SP || k === 93 || k === 34) break;
        j++;
      }
      if (j === i || j - i > 32 || s.charCodeAt(j) !== 61 || s.charCodeAt(j + 1) !== 34)
        return { error: `invalid SD-PARAM in ${id}` };
      const name = s.slice(i, j);
      i = j + 2;
      // PARAM-VALUE: '"', '\' and ']' are escaped with '\'; a '\' before anything else stays.
      let value = '';
      let from = i;
      for (;;) {
        if (i >= n) return { error: `unterminated SD-PARAM value in ${id}` };
        const k = s.charCodeAt(i);
        if (k === 92 /* \ */) {
          const e = s.charCodeAt(i + 1);
          if (e === 34 || e === 92 || e === 93) {
            value += s.slice(from, i);
            from = i + 1;
            i += 2;
            continue;
          }
        } else if (k === 34) break;
        i++;
      }
      value += s.slice(from, i);
      i++;
      const prev = params[name];
      if (prev === undefined) params[name] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else params[name] = [prev, value];
    }
  }
  return { sd, end: i };
}

/**
 * Parses what follows `<PRI>1 `. `s` is the whole text, `i` the index of the TIMESTAMP field.
 * Fills `m` and returns it.
 */
export function parseRfc5424(s: string, i: number, m: SyslogMessage): SyslogMessage {
  const fail = (why: string, at: number) => {
    m.parseError = `RFC 5424: ${why}`;
    m.message = s.slice(at);
    return m;
  };
  // TIMESTAMP
  let end = field(s, i, 40);
  if (end === -1) return fail('missing header fields', i);
  if (!(end - i === 1 && s.charCodeAt(i) === NIL)) {
    const t = parseRfc3339(s, i, end);
    if (Number.isNaN(t)) {
      m.parseError = `RFC 5424: invalid timestamp "${s.slice(i, end)}"`;
    } else m.timestamp = t;
  }
  // HOSTNAME, APP-NAME, PROCID, MSGID
  const header: (string | undefined)[] = [];
  for (const max of [255, 48, 128, 32]) {
    i = end + 1;
    end = field(s, i, max);
    if (end === -1) return fail('missing header fields', i);
    header.push(end - i === 1 && s.charCodeAt(i) === NIL ? undefined : s.slice(i, end));
  }
  m.hostname = header[0];
  m.appName = header[1];
  m.procid = header[2];
  m.msgid = header[3];
  // STRUCTURED-DATA
  i = end + 1;
  if (s.charCodeAt(i) === NIL) {
    i++;
  } else if (s.charCodeAt(i) === 91) {
    const r = parseStructuredData(s, i);
    if ('error' in r) return fail(r.error, i);
    m.structuredData = r.sd;
    i = r.end;
  } else return fail('missing structured data', i);
  // MSG, after one space; a UTF-8 BOM announces UTF-8 text and is not part of it.
  if (i < s.length) {
    if (s.charCodeAt(i) !== SP) return fail('no space after structured data', i);
    i++;
    // rsyslog forwards the local MSG with its leading space ("- -  text"): not part of the text.
    while (s.charCodeAt(i) === SP) i++;
    if (s.charCodeAt(i) === 0xfeff) i++;
  }
  m.message = s.slice(i);
  return m;
}
