// Request bodies → events, without I/O. A body is one JSON object, a JSON array of objects, or
// newline-delimited JSON (rsyslog omhttp with batch.format="newline"). Each event is checked for its
// required fields, its severity label is normalised, and bookkeeping fields are added.
import { isCorrelationId } from '../../core/protocol/correlation.ts';
import { parseJsonLenient } from '../../core/protocol/json.ts';
import { SEVERITY_EXPECTED, severityNumber } from '../../core/protocol/severity.ts';
import { MuttError } from '../../errors.ts';

export type ParsedBody = { kind: 'single'; value: unknown } | { kind: 'batch'; items: BatchItem[] };
export type BatchItem = { ok: true; value: unknown } | { ok: false; error: string };

const describe = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

/** Parses a request body; throws MuttError (400) when nothing in it is usable. */
export function parseBody(text: string): ParsedBody {
  if (text.trim().length === 0) throw new MuttError('EMPTY_BODY');
  let whole: unknown;
  let wholeError: Error | undefined;
  try {
    whole = parseJsonLenient(text);
  } catch (err) {
    wholeError = err as Error;
  }
  if (!wholeError) {
    if (Array.isArray(whole)) {
      if (whole.length === 0)
        throw new MuttError('INVALID_BODY', 'Request body is an empty array: send at least one event');
      return { kind: 'batch', items: (whole as unknown[]).map((value) => ({ ok: true, value })) };
    }
    if (whole !== null && typeof whole === 'object') return { kind: 'single', value: whole };
    throw new MuttError(
      'INVALID_BODY',
      `Request body must be a JSON object or an array of objects (got ${describe(whole)})`,
    );
  }
  // Not one JSON document: newline-delimited JSON, one event per non-blank line.
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  if (lines.length > 1) {
    const items: BatchItem[] = lines.map((line, i) => {
      try {
        return { ok: true, value: parseJsonLenient(line) };
      } catch (err) {
        return { ok: false, error: `line ${i + 1} is not valid JSON: ${(err as Error).message}` };
      }
    });
    if (items.some((i) => i.ok)) return { kind: 'batch', items };
  }
  throw new MuttError('INVALID_JSON', `Request body is not valid JSON: ${wholeError.message}`);
}

export interface PrepareContext {
  required: readonly string[];
  /** Correlation ID that replaces the event's own (a single event sent with X-Correlation-ID). */
  correlationId?: string;
  /** Correlation ID for an event that carries no usable `_correlation_id` of its own. */
  fallbackCorrelationId: () => string;
  receivedAt: string;
  sourceIp?: string;
}

export type Prepared =
  | { ok: true; json: string; correlationId: string /** the event brought its own */; own: boolean }
  | { ok: false; error: string };

/** A correlation ID from a client is used only when it is short and printable. */
export function acceptableCorrelationId(v: unknown): v is string {
  return isCorrelationId(v);
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim().length === 0);
}

/** Validates and normalises one event; returns its JSON for the queue or a message naming the problem. */
export function prepareEvent(value: unknown, ctx: PrepareContext): Prepared {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: `event must be a JSON object (got ${describe(value)})` };
  }
  const ev = value as Record<string, unknown>;
  const missing: string[] = [];
  const wrongType: string[] = [];
  for (const f of ctx.required) {
    const v = ev[f];
    if (isEmpty(v)) missing.push(f);
    else if (typeof v !== 'string' && typeof v !== 'number') wrongType.push(f);
  }
  if (missing.length > 0)
    return { ok: false, error: `Missing or empty required field(s): ${missing.join(', ')}` };
  if (wrongType.length > 0)
    return { ok: false, error: `Field(s) must be a string or number: ${wrongType.join(', ')}` };

  if (ev.syslog_severity !== undefined && ev.syslog_severity !== null) {
    const raw = ev.syslog_severity;
    const n = severityNumber(raw);
    if (n === undefined)
      return {
        ok: false,
        error: `syslog_severity: expected ${SEVERITY_EXPECTED} (got ${JSON.stringify(raw)})`,
      };
    if (typeof raw === 'string' && !/^\s*[0-7]\s*$/.test(raw) && ev.severity_label === undefined)
      ev.severity_label = raw;
    ev.syslog_severity = n;
  } else if (typeof ev.severity === 'string') {
    const n = severityNumber(ev.severity);
    if (n !== undefined) {
      ev.syslog_severity = n;
      if (ev.severity_label === undefined) ev.severity_label = ev.severity;
    }
  }

  const own = ctx.correlationId === undefined && acceptableCorrelationId(ev._correlation_id);
  const correlationId =
    ctx.correlationId ?? (own ? (ev._correlation_id as string) : ctx.fallbackCorrelationId());
  ev._correlation_id = correlationId;
  if (ev.received_at === undefined) ev.received_at = ctx.receivedAt;
  if (ev.source === undefined) ev.source = 'webhook';
  if (ev.source_ip === undefined && ctx.sourceIp) ev.source_ip = ctx.sourceIp;
  let json: string;
  try {
    json = JSON.stringify(ev);
  } catch (err) {
    // Deeply nested input can exceed the serializer's stack; it is the client's problem, not a crash.
    return { ok: false, error: `event cannot be serialised: ${(err as Error).message}` };
  }
  return { ok: true, json, correlationId, own };
}
