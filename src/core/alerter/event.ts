// An ingest-queue item as the alerter reads it (PROTOCOL.md, "Event"): JSON objects from MUTT's
// listeners and from Python MUTT clients alike (text severities, 7-digit fractional seconds, NaN).
// Never throws: an item that is not an event comes back with a stable code and a reason for the DLQ.
import { createHash } from 'node:crypto';
import { parseJsonLenient } from '../protocol/json.ts';
import { severityNumber } from '../protocol/severity.ts';
import { normaliseOid } from './rules.ts';
import { daysIn, isoMillisZMs } from '../protocol/digits.ts';

export interface AlerterEvent {
  /** The exact queue item (settling removes this string from the processing list). */
  readonly raw: string;
  readonly data: Record<string, unknown>;
  /** `raw` is strict JSON (JSON.parse read it), so it can be embedded as it is. */
  readonly strict: boolean;
  readonly hostname: string;
  readonly message: string;
  readonly timestamp: unknown;
  readonly correlationId: string;
  readonly retryCount: number;
  readonly severity?: number;
  readonly trapOid?: string;
}

export type PoisonCode =
  'invalid_json' | 'not_an_object' | 'missing_field' | 'invalid_field' | 'retries_exhausted';

export type EventParse =
  | { ok: true; event: AlerterEvent }
  | { ok: false; code: PoisonCode; reason: string; data?: Record<string, unknown> };

const present = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');

const ALWAYS = ['hostname', 'message', 'timestamp'] as const;

/** The required fields an event lacks (or has empty), each named once, in order. */
function missingFields(data: Record<string, unknown>, required: readonly string[]): string[] {
  let missing: string[] | undefined;
  for (const f of ALWAYS) if (!present(data[f])) (missing ??= []).push(f);
  for (const f of required) {
    if (present(data[f]) || (ALWAYS as readonly string[]).includes(f) || missing?.includes(f)) continue;
    (missing ??= []).push(f);
  }
  return missing ?? [];
}

export function parseEvent(raw: string, required: readonly string[]): EventParse {
  let value: unknown;
  let strict = true;
  try {
    try {
      value = JSON.parse(raw);
    } catch {
      strict = false;
      value = parseJsonLenient(raw);
    }
  } catch (err) {
    return { ok: false, code: 'invalid_json', reason: `not JSON: ${(err as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
    return { ok: false, code: 'not_an_object', reason: `an event must be a JSON object, not ${what}` };
  }
  const data = value as Record<string, unknown>;
  const missing = missingFields(data, required);
  if (missing.length > 0)
    return {
      ok: false,
      code: 'missing_field',
      reason: `missing or empty required field${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
      data,
    };
  const { hostname, message } = data;
  if (typeof hostname !== 'string')
    return { ok: false, code: 'invalid_field', reason: '"hostname" must be a string', data };
  if (typeof message !== 'string')
    return { ok: false, code: 'invalid_field', reason: '"message" must be a string', data };
  const cid = data._correlation_id;
  const oid = typeof data.trap_oid === 'string' ? normaliseOid(data.trap_oid) : '';
  const rc = data._retry_count;
  return {
    ok: true,
    event: {
      raw,
      data,
      strict,
      hostname,
      message,
      timestamp: data.timestamp,
      // Without one, an id derived from the item: the same on every attempt, so duplicates after a
      // crash carry the same id downstream.
      correlationId:
        typeof cid === 'string' && cid.length > 0
          ? cid
          : `mutt-${createHash('sha1').update(raw).digest('hex').slice(0, 32)}`,
      retryCount:
        typeof rc === 'number' && Number.isInteger(rc) && rc > 0
          ? rc
          : typeof rc === 'string' && /^\d{1,6}$/.test(rc)
            ? Number(rc)
            : 0,
      severity: severityNumber(data.syslog_severity),
      trapOid: oid === '' ? undefined : oid,
    },
  };
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * The instant of an event timestamp as an ISO 8601 string PostgreSQL accepts (microseconds kept,
 * extra digits cut), or undefined when it cannot be read. ISO 8601 without an offset is UTC (Python
 * clients send `datetime.utcnow().isoformat()`); numbers are epoch seconds, or milliseconds when large.
 */
export function eventInstant(v: unknown): { iso: string; ms: number } | undefined {
  if (typeof v === 'number') return fromEpoch(v);
  if (typeof v !== 'string') return undefined;
  if (v.length === 24) {
    const ms = isoMillisZMs(v);
    if (ms !== undefined) return { iso: `${v.slice(0, 23)}000+00:00`, ms };
  }
  const s = v.trim();
  if (/^\d{9,13}(\.\d+)?$/.test(s)) return fromEpoch(Number(s));
  const m = ISO.exec(s);
  if (m) {
    const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone] = m;
    const [Y, M, D, H, I, S] = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(sec)];
    // PostgreSQL refuses 2025-02-31 (Date would roll it over to March), and so does MUTT.
    if (M < 1 || M > 12 || D < 1 || D > daysIn(Y, M) || H > 23 || I > 59 || S > 59) return undefined;
    const micros = (frac + '000000').slice(0, 6);
    let offset = '+00:00';
    let offsetMin = 0;
    if (zone && zone !== 'Z' && zone !== 'z') {
      const z = zone.replace(':', '');
      offset = `${z.slice(0, 3)}:${z.length > 3 ? z.slice(3, 5) : '00'}`;
      offsetMin = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5) || '0'));
    }
    const ms = Date.UTC(Y, M - 1, D, H, I, S, Number(micros.slice(0, 3))) - offsetMin * 60_000;
    return { iso: `${y}-${mo}-${d}T${h}:${mi}:${sec}.${micros}${offset}`, ms };
  }
  // Other shapes JavaScript reads unambiguously (RFC 2822 dates from older scripts).
  if (/^[A-Za-z]{3}, \d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$/.test(s)) {
    const ms = Date.parse(s);
    if (!Number.isNaN(ms)) return { iso: new Date(ms).toISOString(), ms };
  }
  return undefined;
}

function fromEpoch(n: number): { iso: string; ms: number } | undefined {
  if (!Number.isFinite(n) || n <= 0) return undefined;
  const ms = n > 1e11 ? n : n * 1000;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : { iso: d.toISOString(), ms };
}
