// The dead-letter queues as the operator works with them: depths, browsing without removing, replay
// of all or selected items, purge of selected items with a reason. One implementation for the admin
// API, the UI and `mutt dlq`; the moves themselves are core/queue/dlq.ts (shared with remediation),
// atomic per item, so two replays racing never duplicate an item. Every replay and purge is written
// to config_audit_log (table_name `dlq`), or to the log when PostgreSQL is down: the DLQs live in
// Redis and stay manageable without it. A replay of the alerter DLQ moves no more than fits below the
// low-water mark (half of alerter_queue_shed_threshold, counting the alert and ingest queues), so it
// can never make the alerter shed; what does not fit yet is reported as `waiting`.
import { DynamicConfig } from '../config/dynamic.ts';
import {
  DLQ_NAMES,
  type DlqEntry,
  type DlqFilter,
  type DlqName,
  dlqKey,
  findDlqEntry,
  listDlq,
  lowWaterMark,
  type MoveResult,
  purgeDlq,
  replayDlq,
  replayForm,
  replayHeadroom,
} from '../queue/dlq.ts';
import type { Actor, AdminContext } from './context.ts';
import { nowOf, redisCall, transaction } from './context.ts';
import { auditChange } from './changes.ts';
import { AdminError, notFound } from './errors.ts';
import { DlqBrowseQuery, DlqName as DlqNameSchema, DlqPurge, DlqReplay, parseInput } from './schemas.ts';

export { DLQ_NAMES, type DlqName };

export interface DlqItem {
  id: string;
  /** Position from the newest (0) when read. */
  index: number;
  failed_at: string | null;
  code: string | null;
  reason: string | null;
  hostname: string | null;
  correlation_id: string | null;
  replay_count: number;
  /** The item as stored (or `{_raw}` when it is not a JSON object). */
  item: Record<string, unknown>;
}

export const dlqItemOut = (e: DlqEntry): DlqItem => ({
  id: e.id,
  index: e.index,
  failed_at: e.failedAt ?? null,
  code: e.code ?? null,
  reason: e.reason ?? null,
  hostname: e.hostname ?? null,
  correlation_id: e.correlationId ?? null,
  replay_count: e.replayCount,
  item: e.item ?? { _raw: e.raw },
});

export function checkDlqName(name: string): DlqName {
  return parseInput(DlqNameSchema, name, 'name');
}

export interface DlqDepth {
  key: string;
  depth: number;
  /** _failed_at of the oldest item (null: empty or unknown). */
  oldest_failed_at: string | null;
}

export async function dlqDepths(ctx: AdminContext): Promise<Record<DlqName, DlqDepth>> {
  return redisCall(async () => {
    const p = ctx.redis.pipeline();
    for (const n of DLQ_NAMES) p.llen(dlqKey(ctx.keys, n)).lindex(dlqKey(ctx.keys, n), -1);
    const r = (await p.exec()) ?? [];
    const out = {} as Record<DlqName, DlqDepth>;
    DLQ_NAMES.forEach((n, i) => {
      const oldest = r[i * 2 + 1]?.[1] as string | null | undefined;
      let failed: string | null = null;
      if (oldest) {
        try {
          const o = JSON.parse(oldest) as { _failed_at?: unknown; _dead_at?: unknown };
          const t = o._dead_at ?? o._failed_at;
          failed = typeof t === 'string' ? t : null;
        } catch {
          failed = null;
        }
      }
      out[n] = { key: dlqKey(ctx.keys, n), depth: Number(r[i * 2]?.[1] ?? 0), oldest_failed_at: failed };
    });
    return out;
  });
}

function sinceOf(s: string | undefined): Date | undefined {
  if (s === undefined) return undefined;
  const d = new Date(s);
  if (Number.isNaN(d.getTime()))
    throw new AdminError('invalid', `since: expected an ISO 8601 date or time, got "${s}"`, {
      fields: [{ field: 'since', message: 'expected an ISO 8601 date or time' }],
    });
  return d;
}

export interface DlqPage {
  queue: DlqName;
  key: string;
  total: number;
  matched: number;
  by_code: Record<string, number>;
  offset: number;
  limit: number;
  items: DlqItem[];
}

/** Items newest first, without removing them. `input` is the query string (DlqBrowseQuery). */
export async function browseDlq(ctx: AdminContext, name: string, input: unknown = {}): Promise<DlqPage> {
  const queue = checkDlqName(name);
  const q = parseInput(DlqBrowseQuery, input);
  const limit = q.limit ?? 50;
  const offset = q.offset ?? 0;
  const key = dlqKey(ctx.keys, queue);
  const r = await redisCall(() =>
    listDlq(ctx.redis, key, { reason: q.reason, host: q.host, since: q.since }, limit, 500, offset),
  );
  return {
    queue,
    key,
    total: r.total,
    matched: r.matched,
    by_code: r.byCode,
    offset,
    limit,
    items: r.entries.map(dlqItemOut),
  };
}

/** One item by id (from browse), index or correlation id. */
export async function getDlqItem(ctx: AdminContext, name: string, ref: string): Promise<DlqItem> {
  const queue = checkDlqName(name);
  const e = await redisCall(() => findDlqEntry(ctx.redis, dlqKey(ctx.keys, queue), ref));
  if (!e) throw notFound(`item "${ref}" in the ${queue} DLQ`);
  return dlqItemOut(e);
}

