// RFC 3164 ("BSD syslog") and the variants real devices send, after the PRI: timestamps with or
// without year, fractional seconds and zone (Cisco `service timestamps log datetime msec year
// show-timezone`), Cisco's `<seq>:` counter and `*`/`.` clock markers, NX-OS's year-first
// timestamps, ASA's `host : %ASA-…`, RFC 3339 timestamps (rsyslog's high-precision template),
// a missing hostname or timestamp. Whatever cannot be recognised stays in the message.
import type { SyslogMessage } from './message.ts';
import { parseRfc3339 } from './rfc5424.ts';
import { inferYear, validDate, zonedToUtc } from './time.ts';
import { digitsAt } from '../../core/protocol/digits.ts';

export interface Rfc3164Options {
  /** Epoch ms of reception (year inference, and the timestamp when none is given). */
  now: number;
  /** IANA zone of timestamps that carry no offset. */
  tz: string;
}

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};
const MONTH_KEYS = new Map(
  Object.entries(MONTHS).map(([name, n]) => [
    (name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2),
    n,
  ]),
);

/** Month index of the three letters at i (any case), or undefined; no string is allocated. */
function month(s: string, i: number): number | undefined {
  const key = ((s.charCodeAt(i) | 32) << 16) | ((s.charCodeAt(i + 1) | 32) << 8) | (s.charCodeAt(i + 2) | 32);
  return MONTH_KEYS.get(key);
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isUpper = (c: number) => c >= 65 && c <= 90;
const isAlpha = (c: number) => (c | 32) >= 97 && (c | 32) <= 122;

interface Stamp {
  end: number;
  /** Epoch ms, or NaN for a recognised but impossible date (February 30). */
  t: number;
  text: string;
}

/** hh:mm:ss[.frac] at i: [h, m, s, ms, end] or undefined. */
function clock(s: string, i: number): [number, number, number, number, number] | undefined {
  const h = digitsAt(s, i, 2);
  const mi = digitsAt(s, i + 3, 2);
  const sec = digitsAt(s, i + 6, 2);
  if (h < 0 || mi < 0 || sec < 0 || s.charCodeAt(i + 2) !== 58 || s.charCodeAt(i + 5) !== 58) return;
  let j = i + 8;
  let ms = 0;
  if (s.charCodeAt(j) === 46 && isDigit(s.charCodeAt(j + 1))) {
    j++;
    let scale = 100;
    while (isDigit(s.charCodeAt(j))) {
      ms += (s.charCodeAt(j) - 48) * scale;
      scale /= 10;
      j++;
    }
    ms = Math.floor(ms);
  }
  return [h, mi, sec, ms, j];
}

/** `Mmm dd [yyyy] hh:mm:ss[.fff] [yyyy] [TZ]` or `yyyy Mmm dd hh:mm:ss…` or RFC 3339, at i. */
function timestamp(s: string, i: number, o: Rfc3164Options): Stamp | undefined {
  const start = i;
  let year = -1;
  const c0 = s.charCodeAt(i);
  if (isDigit(c0)) {
    if (s.charCodeAt(i + 4) === 45) {
      // RFC 3339
      let end = s.indexOf(' ', i);
      if (end === -1) end = s.length;
      let stop = end;
      if (s.charCodeAt(end - 1) === 58) stop--; // "…Z:" as some devices write it
      const t = parseRfc3339(s, i, stop);
      if (Number.isNaN(t)) return undefined;
      return { end: stop, t, text: s.slice(start, stop) };
    }
    // NX-OS: "2024 Jan 15 10:00:00"
    year = digitsAt(s, i, 4);
    if (year < 0 || s.charCodeAt(i + 4) !== 32) return undefined;
    i += 5;
  }
  if (!isAlpha(s.charCodeAt(i)) || s.charCodeAt(i + 3) !== 32) return undefined;
  const mo = month(s, i);
  if (mo === undefined) return undefined;
  i += 4;
  if (s.charCodeAt(i) === 32) i++; // "Mar  1"
  let d: number;
  if (isDigit(s.charCodeAt(i)) && isDigit(s.charCodeAt(i + 1))) {
    d = digitsAt(s, i, 2);
    i += 2;
  } else if (isDigit(s.charCodeAt(i))) {
    d = digitsAt(s, i, 1);
    i += 1;
  } else return undefined;
  if (s.charCodeAt(i) !== 32) return undefined;
  i++;
  // "Mmm dd yyyy hh:mm:ss" (Cisco with year, ASA)
  if (year < 0 && isDigit(s.charCodeAt(i + 3)) && s.charCodeAt(i + 4) === 32) {
    year = digitsAt(s, i, 4);
    if (year < 0) return undefined;
    i += 5;
  }
  const c = clock(s, i);
  if (!c) return undefined;
  const [h, mi, sec, ms] = c;
  i = c[4];
  // "Mmm dd hh:mm:ss yyyy"
  if (year < 0 && s.charCodeAt(i) === 32 && digitsAt(s, i + 1, 4) >= 0 && !isDigit(s.charCodeAt(i + 5))) {
    const after = s.charCodeAt(i + 5);
    if (after === 32 || after === 58 || Number.isNaN(after)) {
      year = digitsAt(s, i + 1, 4);
      i += 5;
    }
  }
  // A zone abbreviation ends a Cisco timestamp with ':' ("… 10:00:00.123 UTC: %LINK-…").
  let utc = false;
  if (s.charCodeAt(i) === 32 && isUpper(s.charCodeAt(i + 1))) {
    let j = i + 1;
    while (j - i <= 6 && isUpper(s.charCodeAt(j))) j++;
    if (s.charCodeAt(j) === 58 && j - i >= 3) {
      const zone = s.slice(i + 1, j);
      utc = zone === 'UTC' || zone === 'GMT' || zone === 'Z';
      i = j;
    }
  }
  if (year < 0) year = inferYear(mo, d, o.now, o.tz);
  const text = s.slice(start, i);
  if (!validDate(year, mo, d, h, mi, sec)) return { end: i, t: Number.NaN, text };
  const t = utc ? Date.UTC(year, mo, d, h, mi, sec, ms) : zonedToUtc(o.tz, year, mo, d, h, mi, sec, ms);
  return { end: i, t, text };
}

/** Characters of a host name, an IPv4 or an IPv6 address. */
function hostChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 45 || c === 46 || c === 95 || c === 58;
}

