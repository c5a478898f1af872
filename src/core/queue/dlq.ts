// The dead-letter lists (PROTOCOL.md): reading and filtering them, replaying items to the queue they
// came from, moving poison to the dead list, purging. Remediation and the admin DLQ service (which
// `mutt dlq`, the admin API and the UI call) share this code.
//
//   mutt:dlq:moog    ──replay──► mutt:alert_queue   (_moog_retry_count = 0, _replay_count + 1)
//   mutt:dlq:alerter ──replay──► mutt:ingest_queue  (_retry_count = 0, _replay_count + 1; operator only)
//   either, once _replay_count reached MAX_POISON_RETRIES, or never deliverable ──► mutt:dlq:dead
//   mutt:dlq:dead    ──replay──► the queue it came from (_dead_from), _replay_count reset (operator only)
//
// Replays into the ingest queue are paced by replayHeadroom(): never more than the low-water mark of
// the alert-queue shed threshold, so a replay cannot make the alerter shed again.
//
// Every move goes through move-4.lua with the exact item string, oldest first: an item is pushed to
// its destination only if it was still in the list, so two replays racing (two nodes, or remediation
// and an operator) never duplicate an item. Producers LPUSH, so index 0 is the newest item, as
// `redis-cli LINDEX` counts.
import { createHash } from 'node:crypto';
import { parseJsonLenient } from '../protocol/json.ts';
import { isSecretKey } from '../protocol/secrets.ts';
import type { Keys } from '../protocol/keys.ts';
import type { ScriptedRedis } from '../protocol/scripts.ts';

export const DLQ_NAMES = ['moog', 'alerter', 'dead'] as const;
export type DlqName = (typeof DLQ_NAMES)[number];

export function dlqKey(keys: Pick<Keys, 'moogDlq' | 'alerterDlq' | 'deadLetter'>, name: DlqName): string {
  return name === 'moog' ? keys.moogDlq : name === 'alerter' ? keys.alerterDlq : keys.deadLetter;
}

/** Moogsoft DLQ codes of items that no replay can deliver (they go straight to the dead list). */
const UNDELIVERABLE = new Set(['invalid_json', 'invalid_alert', 'render_failed']);

/** A stable id of a DLQ item: the first 16 hex digits of the SHA-1 of its exact text. */
export const dlqItemId = (raw: string): string => createHash('sha1').update(raw).digest('hex').slice(0, 16);

export interface DlqEntry {
  /** Position counted from the newest (LINDEX index) when it was read. */
  index: number;
  /** dlqItemId(raw): selects this item for a replay or purge whatever its position by then. */
  id: string;
  raw: string;
  item?: Record<string, unknown>;
  reason?: string;
  code?: string;
  failedAt?: string;
  hostname?: string;
  correlationId?: string;
  replayCount: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
/** A reason field as text, whatever another implementation put there. */
const text = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v);

