// COMPAT_MODE=python2: the alerter's decisions and outputs as Python MUTT 2.x makes them, beside
// MUTT's own (decide.ts), for fleets where both alerters take events from one ingest queue. Each
// function says what Python does; docs/COMPATIBILITY.md has the table and the test of each row.
import { type Decision, type Environment, eventJson, FORWARDED_HANDLINGS } from './decide.ts';
import type { AlerterEvent } from './event.ts';
import type { Rule } from './rules.ts';

/** The host name of every meta-alert a Python alerter raises. */
export const PYTHON_META_HOST = 'MUTT_Alerter';

/**
 * The event's `syslog_severity` as Python compares it with a rule's integer (`!=` on the raw JSON
 * value): numbers by value (3.0 equals 3), booleans as 0 and 1; text ("err", "3") and anything else
 * never equal, so a rule with a severity skips the event.
 */
export function pythonSeverity(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/** Handling and environment: the handling lower-cased as it is stored (Python does not strip it). */
export function decidePython(rule: Rule, hostname: string, devHosts: ReadonlySet<string>): Decision {
  const environment: Environment = devHosts.has(hostname) ? 'dev' : 'prod';
  const handling = environment === 'dev' ? rule.devHandling : rule.prodHandling;
  return { rule, environment, handling, forward: FORWARDED_HANDLINGS.includes(handling.toLowerCase()) };
}

/**
 * The alert a Python alerter writes: the keys its forwarder reads and nothing else (no rule_id,
 * handling, environment, signature or alerted_at), severity always Warning.
 */
export function pythonAlertFor(e: AlerterEvent, d: Decision): string {
  const head = JSON.stringify({
    hostname: e.hostname,
    team_assignment: d.rule.team,
    severity: 'Warning',
    message_body: e.message,
  });
  return `${head.slice(0, -1)},"raw_json":${eventJson(e)},"_correlation_id":${JSON.stringify(e.correlationId)},"_moog_retry_count":0}`;
}

/** Python's `message[:n]`: n code points (String#slice counts UTF-16 units and can split a pair). */
export function pythonPrefix(s: string, n: number): string {
  if (s.length <= n) return s;
  let out = '';
  let count = 0;
  for (const ch of s) {
    if (count++ === n) break;
    out += ch;
  }
  return out;
}

/** The meta-alert a Python alerter raises: host MUTT_Alerter, the event's correlation id as it is. */
export function pythonMetaAlertFor(
  e: AlerterEvent,
  o: { team: string; threshold: number; expirySeconds: number },
): string {
  return JSON.stringify({
    hostname: PYTHON_META_HOST,
    team_assignment: o.team,
    severity: 'Warning',
    message_body: `[MUTT] Detected ${o.threshold} unhandled messages in ${o.expirySeconds}s from '${e.hostname}'. Sample message: ${pythonPrefix(e.message, 200)}`,
    raw_json: e.data,
    _correlation_id: e.correlationId,
    _moog_retry_count: 0,
  });
}

/**
 * The event timestamp as a Python alerter hands it to its INSERT: the text as it is, for PostgreSQL
 * to read (or refuse). Undefined for a value that is not text: a number, a boolean or an object is
 * not a timestamptz to PostgreSQL either, so the row is refused and the event retried.
 */
export function pythonTimestamp(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