export function parseRfc3164(s: string, i: number, m: SyslogMessage, o: Rfc3164Options): SyslogMessage {
  const n = s.length;
  while (s.charCodeAt(i) === 32) i++;
  // NX-OS: "<189>: 2024 Jan …"
  if (s.charCodeAt(i) === 58 && s.charCodeAt(i + 1) === 32) i += 2;
  // Cisco IOS sequence number: "<189>123: …"
  if (isDigit(s.charCodeAt(i))) {
    let j = i;
    while (j - i < 12 && isDigit(s.charCodeAt(j))) j++;
    if (s.charCodeAt(j) === 58 && s.charCodeAt(j + 1) === 32) i = j + 2;
  }
  let stamp: Stamp | undefined;
  let hostFirst: string | undefined;
  const at = (k: number) => {
    // Cisco clock markers: '*' (not synchronised), '.' (synchronisation lost)
    const c = s.charCodeAt(k);
    return timestamp(s, c === 42 || c === 46 ? k + 1 : k, o);
  };
  stamp = at(i);
  if (!stamp) {
    // Cisco with "logging origin-id hostname": "<189>12: R1: *Mar  1 …"
    const colon = s.indexOf(': ', i);
    if (colon > i && colon - i <= 64) {
      let ok = true;
      for (let k = i; k < colon && ok; k++) ok = hostChar(s.charCodeAt(k));
      if (ok) {
        stamp = at(colon + 2);
        if (stamp) hostFirst = s.slice(i, colon);
      }
    }
  }
  if (stamp) {
    if (Number.isNaN(stamp.t)) m.parseError = `RFC 3164: invalid timestamp "${stamp.text}"`;
    else m.timestamp = stamp.t;
    i = stamp.end;
    if (hostFirst) m.hostname = hostFirst;
    if (s.charCodeAt(i) === 58) {
      // Cisco: the timestamp ends with ':' and no host name follows
      i++;
      while (s.charCodeAt(i) === 32) i++;
    } else if (s.charCodeAt(i) === 32) {
      while (s.charCodeAt(i) === 32) i++;
      let j = i;
      while (j < n && j - i <= 255 && hostChar(s.charCodeAt(j))) j++;
      const stop = s.charCodeAt(j);
      // "host " is a host name; "app:" or "app[" is a tag (the host name is missing)
      if (j > i && (stop === 32 || j === n) && s.charCodeAt(j - 1) !== 58 && !hostFirst) {
        m.hostname = s.slice(i, j);
        i = j;
        while (s.charCodeAt(i) === 32) i++;
        // ASA: "host : %ASA-6-…"
        if (s.charCodeAt(i) === 58 && s.charCodeAt(i + 1) === 32) i += 2;
      }
    } else if (i < n) {
      m.parseError ??= 'RFC 3164: no space after the timestamp';
    }
  }
  // TAG[PID]: — not for Cisco's "%FAC-SEV-MNEMONIC:" which stays in the message.
  if (s.charCodeAt(i) !== 37) {
    let j = i;
    while (j < n && j - i < 48) {
      const c = s.charCodeAt(j);
      if (c === 32 || c === 58 || c === 91 || c === 93) break;
      j++;
    }
    if (j > i) {
      let k = j;
      let pid: string | undefined;
      if (s.charCodeAt(k) === 91) {
        const close = s.indexOf(']', k);
        if (close > k && close - k <= 129) {
          pid = s.slice(k + 1, close);
          k = close + 1;
        } else k = -1;
      }
      if (k !== -1 && s.charCodeAt(k) === 58 && (k + 1 === n || s.charCodeAt(k + 1) === 32)) {
        m.appName = s.slice(i, j);
        if (pid !== undefined && pid.length > 0) m.procid = pid;
        i = k + 1;
        if (s.charCodeAt(i) === 32) i++;
      }
    }
  }
  m.message = s.slice(i);
  return m;
}
