// The event audit trail (event_audit_log, partitioned by month) and the configuration change history
// (config_audit_log), as Python MUTT 2.5 serves them ({logs|changes, pagination:{page,limit,total,
// pages}}), and better on large tables:
//
// - Order is (event_timestamp DESC, id DESC); every filter on time prunes partitions, and the
//   indexes on (event_timestamp), (hostname, event_timestamp) and (matched_rule_id, event_timestamp)
//   serve the page without scanning the table.
// - `cursor` (keyset) paging costs the same on page 1 and page 100,000; `page` (offset) paging is
//   kept for compatibility and costs what it skips, so it serves the first AUDIT_LOG_MAX_OFFSET rows
//   only (a search engine's result window) and refuses deeper pages naming `cursor`. Every page
//   carries `next_cursor`.
// - `total` is exact when the filter matches at most EXACT_TOTAL_MAX rows (counted with a bounded
//   count); beyond, it is the planner's estimate and `total_is_estimate` says so.
// - The export streams a time range as NDJSON or CSV, a keyset page at a time.
import type { AdminContext } from './context.ts';
import { query } from './context.ts';
import { AdminError } from './errors.ts';
import { AuditExportQuery, AuditQuery, ConfigAuditQuery, parseInput } from './schemas.ts';

export const EXACT_TOTAL_MAX = 10_000;
const EXPORT_PAGE = 2000;

export interface AuditLogRow {
  id: number;
  event_timestamp: string;
  hostname: string;
  matched_rule_id: number;
  handling_decision: string;
  forwarded_to_moog: boolean;
  raw_message: string | null;
  event_timestamp_substituted: boolean | null;
}

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  pages: number;
  /** MUTT addition: total is the planner's estimate (the filter matches more than EXACT_TOTAL_MAX rows). */
  total_is_estimate: boolean;
  /** MUTT addition: pass as `cursor` for the next page (null on the last page). */
  next_cursor: string | null;
}

export interface AuditPage {
  logs: AuditLogRow[];
  pagination: Pagination;
}

type Filters = Pick<
  AuditQuery,
  'hostname' | 'rule_id' | 'start_date' | 'end_date' | 'handling' | 'forwarded' | 'team' | 'correlation_id'
>;