function parseObject(raw: string): Record<string, unknown> | undefined {
  try {
    const v = parseJsonLenient(raw);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function describeEntry(raw: string, index: number): DlqEntry {
  const item = parseObject(raw);
  const id = dlqItemId(raw);
  if (!item) return { index, id, raw, reason: 'not a JSON object', code: 'invalid_json', replayCount: 0 };
  const event =
    item.raw_json && typeof item.raw_json === 'object'
      ? (item.raw_json as Record<string, unknown>)
      : undefined;
  const replay = item._replay_count;
  return {
    index,
    id,
    raw,
    item,
    reason: str(item._dead_reason) ?? str(item._dlq_reason) ?? str(item.shedding_reason),
    code: str(item._dlq_code),
    failedAt: str(item._dead_at) ?? str(item._failed_at),
    hostname: str(item.hostname) ?? str(event?.hostname),
    correlationId: str(item._correlation_id) ?? str(event?._correlation_id),
    replayCount: typeof replay === 'number' && Number.isInteger(replay) && replay >= 0 ? replay : 0,
  };
}

export interface DlqFilter {
  /** Case-insensitive substring of the reason or the reason code. */
  reason?: string;
  /** Exact host name. */
  host?: string;
  /** Failed at or after this instant. */
  since?: Date;
  /** Only these items (dlqItemId). */
  ids?: ReadonlySet<string>;
}

export function matches(e: DlqEntry, f: DlqFilter): boolean {
  if (f.ids && !f.ids.has(e.id)) return false;
  if (f.reason) {
    const needle = f.reason.toLowerCase();
    if (!`${e.reason ?? ''} ${e.code ?? ''}`.toLowerCase().includes(needle)) return false;
  }
  if (f.host && e.hostname !== f.host) return false;
  if (f.since) {
    const t = e.failedAt ? Date.parse(e.failedAt) : Number.NaN;
    if (Number.isNaN(t) || t < f.since.getTime()) return false;
  }
  return true;
}

const isEmpty = (f: DlqFilter) => !f.reason && !f.host && !f.since && !f.ids;

export interface ListResult {
  total: number;
  matched: number;
  /** Matching items per reason code (`_dlq_code`; `dead` items by where they came from). */
  byCode: Record<string, number>;
  /** Newest first, at most `limit`, after skipping `offset` matches. */
  entries: DlqEntry[];
}

/**
 * Reads a whole DLQ newest first: the total, how many match, per-code counts, and `limit` matches
 * after the first `offset`.
 */
export async function listDlq(
  redis: ScriptedRedis,
  key: string,
  filter: DlqFilter = {},
  limit = 20,
  pageSize = 500,
  offset = 0,
): Promise<ListResult> {
  const total = await redis.llen(key);
  const entries: DlqEntry[] = [];
  const byCode: Record<string, number> = {};
  let matched = 0;
  for (let start = 0; start < total; start += pageSize) {
    const page = await redis.lrange(key, start, start + pageSize - 1);
    if (page.length === 0) break;
    page.forEach((raw, i) => {
      const e = describeEntry(raw, start + i);
      if (!matches(e, filter)) return;
      matched++;
      const code =
        e.code ?? (typeof e.item?._dead_from === 'string' ? `from_${e.item._dead_from}` : 'unknown');
      byCode[code] = (byCode[code] ?? 0) + 1;
      if (matched > offset && entries.length < limit) entries.push(e);
    });
  }
  return { total, matched, byCode, entries };
}

/** One item by LINDEX index, by item id (dlqItemId) or by correlation id. */
export async function findDlqEntry(
  redis: ScriptedRedis,
  key: string,
  ref: string,
  pageSize = 500,
): Promise<DlqEntry | undefined> {
  if (/^\d+$/.test(ref)) {
    const raw = await redis.lindex(key, Number(ref));
    return raw === null ? undefined : describeEntry(raw, Number(ref));
  }
  const total = await redis.llen(key);
  for (let start = 0; start < total; start += pageSize) {
    const page = await redis.lrange(key, start, start + pageSize - 1);
    const i = page.findIndex((raw) => {
      const e = describeEntry(raw, 0);
      return e.id === ref || e.correlationId === ref;
    });
    if (i >= 0) return describeEntry(page[i]!, start + i);
  }
  return undefined;
}

type Destination = 'alert_queue' | 'ingest_queue' | 'dead';

/** Where a replayed item goes and in what form (pure; the clock is passed in). */
export function replayForm(
  raw: string,
  from: DlqName,
  o: { maxPoison: number; now: Date; force?: boolean },
): { to: Destination; item: string } {
  const item = parseObject(raw);
  const dead = (reason: string) => ({
    to: 'dead' as const,
    item: JSON.stringify({
      ...(item ?? { _raw: raw }),
      _dead_reason: reason,
      _dead_from: from === 'dead' ? (item?._dead_from ?? 'unknown') : from,
      _dead_at: o.now.toISOString(),
    }),
  });
  if (from === 'dead') {
    // An operator's decision: back to where it came from, with a fresh replay budget.
    const origin = item?._dead_from ?? (item && 'message_body' in item ? 'moog' : 'alerter');
    const to: Destination = origin === 'moog' ? 'alert_queue' : 'ingest_queue';
    if (!item) return { to, item: raw };
    if (typeof item._raw === 'string' && Object.keys(item).every((k) => k === '_raw' || k.startsWith('_')))
      return { to, item: item._raw };
    const out = strip(item, [
      '_dead_reason',
      '_dead_from',
      '_dead_at',
      '_dlq_reason',
      '_dlq_code',
      '_dlq_status',
    ]);
    out._replay_count = 0;
    if (to === 'alert_queue') {
      out._moog_retry_count = 0;
      withoutSecrets(out);
    } else out._retry_count = 0;
    return { to, item: JSON.stringify(out) };
  }
  if (!item || (typeof item._raw === 'string' && !('hostname' in item)))
    return dead('not a JSON object: it cannot be replayed');
  const code = typeof item._dlq_code === 'string' ? item._dlq_code : '';
  if (from === 'moog' && UNDELIVERABLE.has(code))
    return dead(`never deliverable (${code}): ${text(item._dlq_reason) ?? ''}`);
  const replays = typeof item._replay_count === 'number' ? item._replay_count : 0;
  if (replays >= o.maxPoison && !o.force)
    return dead(
      `replayed ${replays} times (MAX_POISON_RETRIES=${o.maxPoison}); last failure: ${text(item._dlq_reason) ?? 'unknown'}`,
    );
  const last = item._dlq_reason;
  const common = ['_dlq_reason', '_dlq_code', '_dlq_status', '_failed_at'];
  if (from === 'moog') {
    // A Moogsoft key a Python forwarder copied into the alert does not go back on the queue.
    const out = withoutSecrets(strip(item, [...common, '_moog_retry_at', '_moog_last_error']));
    out._moog_retry_count = 0;
    out._replay_count = o.force ? 1 : replays + 1;
    if (last !== undefined) out._last_dlq_reason = last;
    return { to: 'alert_queue', item: JSON.stringify(out) };
  }
  const out = strip(item, [...common, 'shedding_reason']);
  out._retry_count = 0;
  out._replay_count = o.force ? 1 : replays + 1;
  if (last !== undefined) out._last_dlq_reason = last;
  return { to: 'ingest_queue', item: JSON.stringify(out) };
}

/** Removes credential-looking top-level keys (in place) and returns the object. */
function withoutSecrets(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (isSecretKey(k)) delete o[k];
  return o;
}

function strip(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out = { ...o };
  for (const k of keys) delete out[k];
  return out;
}

export interface MoveResult {
  /** Items read that matched. */
  matched: number;
  /** Sent back to a queue. */
  replayed: number;
  /** Sent to the dead list. */
  dead: number;
  /** Removed (purge). */
  removed: number;
  /** Gone before we moved them (another replay or purge took them). */
  missing: number;
}

interface WalkOptions {
  filter?: DlqFilter;
  /** Only items this accepts (besides the filter), e.g. shed events for self-healing. */
  select?: (e: DlqEntry) => boolean;
  /** Most items to act on. */
  limit?: number;
  pageSize?: number;
}

/**
 * Visits a list from the oldest item, a page at a time, and applies `act` to the matching items of
 * each page with one move-4 call. Acted-on items leave the list, so paging counts only the others.
 */
async function walk(
  redis: ScriptedRedis,
  key: string,
  dests: [string, string, string],
  o: WalkOptions,
  act: (raw: string) => [op: string, replacement: string],
  tally: (op: string) => void,
): Promise<{ matched: number; found: number; missing: number }> {
  const filter = o.filter ?? {};
  const pageSize = o.pageSize ?? 500;
  let limit = o.limit ?? Number.POSITIVE_INFINITY;
  // New failures are pushed at the other end while we work: never act on more than was there.
  limit = Math.min(limit, await redis.llen(key));
  let offset = 0; // from the tail
  let matched = 0;
  let found = 0;
  let missing = 0;
  while (matched < limit) {
    const page = await redis.lrange(key, -(offset + pageSize), -(offset + 1));
    if (page.length === 0) break;
    const triples: string[] = [];
    const ops: string[] = [];
    // LRANGE gives the page newest first; act oldest first.
    for (let i = page.length - 1; i >= 0 && matched < limit; i--) {
      const raw = page[i]!;
      const e = describeEntry(raw, 0);
      if (!matches(e, filter) || (o.select && !o.select(e))) continue;
      matched++;
      const [op, replacement] = act(raw);
      triples.push(op, raw, replacement);
      ops.push(op);
    }
    if (triples.length > 0) {
      const [f, m, gone] = await redis.muttMove(key, dests[0], dests[1], dests[2], -1, ...triples);
      found += f;
      missing += m;
      const skip = new Set(gone);
      ops.forEach((op, i) => {
        if (!skip.has(i + 1)) tally(op);
      });
    }
    // Matched items left the list (moved by us, or by someone racing us); the others stay.
    offset += page.length - ops.length;
    if (page.length < pageSize) break;
  }
  return { matched, found, missing };
}

/** An event the alerter shed under backpressure (MUTT's `_dlq_code`, or Python MUTT's `shedding_reason`). */
export function isShed(e: DlqEntry): boolean {
  return e.code === 'shed' || (e.code === undefined && typeof e.item?.shedding_reason === 'string');
}

/** Half the alert-queue shed threshold: below it, replays into the ingest queue may resume. */
export function lowWaterMark(shedThreshold: number): number {
  return Math.floor(shedThreshold / 2);
}

/**
 * How many events may be replayed into the ingest queue now without the alert queue reaching the
 * shed threshold because of them: the low-water mark less what the alert and ingest queues hold
 * (each ingest event makes at most one alert). 0 while the pressure lasts. Events the alerters hold
 * in hand (two batches per worker) count in neither queue: the other half of the threshold covers
 * them.
 */
export async function replayHeadroom(
  redis: ScriptedRedis,
  keys: Pick<Keys, 'alertQueue' | 'ingestQueue'>,
  lowWater: number,
): Promise<{ headroom: number; alertQueue: number; ingestQueue: number }> {
  const [alertQueue, ingestQueue] = await Promise.all([
    redis.llen(keys.alertQueue),
    redis.llen(keys.ingestQueue),
  ]);
  return { headroom: Math.max(0, lowWater - alertQueue - ingestQueue), alertQueue, ingestQueue };
}

export interface ReplayOptions extends WalkOptions {
  maxPoison: number;
  now?: () => Date;
  /** Replay even items whose replay budget is spent (operator override). */
  force?: boolean;
}

/** Replays items of a DLQ to the queue they came from, oldest first; poison goes to the dead list. */
export async function replayDlq(
  redis: ScriptedRedis,
  keys: Pick<Keys, 'moogDlq' | 'alerterDlq' | 'deadLetter' | 'alertQueue' | 'ingestQueue'>,
  from: DlqName,
  o: ReplayOptions,
): Promise<MoveResult> {
  const now = o.now ?? (() => new Date());
  const r: MoveResult = { matched: 0, replayed: 0, dead: 0, removed: 0, missing: 0 };
  const opFor: Record<Destination, string> = { alert_queue: 'L2', ingest_queue: 'L3', dead: 'L4' };
  const w = await walk(
    redis,
    dlqKey(keys, from),
    [keys.alertQueue, keys.ingestQueue, keys.deadLetter],
    o,
    (raw) => {
      const f = replayForm(raw, from, { maxPoison: o.maxPoison, now: now(), force: o.force });
      return [opFor[f.to], f.item];
    },
    (op) => {
      if (op === 'L4') r.dead++;
      else r.replayed++;
    },
  );
  r.matched = w.matched;
  r.missing = w.missing;
  return r;
}

/** Removes items from a DLQ: everything (atomically, counted) or those matching the filter. */
export async function purgeDlq(redis: ScriptedRedis, key: string, o: WalkOptions = {}): Promise<MoveResult> {
  if (isEmpty(o.filter ?? {}) && o.limit === undefined) {
    const replies = await redis.multi().llen(key).del(key).exec();
    const n = Number(replies?.[0]?.[1] ?? 0);
    return { matched: n, replayed: 0, dead: 0, removed: n, missing: 0 };
  }
  const r: MoveResult = { matched: 0, replayed: 0, dead: 0, removed: 0, missing: 0 };
  const w = await walk(
    redis,
    key,
    [key, key, key],
    o,
    () => ['-', ''],
    () => r.removed++,
  );
  r.matched = w.matched;
  r.missing = w.missing;
  return r;
}
