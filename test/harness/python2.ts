// The Python MUTT 2.x side of a mixed fleet, for golden tests: its items as fixtures
// (test/fixtures/python2/), and readers that take MUTT's outputs the way the Python services read
// them (PROTOCOL.md: the event fields the Python alerter reads, the alert keys its forwarder reads,
// the DLQ items its remediation and operators replay, the heartbeats its janitor checks, the audit
// columns its web API returns). Each reader returns the problems a Python consumer would hit.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { parseJsonLenient } from '../../src/core/protocol/json.ts';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/python2');

/** A fixture file's exact text (trailing newline removed). */
export function pyFixture(name: string): string {
  return readFileSync(join(DIR, name), 'utf8').replace(/\n$/, '');
}

/** The events of events.jsonl, one queue item each, byte for byte. */
export function pyEvents(): string[] {
  return pyFixture('events.jsonl').split('\n');
}

export function pyJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(pyFixture(name)) as T;
}

const SEVERITIES = ['Critical', 'Major', 'Warning', 'Minor', 'Info', 'Clear'];

/** json.loads: strict JSON plus NaN and Infinity. */
function object(item: string): { o?: Record<string, unknown>; problems: string[] } {
  let v: unknown;
  try {
    v = parseJsonLenient(item);
  } catch (err) {
    return { problems: [`json.loads fails: ${(err as Error).message}`] };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { problems: ['not a JSON object'] };
  return { o: v as Record<string, unknown>, problems: [] };
}

const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);

/**
 * An ingest-queue item as the Python alerter reads it: the required fields non-empty, `message` and
 * `hostname` text, `syslog_severity` an integer 0–7 (it is compared with `!=` to the rule's integer),
 * `trap_oid` dotted without a leading dot (compared with `startswith`), `_retry_count` an integer.
 * The timestamp goes to PostgreSQL as it is: the caller checks that PostgreSQL reads it.
 */
export function pythonAlerterProblems(item: string): string[] {
  const { o, problems } = object(item);
  if (!o) return problems;
  for (const f of ['hostname', 'timestamp', 'message'])
    if (o[f] === undefined || o[f] === null || o[f] === '') problems.push(`missing ${f}`);
  if (typeof o.hostname !== 'string') problems.push('hostname is not text');
  if (typeof o.message !== 'string') problems.push('message is not text');
  if (typeof o.timestamp !== 'string') problems.push('timestamp is not text');
  const sev = o.syslog_severity;
  if (sev !== undefined && sev !== null && !(isInt(sev) && (sev as number) >= 0 && (sev as number) <= 7))
    problems.push(`syslog_severity ${JSON.stringify(sev)} never equals a rule severity`);
  const oid = o.trap_oid;
  if (oid !== undefined && (typeof oid !== 'string' || oid.startsWith('.')))
    problems.push(`trap_oid ${JSON.stringify(oid)} does not start like the rules' OIDs`);
  if (o._correlation_id !== undefined && typeof o._correlation_id !== 'string')
    problems.push('_correlation_id is not text');
  if (o._retry_count !== undefined && !isInt(o._retry_count)) problems.push('_retry_count + 1 fails');
  return problems;
}

/** An alert-queue item as the Python forwarder reads it (PROTOCOL.md, "Alert"). */
export function pythonForwarderProblems(item: string): string[] {
  const { o, problems } = object(item);
  if (!o) return problems;
  if (typeof o.hostname !== 'string' || o.hostname === '') problems.push('hostname');
  if (typeof o.team_assignment !== 'string') problems.push('team_assignment');
  if (!SEVERITIES.includes(o.severity as string)) problems.push(`severity ${JSON.stringify(o.severity)}`);
  if (typeof o.message_body !== 'string') problems.push('message_body');
  if (o.raw_json === null || typeof o.raw_json !== 'object' || Array.isArray(o.raw_json))
    problems.push('raw_json is not the event object');
  if (typeof o._correlation_id !== 'string' || o._correlation_id === '') problems.push('_correlation_id');
  if (!isInt(o._moog_retry_count) || (o._moog_retry_count as number) < 0) problems.push('_moog_retry_count');
  return problems;
}

/**
 * A DLQ item as Python reads it: a Moogsoft DLQ item is an alert (an operator pushes it back to the
 * alert queue) with its `_moog_retry_count`; an alerter DLQ item is replayed to the ingest queue by
 * Python's remediation, so it must be a JSON object with an integer `_retry_count` when present.
 */
export function pythonDlqProblems(item: string, queue: 'moog' | 'alerter'): string[] {
  if (queue === 'moog') return pythonForwarderProblems(item);
  const { o, problems } = object(item);
  if (!o) return problems;
  if (o._retry_count !== undefined && !isInt(o._retry_count)) problems.push('_retry_count');
  return problems;
}

/** A heartbeat as the Python janitor reads it: present, `alive`, expiring within the janitor timeout. */
export async function pythonJanitorProblems(
  redis: Redis,
  key: string,
  timeoutSeconds: number,
): Promise<string[]> {
  const problems: string[] = [];
  const [value, ttl] = await Promise.all([redis.get(key), redis.ttl(key)]);
  if (value !== 'alive') problems.push(`value ${JSON.stringify(value)}`);
  if (ttl <= 0 || ttl > timeoutSeconds) problems.push(`ttl ${ttl}`);
  return problems;
}

export interface AuditRowRead {
  event_timestamp: Date;
  hostname: string;
  matched_rule_id: number;
  handling_decision: string;
  forwarded_to_moog: boolean;
  raw_message: string | null;
}

/** An event_audit_log row as the Python web API returns it (`/api/v1/audit-logs`). */
export function pythonAuditProblems(r: AuditRowRead): string[] {
  const problems: string[] = [];
  if (!(r.event_timestamp instanceof Date) || Number.isNaN(r.event_timestamp.getTime()))
    problems.push('event_timestamp');
  if (typeof r.hostname !== 'string' || r.hostname.length > 255) problems.push('hostname');
  if (!isInt(r.matched_rule_id)) problems.push('matched_rule_id');
  if (typeof r.handling_decision !== 'string') problems.push('handling_decision');
  if (typeof r.forwarded_to_moog !== 'boolean') problems.push('forwarded_to_moog');
  if (r.raw_message !== null) {
    const { o } = object(r.raw_message);
    if (!o || typeof o.hostname !== 'string' || typeof o.message !== 'string')
      problems.push('raw_message is not the event');
  }
  return problems;
}
