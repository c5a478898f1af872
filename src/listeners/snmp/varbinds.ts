// Varbind formatting: net-snmp's decoded values → the event's `varbinds` entries and the readable
// `message` line.
//
// Each entry is `{oid, name?, type, value, display?, encoding?}`:
//   value    the machine form, stable whether or not a MIB is loaded: numbers for Integer, Counter32,
//            Gauge32; decimal strings for TimeTicks (hundredths of a second) and Counter64; dotted
//            strings for OIDs and IpAddress; text for printable OctetStrings, else upper-case hex
//            octets separated by spaces (`encoding: "hex"`); null for Null and the v2 exceptions.
//   display  the human form when it differs, as the message shows it: `down(2)` for an enumeration,
//            `IF-MIB::linkDown` for an OID value, `(8640000) 1 day, 0:00:00.00` for TimeTicks, the
//            MIB's DISPLAY-HINT rendering (`00:1a:2b:3c:4d:5e` for a MacAddress), BITS names.
import type { MibStore, ResolvedSyntax } from './mib/store.ts';

export interface EventVarbind {
  oid: string;
  name?: string;
  type: string;
  value: string | number | boolean | null;
  display?: string;
  encoding?: 'hex';
}

/** BER tag → the type name used in events (SMIv2 names). */
export const TYPE_NAMES: Record<number, string> = {
  1: 'Boolean',
  2: 'Integer',
  3: 'BitString',
  4: 'OctetString',
  5: 'Null',
  6: 'ObjectIdentifier',
  64: 'IpAddress',
  65: 'Counter32',
  66: 'Gauge32',
  67: 'TimeTicks',
  68: 'Opaque',
  70: 'Counter64',
  128: 'NoSuchObject',
  129: 'NoSuchInstance',
  130: 'EndOfMibView',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text when the octets are valid UTF-8 without control characters (tab, CR, LF allowed). */
export function printable(buf: Buffer): string | undefined {
  if (buf.length === 0) return '';
  let ascii = true;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13) || b === 0x7f) return undefined;
    if (b >= 0x80) ascii = false;
  }
  // Most device strings are ASCII: no decoder needed.
  if (ascii) return buf.toString('latin1');
  let s: string;
  try {
    s = utf8.decode(buf);
  } catch {
    return undefined;
  }
  // C1 controls (U+0080–U+009F) are not printable either.
  return /[\u0080-\u009f]/.test(s) ? undefined : s;
}

