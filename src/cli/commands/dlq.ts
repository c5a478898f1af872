// `mutt dlq list|show|replay|purge`: the operator's view of the dead-letter queues, over the admin
// DLQ service (src/core/admin/dlq.ts) that the admin API and the UI call too. Replay follows the same
// rules as remediation: back to the queue the item came from, retry count reset, replay count + 1,
// poison (MAX_POISON_RETRIES replays) to the dead list unless --force. Purge asks for confirmation
// unless --yes. Replays and purges are audited in config_audit_log when PostgreSQL is reachable.
import { createInterface } from 'node:readline';
import {
  type AdminContext,
  browseDlq,
  DLQ_NAMES,
  type DlqItem,
  type DlqName,
  getDlqItem,
  purgeDlqItems,
  replayDlqItems,
} from '../../core/admin/index.ts';
import { dlqKey } from '../../core/queue/dlq.ts';
import { CliError, cliActor, withAdmin as withAdminContext } from '../context.ts';
import { EXIT } from '../exit.ts';

export interface FilterOptions {
  queue?: DlqName;
  reason?: string;
  host?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

function filterOf(o: FilterOptions): { reason?: string; host?: string; since?: string } {
  if (o.since !== undefined && Number.isNaN(new Date(o.since).getTime()))
    throw new CliError(
      `--since "${o.since}": expected an ISO 8601 date or time (2026-11-24T12:00:00Z)`,
      EXIT.USAGE,
    );
  return {
    reason: o.reason,
    host: o.host,
    since: o.since === undefined ? undefined : new Date(o.since).toISOString(),
  };
}

function limitOf(o: FilterOptions, def: number | undefined): number | undefined {
  if (o.limit === undefined) return def;
  if (!/^\d+$/.test(o.limit) || Number(o.limit) < 1)
    throw new CliError(`--limit "${o.limit}": expected a positive integer`, EXIT.USAGE);
  return Number(o.limit);
}

/** DLQ commands audit replays and purges in PostgreSQL when the node's roles use it. */
const withAdmin = <T>(fn: (ctx: AdminContext) => Promise<T>): Promise<T> =>
  withAdminContext(fn, { postgres: true });

const out = (s: string) => process.stdout.write(`${s}\n`);
const short = (s: string | null | undefined, n: number) =>
  s === undefined || s === null ? '-' : s.length > n ? `${s.slice(0, n - 1)}…` : s;

function table(entries: DlqItem[]): string[] {
  const rows = entries.map((e) => [
    String(e.index),
    e.failed_at ?? '-',
    e.code ?? '-',
    short(e.hostname, 24),
    short(e.correlation_id, 36),
    String(e.replay_count),
    short(e.reason, 80),
  ]);
  const head = ['index', 'failed at', 'code', 'host', 'correlation id', 'replays', 'reason'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  return [line(head), ...rows.map(line)];
}

export async function dlqListCommand(o: FilterOptions): Promise<void> {
  const filter = filterOf(o);
  const limit = limitOf(o, 20)!;
  await withAdmin(async (ctx) => {
    const names = o.queue ? [o.queue] : [...DLQ_NAMES];
    const result: Record<string, unknown> = {};
    const lines: string[] = [];
    for (const name of names) {
      const r = await browseDlq(ctx, name, { ...filter, limit: String(limit) });
      result[name] = {
        key: r.key,
        total: r.total,
        matched: r.matched,
        by_code: r.by_code,
        items: r.items.map((e) => ({ index: e.index, id: e.id, ...e.item })),
      };
      const filtered = filter.reason || filter.host || filter.since ? `, ${r.matched} match` : '';
      lines.push(`${r.key}: ${r.total} item${r.total === 1 ? '' : 's'}${filtered}`);
      const codes = Object.entries(r.by_code).sort((a, b) => b[1] - a[1]);
      if (codes.length > 0) lines.push(`  by reason: ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}`);
      if (r.items.length > 0) {
        lines.push(...table(r.items));
        if (r.matched > r.items.length) lines.push(`  … ${r.matched - r.items.length} more (--limit)`);
      }
      lines.push('');
    }
    if (o.json) out(JSON.stringify({ queues: result }));
    else out(lines.join('\n').trimEnd());
  });
}

export async function dlqShowCommand(ref: string, o: { queue?: DlqName; json?: boolean }): Promise<void> {
  await withAdmin(async (ctx) => {
    const queue = o.queue ?? 'moog';
    let e: DlqItem;
    try {
      e = await getDlqItem(ctx, queue, ref);
    } catch (err) {
      if ((err as { code?: string }).code === 'not_found')
        throw new CliError(
          `no item "${ref}" in ${dlqKey(ctx.keys, queue)} (give an index or id from "mutt dlq list" or a correlation id)`,
          EXIT.NOINPUT,
        );
      throw err;
    }
    if (o.json) out(JSON.stringify({ _index: e.index, ...e.item }));
    else
      out(
        '_raw' in e.item && Object.keys(e.item).length === 1
          ? String(e.item._raw)
          : JSON.stringify({ _index: e.index, ...e.item }, null, 2),
      );
  });
}

export async function dlqReplayCommand(
  o: FilterOptions & { queue: DlqName; dryRun?: boolean; force?: boolean; wait?: boolean },
): Promise<void> {
  const filter = filterOf(o);
  const limit = limitOf(o, undefined);
  await withAdmin(async (ctx) => {
    const key = dlqKey(ctx.keys, o.queue);
    const body = { all: true, ...filter, limit, force: o.force, dry_run: o.dryRun };
    const r = await replayDlqItems(ctx, o.queue, body, cliActor());
    // The alerter DLQ is replayed below the low-water mark: step by step, waiting while there is no
    // room (unless --no-wait), until nothing selected is left.
    let said = 0;
    while (!('dry_run' in r) && (r.waiting ?? 0) > 0 && o.wait !== false) {
      if (limit !== undefined && r.matched >= limit) break;
      if (Date.now() - said >= 10_000) {
        said = Date.now();
        process.stderr.write(
          `waiting: ${r.waiting} item(s) wait for the alert and ingest queues to fall below the low-water mark (${r.low_water}); ${r.replayed} replayed so far\n`,
        );
      }
      // Let the alerters take what was just replayed before measuring the room again.
      await new Promise((done) => setTimeout(done, r.matched > 0 ? 250 : 500));
      const step = await replayDlqItems(
        ctx,
        o.queue,
        { ...body, limit: limit === undefined ? undefined : limit - r.matched },
        cliActor(),
      );
      if ('dry_run' in step) break;
      for (const k of ['matched', 'replayed', 'dead', 'removed', 'missing'] as const) r[k] += step[k];
      r.waiting = step.waiting;
      r.audited ||= step.audited;
    }
    if ('dry_run' in r) {
      const total = Object.values(r.would).reduce((a, b) => a + b, 0);
      if (o.json) out(JSON.stringify({ dry_run: true, queue: key, would: r.would }));
      else
        out(
          `dry run: ${total} item(s) of ${key} would go: ${
            Object.entries(r.would)
              .map(([d, n]) => `${n} to ${d}`)
              .join(', ') || 'nowhere'
          }`,
        );
      return;
    }
    const dest =
      o.queue === 'moog'
        ? ctx.keys.alertQueue
        : o.queue === 'alerter'
          ? ctx.keys.ingestQueue
          : 'the queues they came from';
    if (o.json) out(JSON.stringify({ ...r, queue: key }));
    else {
      out(`replayed ${r.replayed} item(s) from ${key} to ${dest}`);
      if (r.dead > 0)
        out(
          `moved ${r.dead} item(s) to ${ctx.keys.deadLetter}: replayed MAX_POISON_RETRIES (${ctx.config.MAX_POISON_RETRIES}) times or never deliverable (--force replays them anyway)`,
        );
      if (r.missing > 0) out(`${r.missing} item(s) were taken by someone else meanwhile`);
      if ((r.waiting ?? 0) > 0 && o.wait === false)
        out(
          `${r.waiting} item(s) wait: the alert and ingest queues are above the low-water mark (${r.low_water}, half of alerter_queue_shed_threshold); run again later, or without --no-wait`,
        );
    }
  });
}

async function confirm(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  process.stderr.write(question);
  try {
    for await (const line of rl) return line.trim();
    return '';
  } finally {
    rl.close();
  }
}

export async function dlqPurgeCommand(
  o: FilterOptions & { queue: DlqName; yes?: boolean; note?: string },
): Promise<void> {
  const filter = filterOf(o);
  const limit = limitOf(o, undefined);
  await withAdmin(async (ctx) => {
    const key = dlqKey(ctx.keys, o.queue);
    if (!o.yes) {
      const r = await browseDlq(ctx, o.queue, { ...filter, limit: '1' });
      const n = limit === undefined ? r.matched : Math.min(limit, r.matched);
      if (n === 0) {
        out(`nothing to purge in ${key}`);
        return;
      }
      const answer = await confirm(
        `About to delete ${n} item(s) from ${key} for good. Type "purge" to confirm: `,
      );
      if (answer !== 'purge')
        throw new CliError('purge cancelled: nothing was deleted (type "purge", or pass --yes)', EXIT.NO);
    }
    const r = await purgeDlqItems(
      ctx,
      o.queue,
      { all: true, ...filter, limit, note: o.note ?? 'purged with mutt dlq purge' },
      cliActor(),
    );
    if (o.json) out(JSON.stringify({ queue: key, removed: r.removed }));
    else out(`deleted ${r.removed} item(s) from ${key}`);
  });
}
