// What the alerter does with one event (PROTOCOL.md, "Alerter decisions"): environment, handling,
// whether it is forwarded, the alert it puts on `mutt:alert_queue`, and its audit row.
import type { AlerterEvent } from './event.ts';
import type { Rule } from './rules.ts';

/** Handlings that send the alert on to Moogsoft (compared lower-cased). */
export const FORWARDED_HANDLINGS: readonly string[] = ['page_and_ticket', 'page_only', 'ticket_only'];

export type Environment = 'prod' | 'dev';

export interface Decision {
  rule: Rule;
  environment: Environment;
  handling: string;
  forward: boolean;
}

export function decide(rule: Rule, hostname: string, devHosts: ReadonlySet<string>): Decision {
  const environment: Environment = devHosts.has(hostname) ? 'dev' : 'prod';
  const handling = environment === 'dev' ? rule.devHandling : rule.prodHandling;
  return {
    rule,
    environment,
    handling,
    forward: FORWARDED_HANDLINGS.includes(handling.trim().toLowerCase()),
  };
}

const ORDER = ['Clear', 'Info', 'Warning', 'Minor', 'Major', 'Critical'] as const;
export type AlertSeverity = (typeof ORDER)[number];

/** Syslog 0–7 → alert severity: emergency/alert/critical → Critical, error → Major, warning → Warning, notice and below → Info. */
const FROM_SYSLOG: AlertSeverity[] = [
  'Critical',
  'Critical',
  'Critical',
  'Major',
  'Warning',
  'Info',
  'Info',
  'Info',
];

/** Generic traps that announce a recovery (RFC 3418 / RFC 2863): linkUp, and coldStart/warmStart as Info. */
const TRAP_SEVERITY: Record<string, AlertSeverity> = {
  '1.3.6.1.6.3.1.1.5.1': 'Info',
  '1.3.6.1.6.3.1.1.5.2': 'Info',
  '1.3.6.1.6.3.1.1.5.3': 'Major',
  '1.3.6.1.6.3.1.1.5.4': 'Clear',
};

/**
 * The severity of an alert, derived rather than always `Warning` as in Python MUTT: from the trap
 * OID for the standard traps, else the event's syslog severity, else Warning; a paging handling
 * raises it to at least Major and a ticket to at least Warning, except for a recovery (Clear).
 */
export function alertSeverity(
  e: Pick<AlerterEvent, 'severity' | 'trapOid'>,
  handling: string,
): AlertSeverity {
  let s: AlertSeverity =
    (e.trapOid !== undefined ? TRAP_SEVERITY[e.trapOid] : undefined) ??
    (e.severity !== undefined ? FROM_SYSLOG[e.severity]! : 'Warning');
  if (s === 'Clear') return s;
  const h = handling.trim().toLowerCase();
  const floor: AlertSeverity | undefined = h.startsWith('page')
    ? 'Major'
    : h === 'ticket_only'
      ? 'Warning'
      : undefined;
  if (floor && ORDER.indexOf(floor) > ORDER.indexOf(s)) s = floor;
  return s;
}

/**
 * The alert JSON for a forwarded event (PROTOCOL.md, "Alert"). `now` may be given as its ISO text:
 * a batch formats its decision time once rather than once per alert.
 */
export function alertFor(e: AlerterEvent, d: Decision, now: Date | string): string {
  const head = JSON.stringify({
    hostname: e.hostname,
    team_assignment: d.rule.team,
    severity: alertSeverity(e, d.handling),
    message_body: e.message,
  });
  const tail = JSON.stringify({
    _correlation_id: e.correlationId,
    _moog_retry_count: 0,
    rule_id: d.rule.id,
    handling: d.handling,
    environment: d.environment,
    signature: `${e.hostname}:${d.rule.id}`,
    alerted_at: typeof now === 'string' ? now : now.toISOString(),
  });
  // The event goes in as the client sent it when that is strict JSON (no second serialisation);
  // NaN/Infinity from Python clients are written as null. A correlation id MUTT generated is in the
  // alert's own _correlation_id.
  return `${head.slice(0, -1)},"raw_json":${eventJson(e)},${tail.slice(1)}`;
}

/** The event as strict JSON: the queue item itself unless it needed the lenient parse. */
export function eventJson(e: AlerterEvent): string {
  return e.strict ? e.raw.trim() : JSON.stringify(e.data);
}

/** The meta-alert raised when a host sent UNHANDLED_THRESHOLD unmatched messages of one signature. */
export function metaAlertFor(
  e: AlerterEvent,
  o: {
    team: string;
    environment: Environment;
    threshold: number;
    expirySeconds: number;
    sig: string;
    now: Date;
  },
): string {
  return JSON.stringify({
    hostname: e.hostname,
    team_assignment: o.team,
    severity: 'Warning',
    message_body: `[MUTT] Detected ${o.threshold} unhandled messages in ${o.expirySeconds}s from '${e.hostname}'. Sample message: ${e.message.slice(0, 200)}`,
    raw_json: e.data,
    _correlation_id: `${e.correlationId}:unhandled`,
    _moog_retry_count: 0,
    rule_id: null,
    handling: 'unhandled',
    environment: o.environment,
    signature: `${e.hostname}:unhandled:${o.sig}`,
    alerted_at: o.now.toISOString(),
  });
}

/** Removes characters PostgreSQL text cannot hold (NUL) and cuts to a column's length. */
export function column(s: string, max: number): string {
  const clean = s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
  return clean.length > max ? clean.slice(0, max) : clean;
}

/**
 * The event JSON for `raw_message`, at most `maxBytes` long: a larger event keeps its fields with the
 * message shortened and `_audit_truncated` giving the original length (the alert carries it whole).
 */
export function boundedRaw(e: AlerterEvent, maxBytes: number): string {
  const json = eventJson(e);
  if (json.length <= maxBytes / 3 || Buffer.byteLength(json) <= maxBytes) return json;
  const keep = Math.max(256, Math.floor(maxBytes / 8));
  const short = JSON.stringify({
    ...e.data,
    message: e.message.slice(0, keep),
    _audit_truncated: { message_chars: e.message.length, event_bytes: Buffer.byteLength(json) },
  });
  if (Buffer.byteLength(short) <= maxBytes) return short;
  // Other fields are huge too: keep what identifies the event.
  return JSON.stringify({
    hostname: column(e.hostname, 255),
    timestamp: typeof e.timestamp === 'string' ? e.timestamp.slice(0, 64) : e.timestamp,
    message: e.message.slice(0, keep),
    _correlation_id: e.correlationId.slice(0, 128),
    _audit_truncated: { message_chars: e.message.length, event_bytes: Buffer.byteLength(json) },
  });
}
