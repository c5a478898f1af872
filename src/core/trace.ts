// Where one event went, by its correlation id (`mutt trace <id>`, and the admin API's trace route):
//
//   received    the listener that took it (syslog / snmp / webhook), from where, when
//   waiting     still in mutt:ingest_queue or an alerter's processing list
//   alerter     the audit row: the rule that matched, its handling, forwarded or not
//   alert       still in mutt:alert_queue, a forwarder's processing list or its retry list
//   moogsoft    every Moogsoft request that carried it and the answer (the delivery journal)
//   dlq         the dead-letter list it sits in, and why
//
// Everything is read from what MUTT keeps anyway (Redis lists, the audit log, the capped delivery
// journal); nothing is recorded per event for tracing. An event that matched no rule is not audited
// (MUTT 2.x semantics), so once it left the queue only its meta-alert counter knows of it: the
// report says so rather than guessing.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { scanAll } from '../runtime/redis.ts';
import { describeEntry } from './queue/dlq.ts';
import { findInJournal, type JournalEntry } from './journal.ts';
import { CORRELATION_ID_FORMAT, isCorrelationId } from './protocol/correlation.ts';
import { parseJsonLenient } from './protocol/json.ts';
import type { Keys } from './protocol/keys.ts';

export class TraceInputError extends Error {
  constructor(id: string) {
    super(
      `"${id.length > 80 ? `${id.slice(0, 80)}…` : id}" is not a correlation id: expected ${CORRELATION_ID_FORMAT}`,
    );
    this.name = 'TraceInputError';
  }
}

/** Throws TraceInputError unless `id` can be a correlation id. */
export function checkTraceId(id: string): void {
  if (!isCorrelationId(id)) throw new TraceInputError(id);
}

export type TraceStage = 'received' | 'waiting' | 'alerter' | 'alert' | 'moogsoft' | 'dlq';

export interface TraceStep {
  stage: TraceStage;
  /** ISO 8601, when known. */
  at?: string;
  /** One line for people. */
  summary: string;
  /** The facts the line was made from. */
  detail: Record<string, unknown>;
}

export interface TraceReport {
  correlation_id: string;
  found: boolean;
  /** In the order the event went through them (undated steps last). */
  steps: TraceStep[];
  /** The event as last seen (from the audit log, a queue or a DLQ). */
  event?: Record<string, unknown>;
  /** What was not searched or could not be known. */
  notes: string[];
}

export interface TraceDeps {
  redis: Pick<Redis, 'lrange' | 'llen' | 'scan' | 'xrevrange' | 'xlen'>;
  keys: Keys;
  /** The audit log; without it (a node without PostgreSQL) the report says it was not searched. */
  pool?: Pick<pg.Pool, 'connect'>;
}