const TS_TEXT = `to_char(event_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const SELECT = `SELECT id, ${TS_TEXT} AS event_timestamp, hostname, matched_rule_id, handling_decision,
  forwarded_to_moog, raw_message, event_timestamp_substituted FROM event_audit_log`;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, '\\$&');

/** WHERE clauses and their parameters (numbered from 1). */
function where(f: Filters): { sql: string[]; params: unknown[] } {
  const sql: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.hostname !== undefined) sql.push(`hostname = ${p(f.hostname)}`);
  if (f.rule_id !== undefined) sql.push(`matched_rule_id = ${p(f.rule_id)}`);
  if (f.start_date) sql.push(`event_timestamp >= ${p(f.start_date.toISOString())}::timestamptz`);
  if (f.end_date)
    sql.push(
      `event_timestamp ${f.end_date.exclusive ? '<' : '<='} ${p(f.end_date.at.toISOString())}::timestamptz`,
    );
  if (f.handling !== undefined) sql.push(`lower(handling_decision) = lower(${p(f.handling)})`);
  if (f.forwarded !== undefined) sql.push(`forwarded_to_moog = ${p(f.forwarded)}`);
  if (f.team !== undefined)
    sql.push(`matched_rule_id IN (SELECT id FROM alert_rules WHERE team_assignment = ${p(f.team)})`);
  if (f.correlation_id !== undefined) {
    // MUTT writes compact JSON, Python json.dumps puts a space after the colon.
    const c = likeEscape(JSON.stringify(f.correlation_id));
    sql.push(
      `(raw_message LIKE ${p(`%"_correlation_id":${c}%`)} OR raw_message LIKE ${p(`%"_correlation_id": ${c}%`)})`,
    );
  }
  return { sql, params };
}

interface Cursor {
  ts: string;
  id: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.ts, c.id])).toString('base64url');
}

export function decodeCursor(s: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      typeof v[0] === 'string' &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(v[0]) &&
      Number.isSafeInteger(v[1])
    )
      return { ts: v[0], id: v[1] as number };
  } catch {
    // fall through
  }
  throw new AdminError(
    'invalid',
    'cursor: not a cursor this API returned (use next_cursor of a previous page)',
    {
      fields: [{ field: 'cursor', message: 'not a cursor this API returned' }],
    },
  );
}

/** Exact up to EXACT_TOTAL_MAX (a bounded count), else the planner's estimate. */
async function totalOf(
  ctx: AdminContext,
  w: { sql: string[]; params: unknown[] },
): Promise<{ total: number; estimate: boolean }> {
  const cond = w.sql.length > 0 ? `WHERE ${w.sql.join(' AND ')}` : '';
  const bounded = await query<{ n: string }>(
    ctx,
    'audit_count',
    `SELECT count(*) AS n FROM (SELECT 1 FROM event_audit_log ${cond} LIMIT ${EXACT_TOTAL_MAX + 1}) t`,
    w.params,
  );
  const n = Number(bounded.rows[0]?.n ?? 0);
  if (n <= EXACT_TOTAL_MAX) return { total: n, estimate: false };
  let estimate: number;
  if (w.sql.length === 0) {
    const r = await query<{ n: string | null }>(
      ctx,
      'audit_estimate',
      `SELECT sum(greatest(c.reltuples, 0))::bigint AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'event_audit_log'::regclass`,
    );
    estimate = Number(r.rows[0]?.n ?? 0);
  } else {
    const r = await query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
      ctx,
      'audit_estimate',
      `EXPLAIN (FORMAT JSON) SELECT 1 FROM event_audit_log ${cond}`,
      w.params,
    );
    estimate = Math.round(r.rows[0]?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? 0);
  }
  return { total: Math.max(estimate, n), estimate: true };
}

/** One page of the event audit trail. `input` is the query string (AuditQuery). */
export async function queryAuditLogs(ctx: AdminContext, input: unknown): Promise<AuditPage> {
  const q = parseInput(AuditQuery, input);
  const limit = q.limit ?? ctx.config.AUDIT_LOG_PAGE_SIZE;
  const page = q.page ?? 1;
  const w = where(q);
  const cond = [...w.sql];
  const params = [...w.params];
  let offset = 0;
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    params.push(c.ts, c.id);
    const t = `$${params.length - 1}::timestamptz`;
    const i = `$${params.length}`;
    cond.push(`event_timestamp <= ${t}`, `(event_timestamp < ${t} OR id < ${i})`);
  } else {
    offset = (page - 1) * limit;
    const max = ctx.config.AUDIT_LOG_MAX_OFFSET;
    if (offset + limit > max)
      throw new AdminError(
        'invalid',
        `page: ${page} with limit ${limit} reaches row ${offset + limit}, beyond the ${max} rows served by offset (AUDIT_LOG_MAX_OFFSET); page on with cursor=<next_cursor of the previous page>, which serves any depth`,
        { fields: [{ field: 'page', message: `page × limit must not exceed ${max} rows; use cursor` }] },
      );
  }
  const sql = `${SELECT} ${cond.length > 0 ? `WHERE ${cond.join(' AND ')}` : ''}
    ORDER BY event_audit_log.event_timestamp DESC, id DESC LIMIT ${limit + 1} OFFSET ${offset}`;
  const [rows, total] = await Promise.all([
    query<AuditLogRow & { id: string }>(ctx, q.cursor ? 'audit_page_cursor' : 'audit_page', sql, params),
    totalOf(ctx, w),
  ]);
  const more = rows.rows.length > limit;
  const logs = rows.rows.slice(0, limit).map((r) => ({ ...r, id: Number(r.id) }));
  const last = logs[logs.length - 1];
  return {
    logs,
    pagination: {
      page: q.cursor ? 0 : page,
      limit,
      total: total.total,
      pages: Math.ceil(total.total / limit),
      total_is_estimate: total.estimate,
      next_cursor: more && last ? encodeCursor({ ts: last.event_timestamp, id: last.id }) : null,
    },
  };
}

const CSV_COLUMNS = [
  'id',
  'event_timestamp',
  'hostname',
  'matched_rule_id',
  'handling_decision',
  'forwarded_to_moog',
  'raw_message',
] as const;

const csvField = (v: string | number | boolean | null | undefined): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  // Quote what CSV needs quoted; a leading = + - @ is prefixed so spreadsheets do not run it.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** The audit rows of a filter as NDJSON or CSV text chunks, newest first, a keyset page at a time. */
export async function* exportAuditLogs(ctx: AdminContext, input: unknown): AsyncGenerator<string> {
  const q = parseInput(AuditExportQuery, input);
  const format = q.format ?? 'ndjson';
  const w = where(q);
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let cursor: Cursor | undefined;
  for (;;) {
    const cond = [...w.sql];
    const params = [...w.params];
    if (cursor) {
      params.push(cursor.ts, cursor.id);
      const t = `$${params.length - 1}::timestamptz`;
      cond.push(`event_timestamp <= ${t}`, `(event_timestamp < ${t} OR id < $${params.length})`);
    }
    const r = await query<AuditLogRow & { id: string }>(
      ctx,
      'audit_export',
      `${SELECT} ${cond.length > 0 ? `WHERE ${cond.join(' AND ')}` : ''}
       ORDER BY event_audit_log.event_timestamp DESC, id DESC LIMIT ${EXPORT_PAGE}`,
      params,
    );
    if (r.rows.length === 0) return;
    let chunk = '';
    for (const row of r.rows) {
      const out = { ...row, id: Number(row.id) };
      chunk +=
        format === 'csv'
          ? `${CSV_COLUMNS.map((c) => csvField(out[c])).join(',')}\r\n`
          : `${JSON.stringify(out)}\n`;
    }
    yield chunk;
    const last = r.rows[r.rows.length - 1]!;
    cursor = { ts: last.event_timestamp, id: Number(last.id) };
    if (r.rows.length < EXPORT_PAGE) return;
  }
}

// ── configuration change history ─────────────────────────────────────────────────────────────────

export interface ConfigChange {
  id: number;
  changed_at: string | null;
  changed_by: string | null;
  operation: string | null;
  table_name: string | null;
  record_id: number | null;
  old_values: unknown;
  new_values: unknown;
  reason: string | null;
  correlation_id: string | null;
}

/** config_audit_log, newest first, with Python MUTT 2.5's filters. `table` fixes table_name. */
export async function queryConfigAudit(
  ctx: AdminContext,
  input: unknown,
  table?: string,
): Promise<{ changes: ConfigChange[]; pagination: Omit<Pagination, 'next_cursor' | 'total_is_estimate'> }> {
  const q = parseInput(ConfigAuditQuery, input);
  const limit = q.limit ?? ctx.config.AUDIT_LOG_PAGE_SIZE;
  const page = q.page ?? 1;
  const sql: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (table !== undefined) sql.push(`table_name = ${p(table)}`);
  else if (q.table_name !== undefined) sql.push(`table_name = ${p(q.table_name)}`);
  if (q.changed_by !== undefined)
    sql.push(`(changed_by = ${p(q.changed_by)} OR changed_by LIKE ${p(`%${likeEscape(q.changed_by)}`)})`);
  if (q.record_id !== undefined) sql.push(`record_id = ${p(q.record_id)}`);
  if (q.operation !== undefined) sql.push(`operation = ${p(q.operation)}`);
  if (q.start_date) sql.push(`changed_at >= ${p(q.start_date.toISOString())}::timestamptz`);
  if (q.end_date)
    sql.push(
      `changed_at ${q.end_date.exclusive ? '<' : '<='} ${p(q.end_date.at.toISOString())}::timestamptz`,
    );
  const cond = sql.length > 0 ? `WHERE ${sql.join(' AND ')}` : '';
  const [rows, count] = await Promise.all([
    query<Omit<ConfigChange, 'changed_at' | 'id'> & { id: string; changed_at: Date | null }>(
      ctx,
      'config_audit_page',
      `SELECT id, changed_at, changed_by, operation, table_name, record_id, old_values, new_values, reason, correlation_id
         FROM config_audit_log ${cond} ORDER BY id DESC LIMIT ${limit} OFFSET ${(page - 1) * limit}`,
      params,
    ),
    query<{ n: string }>(
      ctx,
      'config_audit_count',
      `SELECT count(*) AS n FROM config_audit_log ${cond}`,
      params,
    ),
  ]);
  const total = Number(count.rows[0]?.n ?? 0);
  return {
    changes: rows.rows.map((r) => ({
      ...r,
      id: Number(r.id),
      changed_at: r.changed_at ? r.changed_at.toISOString() : null,
    })),
    pagination: { page, limit, total, pages: Math.ceil(total / limit) },
  };
}

/**
 * One audit row by id. `at` (its event_timestamp, as the list gives it) lets PostgreSQL read one
 * partition; without it every partition's primary-key index is probed.
 */
export async function getAuditLog(ctx: AdminContext, id: string | number, at?: string): Promise<AuditLogRow> {
  const n = typeof id === 'number' ? id : /^[0-9]{1,18}$/.test(id) ? Number(id) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new AdminError('invalid', `id: expected a positive integer id, got "${String(id)}"`, {
      fields: [{ field: 'id', message: 'expected a positive integer id' }],
    });
  // The list's own form (microseconds, UTC); anything else is ignored rather than misread.
  const when =
    at !== undefined && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(at) ? at : undefined;
  const r = await query<AuditLogRow & { id: string }>(
    ctx,
    'audit_get',
    `${SELECT} WHERE id = $1${when ? ' AND event_timestamp = $2::timestamptz' : ''}`,
    when ? [n, when] : [n],
  );
  const row = r.rows[0];
  if (!row) throw new AdminError('not_found', `audit row ${n} not found`);
  return { ...row, id: Number(row.id) };
}