export function hex(buf: Buffer): string {
  let s = '';
  for (let i = 0; i < buf.length; i++) {
    if (i > 0) s += ' ';
    s += HEX[buf[i]!];
  }
  return s;
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** TimeTicks as Net-SNMP shows them: `(8640000) 1 day, 0:00:00.00`. */
export function timeticks(t: number): string {
  const cs = t % 100;
  let s = Math.floor(t / 100);
  const days = Math.floor(s / 86400);
  s %= 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const clock = `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}.${String(cs).padStart(2, '0')}`;
  return `(${t}) ${days > 0 ? `${days} day${days === 1 ? '' : 's'}, ` : ''}${clock}`;
}

interface HintSpec {
  repeat: boolean;
  length: number;
  format: string;
  sep?: string;
  term?: string;
}

const hintCache = new Map<string, HintSpec[] | null>();

/** Parses an octet-string DISPLAY-HINT (RFC 2579 §3.1); null when it is not one. */
export function parseHint(hint: string): HintSpec[] | null {
  const cached = hintCache.get(hint);
  if (cached !== undefined) return cached;
  const specs: HintSpec[] = [];
  let i = 0;
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  while (i < hint.length) {
    const repeat = hint[i] === '*';
    if (repeat) i++;
    let len = '';
    while (isDigit(hint[i])) len += hint[i++];
    const format = hint[i++];
    if (len === '' || !format || !'xdoat'.includes(format)) {
      hintCache.set(hint, null);
      return null;
    }
    const spec: HintSpec = { repeat, length: Number(len), format };
    if (i < hint.length && !isDigit(hint[i]) && hint[i] !== '*') spec.sep = hint[i++];
    if (repeat && i < hint.length && !isDigit(hint[i]) && hint[i] !== '*') spec.term = hint[i++];
    specs.push(spec);
  }
  const result = specs.length > 0 ? specs : null;
  if (hintCache.size < 1000) hintCache.set(hint, result);
  return result;
}

/** Renders octets with a DISPLAY-HINT; undefined when the hint does not apply. */
export function applyHint(hint: string, buf: Buffer): string | undefined {
  const specs = parseHint(hint);
  if (!specs) return undefined;
  let out = '';
  let pos = 0;
  for (let si = 0; pos < buf.length; si++) {
    const s = specs[Math.min(si, specs.length - 1)]!;
    const reps = s.repeat ? buf[pos++]! : 1;
    for (let r = 0; r < reps && pos < buf.length; r++) {
      const chunk = buf.subarray(pos, pos + (s.length === 0 ? 1 : s.length));
      pos += chunk.length;
      switch (s.format) {
        case 'a':
          out += chunk.toString('latin1');
          break;
        case 't':
          out += chunk.toString('utf8');
          break;
        case 'x':
          out += chunk.toString('hex');
          break;
        default: {
          let n = 0n;
          for (const b of chunk) n = (n << 8n) | BigInt(b);
          out += s.format === 'o' ? n.toString(8) : n.toString(10);
        }
      }
      const last = pos >= buf.length;
      if (!last && s.sep && !(s.term && r === reps - 1)) out += s.sep;
    }
    if (s.term && pos < buf.length) out += s.term;
  }
  return out;
}

function bitsNames(buf: Buffer, bits: ReadonlyMap<number, string>): string {
  const set: string[] = [];
  for (let i = 0; i < buf.length * 8; i++) {
    if (buf[i >> 3]! & (0x80 >> (i & 7))) set.push(`${bits.get(i) ?? 'bit'}(${i})`);
  }
  return set.join(' ');
}

export interface RawVarbind {
  oid: string;
  type: number;
  value: unknown;
}

export interface FormatStats {
  translated: number;
  numeric: number;
}

/** Formats one varbind (value and display); `name` comes from the MIB store when it knows the OID. */
export function formatVarbind(vb: RawVarbind, mib: MibStore | undefined, stats?: FormatStats): EventVarbind {
  const t = mib?.translate(vb.oid);
  if (stats) {
    if (t) stats.translated++;
    else stats.numeric++;
  }
  const syntax: ResolvedSyntax | undefined = t && t.node.syntax;
  const out: EventVarbind = { oid: vb.oid, type: TYPE_NAMES[vb.type] ?? `Type${vb.type}`, value: null };
  if (t) out.name = t.text;
  const v = vb.value;
  switch (vb.type) {
    case 2: {
      out.value = Number(v);
      const label = syntax?.enums?.get(out.value);
      if (label !== undefined) out.display = `${label}(${out.value})`;
      break;
    }
    case 65:
    case 66:
      out.value = Number(v);
      break;
    case 67:
      out.value = String(v);
      out.display = timeticks(Number(v));
      break;
    case 70:
      out.value = Buffer.isBuffer(v)
        ? v.length === 0
          ? '0'
          : BigInt(`0x${v.toString('hex')}`).toString()
        : String(v);
      break;
    case 6:
    case 64:
      out.value = String(v);
      if (vb.type === 6 && mib) {
        const named = mib.translate(out.value);
        if (named) out.display = named.text;
      }
      break;
    case 1:
      out.value = Boolean(v);
      break;
    case 4:
    case 3:
    case 68: {
      const buf = Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : '', 'latin1');
      const text = vb.type === 4 ? printable(buf) : undefined;
      if (text !== undefined) out.value = text;
      else {
        out.value = hex(buf);
        out.encoding = 'hex';
      }
      if (syntax?.bits) out.display = bitsNames(buf, syntax.bits);
      else if (syntax?.hint && buf.length > 0) {
        const rendered = applyHint(syntax.hint, buf);
        if (rendered !== undefined && rendered !== out.value) out.display = rendered;
      }
      break;
    }
    default:
      out.value = null;
  }
  return out;
}

function needsQuotes(s: string): boolean {
  if (s === '') return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (
      c <= 0x20 ||
      c === 0x22 ||
      c === 0x3d ||
      c === 0x5c ||
      c === 0x7f ||
      c === 0x85 ||
      c === 0xa0 ||
      c === 0x2028 ||
      c === 0x2029
    )
      return true;
  }
  return false;
}

/** `name=value` for the message: strings that need it are quoted (JSON escapes keep one line). */
export function renderPair(vb: EventVarbind): string {
  const shown = vb.display ?? vb.value;
  let text: string;
  if (typeof shown === 'string') {
    text = needsQuotes(shown) ? JSON.stringify(shown) : shown;
  } else text = String(shown);
  return `${vb.name ?? vb.oid}=${text}`;
}