export interface TraceOptions {
  /** Items read per Redis list, newest first (default 200,000). */
  maxListItems?: number;
  /** How far back the audit log is searched when the event's host is not known (hours, default 168). */
  auditHours?: number;
  /** Narrows the audit search to one host (fast on a large audit log). */
  host?: string;
  /** Statement timeout of the audit query (default 30 s). */
  auditTimeoutMs?: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function parse(raw: string): Obj | undefined {
  try {
    return obj(parseJsonLenient(raw));
  } catch {
    return undefined;
  }
}

/** An event or an alert (whose event is raw_json) that carries this correlation id. */
function carries(item: Obj, id: string): boolean {
  return item._correlation_id === id || obj(item.raw_json)?._correlation_id === id;
}

interface ListHit {
  list: string;
  kind: 'ingest' | 'alerter_processing' | 'alert' | 'moog_processing' | 'moog_retry' | 'dlq';
  /** LINDEX position (0 = newest). */
  index: number;
  length: number;
  raw: string;
  item: Obj;
}

async function scanList(
  redis: TraceDeps['redis'],
  list: string,
  kind: ListHit['kind'],
  id: string,
  max: number,
  notes: string[],
): Promise<ListHit[]> {
  const length = await redis.llen(list);
  const hits: ListHit[] = [];
  const page = 1000;
  for (let start = 0; start < Math.min(length, max); start += page) {
    const items = await redis.lrange(list, start, Math.min(start + page, max) - 1);
    items.forEach((raw, i) => {
      if (!raw.includes(id)) return;
      const item = parse(raw);
      if (item && carries(item, id)) hits.push({ list, kind, index: start + i, length, raw, item });
    });
    if (items.length < page) break;
  }
  if (length > max)
    notes.push(
      `${list}: searched the newest ${max.toLocaleString('en')} of ${length.toLocaleString('en')} items`,
    );
  return hits;
}

interface AuditRow {
  id: string;
  event_timestamp: Date;
  hostname: string;
  matched_rule_id: number;
  handling_decision: string;
  forwarded_to_moog: boolean;
  raw_message: string | null;
  rule_name: string | null;
  match_type: string | null;
  match_string: string | null;
  trap_oid: string | null;
  priority: number | null;
  team_assignment: string | null;
}

async function searchAudit(
  pool: NonNullable<TraceDeps['pool']>,
  id: string,
  host: string | undefined,
  hours: number,
  timeoutMs: number,
): Promise<AuditRow[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    // The host or the time bound lets PostgreSQL use an index before reading raw_message; strpos is a
    // cheap first filter, the regular expression the exact one (`"_correlation_id":"<id>"`, with or
    // without Python's spaces; the id's characters are validated, only . and + need escaping).
    const where = host ? 'a.hostname = $2' : `a.event_timestamp >= now() - make_interval(hours => $2::int)`;
    const exact = `"_correlation_id"\\s*:\\s*"${id.replace(/[.+]/g, '\\$&')}"`;
    const r = await client.query<AuditRow>(
      `SELECT a.id::text AS id, a.event_timestamp, a.hostname, a.matched_rule_id, a.handling_decision,
              a.forwarded_to_moog, a.raw_message, r.name AS rule_name, r.match_type, r.match_string,
              r.trap_oid, r.priority, r.team_assignment
         FROM event_audit_log a LEFT JOIN alert_rules r ON r.id = a.matched_rule_id
        WHERE ${where} AND strpos(a.raw_message, $1) > 0 AND a.raw_message ~ $3
        ORDER BY a.event_timestamp, a.id LIMIT 20`,
      [id, host ?? hours, exact],
    );
    await client.query('COMMIT');
    return r.rows.filter((row) => {
      const e = row.raw_message === null ? undefined : parse(row.raw_message);
      return e ? carries(e, id) : false;
    });
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

const LIST_WORDS: Record<ListHit['kind'], string> = {
  ingest: 'waiting in the ingest queue',
  alerter_processing: 'being processed by an alerter',
  alert: 'waiting in the alert queue',
  moog_processing: 'being sent by a forwarder',
  moog_retry: 'held by a forwarder for a retry',
  dlq: 'in a dead-letter list',
};

function receivedStep(e: Obj): TraceStep {
  const source = str(e.source);
  const listener =
    source === 'syslog'
      ? 'syslog listener'
      : source === 'snmp'
        ? 'SNMP listener'
        : source === 'webhook'
          ? 'HTTP ingest'
          : undefined;
  const from = str(e.source_ip) ?? str(e.agent_address);
  const parts = [
    listener
      ? `received by the ${listener}`
      : 'received (by a sender that did not set `source`: a MUTT 2.x ingestor?)',
    from ? `from ${from}` : undefined,
    str(e.hostname) ? `for host ${str(e.hostname)}` : undefined,
  ].filter(Boolean);
  const detail: Obj = {
    source: source ?? null,
    source_ip: from ?? null,
    hostname: e.hostname ?? null,
    timestamp: e.timestamp ?? null,
  };
  for (const k of [
    'received_at',
    'trap_oid',
    'trap_name',
    'syslog_severity',
    'snmp_version',
    'app_name',
    'parse_error',
  ])
    if (e[k] !== undefined) detail[k] = e[k];
  return { stage: 'received', at: str(e.received_at), summary: parts.join(' '), detail };
}

function ruleText(r: AuditRow): string {
  if (r.match_type === null) return `rule ${r.matched_rule_id} (since deleted)`;
  const what = r.trap_oid ? `oid_prefix ${r.trap_oid}` : `${r.match_type} ${JSON.stringify(r.match_string)}`;
  return `rule ${r.matched_rule_id}${r.rule_name ? ` "${r.rule_name}"` : ''} (${what}, priority ${r.priority})`;
}

function moogStep(j: JournalEntry, id: string): TraceStep {
  const i = j.ids.indexOf(id);
  const outcome = j.outcomes[i] ?? 'hold';
  const answer = j.status !== undefined ? `HTTP ${j.status}` : j.reason;
  const what =
    outcome === 'delivered'
      ? 'delivered'
      : outcome === 'reject'
        ? 'rejected (to the DLQ, or split to find the bad alert)'
        : outcome === 'retry'
          ? 'to be retried'
          : 'held back (forwarder stopping)';
  const alerts = `${j.alerts} alert${j.alerts === 1 ? '' : 's'}`;
  const summary =
    j.sink === 'file'
      ? `written to the local file sink (MOOG_WEBHOOK_URL unset) as request ${j.request} (${alerts}): ${what}`
      : `Moogsoft request ${j.request} (${alerts}) → ${answer}${j.reason !== 'ok' && j.status !== undefined ? ` (${j.reason})` : ''}: ${what}`;
  return {
    stage: 'moogsoft',
    at: j.at,
    summary,
    detail: {
      sink: j.sink,
      request: j.request,
      forwarder: j.pod,
      alerts: j.alerts,
      status: j.status ?? null,
      reason: j.reason,
      outcome,
      latency_ms: j.latencyMs,
      ...(j.detail ? { answer: j.detail } : {}),
      journal_entry: j.entry,
    },
  };
}

function dlqStep(h: ListHit): TraceStep {
  // The same reading of a DLQ item as `mutt dlq` and the admin API (core/queue/dlq.ts).
  const e = describeEntry(h.raw, h.index);
  return {
    stage: 'dlq',
    at: e.failedAt,
    summary: `in ${h.list} (index ${h.index} of ${h.length})${e.reason ? `: ${e.reason}` : ''}`,
    detail: {
      list: h.list,
      index: h.index,
      id: e.id,
      code: e.code ?? null,
      reason: e.reason ?? null,
      replays: e.replayCount,
      ...(h.item._dead_from ? { dead_from: h.item._dead_from } : {}),
    },
  };
}

/** Traces one event; throws TraceInputError for an id that cannot be one. */
export async function traceEvent(d: TraceDeps, id: string, o: TraceOptions = {}): Promise<TraceReport> {
  checkTraceId(id);
  const max = o.maxListItems ?? 200_000;
  const notes: string[] = [];
  const { redis, keys } = d;

  const lists: [string, ListHit['kind']][] = [
    [keys.ingestQueue, 'ingest'],
    ...(await scanAll(redis, keys.alerterProcessingPattern))
      .sort()
      .map((k) => [k, 'alerter_processing'] as [string, ListHit['kind']]),
    [keys.alertQueue, 'alert'],
    ...(await scanAll(redis, keys.moogProcessingPattern))
      .sort()
      .map((k) => [k, k.endsWith('-retry') ? 'moog_retry' : 'moog_processing'] as [string, ListHit['kind']]),
    [keys.alerterDlq, 'dlq'],
    [keys.moogDlq, 'dlq'],
    [keys.deadLetter, 'dlq'],
  ];
  const hits = (await Promise.all(lists.map(([l, k]) => scanList(redis, l, k, id, max, notes)))).flat();

  const journal = await findInJournal(redis, keys.moogJournal, id);

  // The audit log: by host when any record names it (an index), else over the last hours.
  let event: Obj | undefined;
  for (const h of hits)
    event ??=
      h.kind === 'ingest' || h.kind === 'alerter_processing' ? h.item : (obj(h.item.raw_json) ?? h.item);
  const host = o.host ?? str(event?.hostname) ?? str(hits.find((h) => str(h.item.hostname))?.item.hostname);
  let audit: AuditRow[] = [];
  if (!d.pool) notes.push('the audit log was not searched (this node has no PostgreSQL)');
  else {
    const hours = o.auditHours ?? 168;
    try {
      audit = await searchAudit(d.pool, id, host, hours, o.auditTimeoutMs ?? 30_000);
    } catch (err) {
      notes.push(`the audit log could not be searched: ${(err as Error).message}`);
    }
    if (audit.length === 0 && !host)
      notes.push(
        `the audit log was searched over the last ${hours} hours of event time (give --host to search all of a host's rows)`,
      );
  }

  const steps: TraceStep[] = [];
  const auditEvent = audit[0]?.raw_message ? parse(audit[0].raw_message) : undefined;
  event = auditEvent ?? event;
  if (event) steps.push(receivedStep(event));
  for (const h of hits.filter((x) => x.kind === 'ingest' || x.kind === 'alerter_processing'))
    steps.push({
      stage: 'waiting',
      summary: `${LIST_WORDS[h.kind]}: ${h.list} (index ${h.index} of ${h.length})`,
      detail: { list: h.list, index: h.index, length: h.length, retries: h.item._retry_count ?? 0 },
    });
  for (const r of audit)
    steps.push({
      stage: 'alerter',
      at: r.event_timestamp.toISOString(),
      summary: `matched ${ruleText(r)} → ${r.handling_decision}${r.team_assignment ? ` for team ${r.team_assignment}` : ''}; ${r.forwarded_to_moog ? 'forwarded to Moogsoft' : 'not forwarded (the handling does not page or ticket)'}`,
      detail: {
        audit_id: r.id,
        rule_id: r.matched_rule_id,
        rule_name: r.rule_name,
        match_type: r.match_type,
        match_string: r.match_string,
        trap_oid: r.trap_oid,
        priority: r.priority,
        handling: r.handling_decision,
        team: r.team_assignment,
        forwarded_to_moog: r.forwarded_to_moog,
        event_timestamp: r.event_timestamp.toISOString(),
      },
    });
  for (const h of hits.filter(
    (x) => x.kind === 'alert' || x.kind === 'moog_processing' || x.kind === 'moog_retry',
  )) {
    const retryAt =
      typeof h.item._moog_retry_at === 'number'
        ? new Date(h.item._moog_retry_at).toISOString()
        : str(h.item._moog_retry_at);
    steps.push({
      stage: 'alert',
      at: str(h.item.alerted_at),
      summary: `${LIST_WORDS[h.kind]}: ${h.list} (index ${h.index} of ${h.length})${retryAt ? `, next attempt ${retryAt}` : ''}`,
      detail: {
        list: h.list,
        index: h.index,
        severity: h.item.severity ?? null,
        team: h.item.team_assignment ?? null,
        attempts: h.item._moog_retry_count ?? 0,
        ...(retryAt ? { retry_at: retryAt } : {}),
        ...(h.item._moog_last_error ? { last_error: h.item._moog_last_error } : {}),
      },
    });
  }
  steps.push(...journal.entries.map((j) => moogStep(j, id)));
  steps.push(...hits.filter((h) => h.kind === 'dlq').map(dlqStep));

  const found = steps.length > 0;
  const forwarded = audit.some((r) => r.forwarded_to_moog);
  if (
    forwarded &&
    journal.entries.length === 0 &&
    !hits.some((h) => h.kind !== 'ingest' && h.kind !== 'alerter_processing')
  )
    notes.push(
      `no Moogsoft request for it in the delivery journal (${keys.moogJournal}, ${journal.scanned.toLocaleString('en')} requests remembered): it is older than the journal, or a MUTT 2.x forwarder sent it`,
    );
  if (!found)
    notes.push(
      'not found. Events that match no rule are not audited (they count toward a meta-alert for their host); otherwise the event is older than what MUTT keeps, or the id is not one MUTT gave out',
    );
  // Dated steps in time order, the rest in pipeline order after them.
  const order: Record<TraceStage, number> = {
    received: 0,
    waiting: 1,
    alerter: 2,
    alert: 3,
    moogsoft: 4,
    dlq: 5,
  };
  steps.sort((a, b) => order[a.stage] - order[b.stage] || (a.at && b.at ? a.at.localeCompare(b.at) : 0));
  return { correlation_id: id, found, steps, ...(event ? { event } : {}), notes };
}

/**
 * The admin API's answer to `GET /api/v1/trace/<correlation-id>` (and `/api/v2/…`), with the optional
 * query parameters `host` and `hours` of `mutt trace`: 200 with the report, 404 with it when nothing
 * was found, 400 naming the expected format for an id or a parameter that cannot be one, 503 when
 * Redis cannot be read.
 */
export async function traceAnswer(
  d: TraceDeps,
  id: string,
  query: { host?: string; hours?: string } = {},
): Promise<{ status: 200 | 404; body: TraceReport } | { status: 400 | 503; body: { error: string } }> {
  let hours: number | undefined;
  if (query.hours !== undefined) {
    if (!/^\d+$/.test(query.hours) || Number(query.hours) < 1)
      return { status: 400, body: { error: `hours "${query.hours}": expected a positive integer` } };
    hours = Number(query.hours);
  }
  try {
    checkTraceId(id);
  } catch (err) {
    return { status: 400, body: { error: (err as Error).message } };
  }
  try {
    const r = await traceEvent(d, id, { host: query.host || undefined, auditHours: hours });
    return { status: r.found ? 200 : 404, body: r };
  } catch (err) {
    return { status: 503, body: { error: `trace unavailable: Redis: ${(err as Error).message}` } };
  }
}
