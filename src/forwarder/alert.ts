// The alert as the forwarder reads it from `mutt:alert_queue` (PROTOCOL.md, "Alert"), and the items
// it writes back: retried alerts, Moogsoft DLQ entries. Alerts from a Python MUTT 2.x alerter carry
// only the Python keys; MUTT's alerter adds rule_id, handling, environment, signature, alerted_at.
//
// Bookkeeping fields (underscore-prefixed) the forwarder reads and writes:
//   _correlation_id      trace id, sent to Moogsoft as external_id (derived when missing)
//   _moog_retry_count    delivery retries so far (PROTOCOL.md)
//   _moog_retry_at       MUTT: epoch ms before which the alert must not be retried (its backoff)
//   _moog_last_error     MUTT: why the last attempt failed
//   _replay_count        replays out of the DLQ (PROTOCOL.md, "Remediation")
//   _dlq_reason          why it was dead-lettered (PROTOCOL.md); MUTT adds _dlq_code (a stable code),
//                        _dlq_status (the HTTP status, when there was one) and _failed_at (ISO 8601)
//
// Python MUTT 2.x copies the Moogsoft API key into queued alerts; every item MUTT writes back is
// stripped of secret-looking top-level fields, so the key never reaches a retry list or a DLQ.
import { createHash } from 'node:crypto';
import { parseJsonLenient } from '../core/protocol/json.ts';
import { isSecretKey } from '../core/protocol/secrets.ts';

export interface Alert {
  /** The exact string taken from the queue: settling a request removes this string. */
  readonly raw: string;
  /** The alert object, secret-looking fields removed. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly hostname: string;
  readonly message: string;
  readonly correlationId: string;
  readonly retryCount: number;
  /** Epoch ms before which it must not be sent again; 0 when none. */
  readonly retryAt: number;
}

export type DlqCode =
  'invalid_json' | 'invalid_alert' | 'rejected' | 'auth' | 'retries_exhausted' | 'render_failed';

export type AlertParse =
  | { ok: true; alert: Alert }
  | {
      ok: false;
      code: 'invalid_json' | 'invalid_alert';
      reason: string;
      /** The item when it was a JSON object (secrets removed), for the DLQ entry. */
      data?: Record<string, unknown>;
    };

function withoutSecrets(o: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(o)) {
    if (isSecretKey(k)) {
      out ??= { ...o };
      delete out[k];
    }
  }
  return out ?? o;
}

const nonNegativeInt = (v: unknown): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0
    ? v
    : typeof v === 'string' && /^\d{1,9}$/.test(v)
      ? Number(v)
      : 0;

/** A stable id for an alert without `_correlation_id`, equal across its retries. */
function derivedCorrelationId(o: Record<string, unknown>): string {
  const basis = JSON.stringify([o.hostname, o.team_assignment, o.message_body, o.alerted_at, o.raw_json]);
  return `mutt-${createHash('sha1').update(basis).digest('hex').slice(0, 32)}`;
}

/** Reads one queue item. Never throws: a bad item comes back with a reason for the DLQ. */
export function parseAlert(raw: string): AlertParse {
  let value: unknown;
  try {
    value = parseJsonLenient(raw);
  } catch (err) {
    return { ok: false, code: 'invalid_json', reason: `not JSON: ${(err as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      code: 'invalid_alert',
      reason: `an alert must be a JSON object, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    };
  }
  const data = withoutSecrets(value as Record<string, unknown>);
  const { hostname, message_body: message } = data;
  const invalid = (reason: string): AlertParse => ({ ok: false, code: 'invalid_alert', reason, data });
  if (typeof hostname !== 'string' || hostname.trim().length === 0)
    return invalid('missing or empty "hostname"');
  if (typeof message !== 'string') return invalid('missing "message_body" (a string)');
  for (const k of ['team_assignment', 'severity'] as const) {
    const v = data[k];
    if (v !== undefined && v !== null && typeof v !== 'string' && typeof v !== 'number')
      return invalid(`"${k}" must be a string`);
  }
  const cid = data._correlation_id;
  const retryAt = data._moog_retry_at;
  return {
    ok: true,
    alert: {
      raw,
      data,
      hostname,
      message,
      correlationId: typeof cid === 'string' && cid.length > 0 ? cid : derivedCorrelationId(data),
      retryCount: nonNegativeInt(data._moog_retry_count),
      retryAt: typeof retryAt === 'number' && Number.isFinite(retryAt) ? retryAt : 0,
    },
  };
}

/** The due time an item carries (for the retry list), 0 when none or unreadable. */
export function retryAtOf(item: string): number {
  // Cheap scan first: most items on a retry list are MUTT's own JSON.
  const m = /"_moog_retry_at":(\d+(?:\.\d+)?)/.exec(item);
  return m ? Number(m[1]) : 0;
}

/** The alert written to the retry list: one more retry counted, and the time it may go again. */
export function retryItem(a: Alert, retryAt: number, lastError: string): string {
  return JSON.stringify({
    ...a.data,
    _correlation_id: a.correlationId,
    _moog_retry_count: a.retryCount + 1,
    _moog_retry_at: Math.round(retryAt),
    _moog_last_error: lastError,
  });
}

/** The alert held back again, unchanged apart from removed secrets (its time has not come yet). */
export function heldItem(a: Alert): string {
  return JSON.stringify({ ...a.data, _correlation_id: a.correlationId });
}

export interface DlqFailure {
  code: DlqCode;
  /** Human reason: names the status and quotes a bounded excerpt of the answer. */
  reason: string;
  status?: number;
}

/** A Moogsoft DLQ entry for an alert. */
export function dlqItem(a: Alert, f: DlqFailure, now: Date): string {
  return dlqEntry({ ...a.data, _correlation_id: a.correlationId, _moog_retry_count: a.retryCount }, f, now);
}

/** A Moogsoft DLQ entry for a queue item that is not an alert: the object, or the text as `_raw`. */
export function dlqItemForInvalid(
  raw: string,
  data: Record<string, unknown> | undefined,
  f: DlqFailure,
  now: Date,
): string {
  return dlqEntry(data ? { ...data } : { _raw: raw }, f, now);
}

function dlqEntry(base: Record<string, unknown>, f: DlqFailure, now: Date): string {
  delete base._moog_retry_at;
  return JSON.stringify({
    ...base,
    _dlq_reason: f.reason,
    _dlq_code: f.code,
    ...(f.status !== undefined ? { _dlq_status: f.status } : {}),
    _failed_at: now.toISOString(),
  });
}