function selection(b: {
  ids?: string[];
  all?: boolean;
  reason?: string;
  host?: string;
  since?: string;
}): DlqFilter {
  if (!b.all && (b.ids === undefined || b.ids.length === 0))
    throw new AdminError('invalid', 'ids: give the ids of the items to act on, or "all": true', {
      fields: [{ field: 'ids', message: 'give item ids, or "all": true' }],
    });
  return {
    ids: b.all ? undefined : new Set(b.ids),
    reason: b.reason,
    host: b.host,
    since: sinceOf(b.since),
  };
}

async function audit(
  ctx: AdminContext,
  actor: Actor,
  operation: 'UPDATE' | 'DELETE',
  values: Record<string, unknown>,
  note: string | undefined,
): Promise<boolean> {
  const line = { ...values, changed_by: actor.changedBy, correlation_id: actor.correlationId, reason: note };
  if (ctx.pool) {
    try {
      await transaction(ctx, 'audit_dlq', (client) =>
        auditChange(client, actor, { table: 'dlq', operation, newValues: values, reason: note }),
      );
      ctx.log?.info(line, operation === 'DELETE' ? 'DLQ items purged' : 'DLQ items replayed');
      return true;
    } catch (err) {
      ctx.log?.warn(
        { err: (err as Error).message },
        'writing the DLQ audit row failed; the log line below is the record',
      );
    }
  }
  const msg = operation === 'DELETE' ? 'DLQ items purged' : 'DLQ items replayed';
  if (ctx.pool) ctx.log?.warn({ ...line, audit: 'log only' }, msg);
  else ctx.log?.info({ ...line, audit: 'log only' }, msg);
  return false;
}

export interface ReplayResult extends MoveResult {
  queue: DlqName;
  /** Where the items went: alert_queue, ingest_queue, or dead (poison). */
  to: string;
  audited: boolean;
  /** Alerter DLQ: the low-water mark the replay kept below. */
  low_water?: number;
  /** Alerter DLQ: selected items left for a later replay, because the queues are above the mark. */
  waiting?: number;
}

export type DryRun = { queue: DlqName; dry_run: true; would: Record<string, number> };

/** Replays all or selected items to the queue they came from (`input`: DlqReplay). */
export async function replayDlqItems(
  ctx: AdminContext,
  name: string,
  input: unknown,
  actor: Actor,
): Promise<ReplayResult | DryRun> {
  const queue = checkDlqName(name);
  const b = parseInput(DlqReplay, input);
  const filter = selection(b);
  const key = dlqKey(ctx.keys, queue);
  const maxPoison = ctx.config.MAX_POISON_RETRIES;
  if (b.dry_run) {
    const r = await redisCall(() => listDlq(ctx.redis, key, filter, b.limit ?? Number.MAX_SAFE_INTEGER));
    const would: Record<string, number> = {};
    for (const e of r.entries) {
      const f = replayForm(e.raw, queue, { maxPoison, now: nowOf(ctx), force: b.force });
      would[f.to] = (would[f.to] ?? 0) + 1;
    }
    return { queue, dry_run: true, would };
  }
  // Into the ingest queue, never more than fits below the low-water mark.
  let limit = b.limit;
  let lowWater: number | undefined;
  if (queue === 'alerter') {
    const dynamic = new DynamicConfig({ redis: ctx.redis, keys: ctx.keys, config: ctx.config });
    await redisCall(() => dynamic.refresh());
    lowWater = lowWaterMark(dynamic.get('alerter_queue_shed_threshold'));
    const room = await redisCall(() => replayHeadroom(ctx.redis, ctx.keys, lowWater!));
    limit = Math.min(limit ?? Number.POSITIVE_INFINITY, room.headroom);
  }
  const r: MoveResult =
    limit === 0
      ? { matched: 0, replayed: 0, dead: 0, removed: 0, missing: 0 }
      : await redisCall(() =>
          replayDlq(ctx.redis, ctx.keys, queue, {
            filter,
            limit,
            maxPoison,
            force: b.force,
            now: () => nowOf(ctx),
          }),
        );
  const paced =
    lowWater === undefined
      ? {}
      : { low_water: lowWater, waiting: (await redisCall(() => listDlq(ctx.redis, key, filter, 0))).matched };
  const to =
    queue === 'moog' ? 'alert_queue' : queue === 'alerter' ? 'ingest_queue' : 'the queues they came from';
  // A paced replay that had no room moved nothing: nothing to record.
  if (r.matched === 0 && lowWater !== undefined) return { queue, to, audited: false, ...r, ...paced };
  const audited = await audit(
    ctx,
    actor,
    'UPDATE',
    { action: 'replay', queue, key, ids: b.ids, all: b.all === true, force: b.force === true, ...r },
    b.note ?? actor.reason,
  );
  return { queue, to, audited, ...r, ...paced };
}

/** Deletes all or selected items for good, with a reason (`input`: DlqPurge). */
export async function purgeDlqItems(
  ctx: AdminContext,
  name: string,
  input: unknown,
  actor: Actor,
): Promise<{ queue: DlqName; removed: number; missing: number; audited: boolean }> {
  const queue = checkDlqName(name);
  const b = parseInput(DlqPurge, input);
  const filter = selection(b);
  const key = dlqKey(ctx.keys, queue);
  const r = await redisCall(() => purgeDlq(ctx.redis, key, { filter, limit: b.limit }));
  const audited = await audit(
    ctx,
    actor,
    'DELETE',
    { action: 'purge', queue, key, ids: b.ids, all: b.all === true, removed: r.removed, missing: r.missing },
    b.note,
  );
  return { queue, removed: r.removed, missing: r.missing, audited };
}
