// `mutt dlq list|show|replay|purge`: the operator's view of the dead-letter queues. Replay follows the
// same rules as remediation (src/forwarder/dlq.ts): back to the queue the item came from, retry count
// reset, replay count + 1, poison (MAX_POISON_RETRIES replays) to the dead list unless --force.
// Purge asks for confirmation unless --yes.
import { createInterface } from 'node:readline';
import { Keys } from '../../core/protocol/keys.ts';
import { type ScriptedRedis, withScripts } from '../../core/protocol/scripts.ts';
import { DynamicConfig } from '../../core/config/dynamic.ts';
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
  type ReplayOptions,
  replayHeadroom,
} from '../../forwarder/dlq.ts';
import type { Config } from '../../runtime/config/load.ts';
import { CliError, cliLogger, connectRedis, loadConfigOrExit } from '../context.ts';

export interface FilterOptions {
  queue?: DlqName;
  reason?: string;
  host?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

function filterOf(o: FilterOptions): DlqFilter {
  let since: Date | undefined;
  if (o.since !== undefined) {
    since = new Date(o.since);
    if (Number.isNaN(since.getTime()))
      throw new CliError(`--since "${o.since}": expected an ISO 8601 date or time (2026-11-24T12:00:00Z)`, 2);
  }
  return { reason: o.reason, host: o.host, since };
}

function limitOf(o: FilterOptions, def: number | undefined): number | undefined {
  if (o.limit === undefined) return def;
  if (!/^\d+$/.test(o.limit) || Number(o.limit) < 1)
    throw new CliError(`--limit "${o.limit}": expected a positive integer`, 2);
  return Number(o.limit);
}

async function withRedis<T>(
  fn: (redis: ScriptedRedis, keys: Keys, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfigOrExit();
  const redis = withScripts(await connectRedis(config, cliLogger(config)));
  try {
    return await fn(redis, new Keys(config), config);
  } finally {
    redis.disconnect();
  }
}

const out = (s: string) => process.stdout.write(`${s}\n`);
const short = (s: string | undefined, n: number) =>
  s === undefined ? '-' : s.length > n ? `${s.slice(0, n - 1)}…` : s;

function table(entries: DlqEntry[]): string[] {
  const rows = entries.map((e) => [
    String(e.index),
    e.failedAt ?? '-',
    e.code ?? '-',
    short(e.hostname, 24),
    short(e.correlationId, 36),
    String(e.replayCount),
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
  await withRedis(async (redis, keys) => {
    const names = o.queue ? [o.queue] : [...DLQ_NAMES];
    const result: Record<string, unknown> = {};
    const lines: string[] = [];
    for (const name of names) {
      const key = dlqKey(keys, name);
      const r = await listDlq(redis, key, filter, limit);
      result[name] = {
        key,
        total: r.total,
        matched: r.matched,
        by_code: r.byCode,
        items: r.entries.map((e) => ({ index: e.index, ...(e.item ?? { _raw: e.raw }) })),
      };
      const filtered = filter.reason || filter.host || filter.since ? `, ${r.matched} match` : '';
      lines.push(`${key}: ${r.total} item${r.total === 1 ? '' : 's'}${filtered}`);
      const codes = Object.entries(r.byCode).sort((a, b) => b[1] - a[1]);
      if (codes.length > 0) lines.push(`  by reason: ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}`);
      if (r.entries.length > 0) {
        lines.push(...table(r.entries));
        if (r.matched > r.entries.length) lines.push(`  … ${r.matched - r.entries.length} more (--limit)`);
      }
      lines.push('');
    }
    if (o.json) out(JSON.stringify({ queues: result }));
    else out(lines.join('\n').trimEnd());
  });
}

export async function dlqShowCommand(ref: string, o: { queue?: DlqName }): Promise<void> {
  await withRedis(async (redis, keys) => {
    const key = dlqKey(keys, o.queue ?? 'moog');
    const e = await findDlqEntry(redis, key, ref);
    if (!e)
      throw new CliError(
        `no item "${ref}" in ${key} (give an index from "mutt dlq list" or a correlation id)`,
        1,
      );
    out(e.item ? JSON.stringify({ _index: e.index, ...e.item }, null, 2) : e.raw);
  });
}

/**
 * Replays the alerter DLQ into the ingest queue in steps no larger than the room below the low-water
 * mark (half of alerter_queue_shed_threshold, less what the alert and ingest queues hold), waiting
 * while there is none (unless `wait` is false), so the replay itself never makes the alerter shed.
 */
async function replayPaced(
  redis: ScriptedRedis,
  keys: Keys,
  config: Config,
  opts: ReplayOptions,
  wait: boolean,
): Promise<MoveResult & { left: boolean }> {
  const dynamic = new DynamicConfig({ redis, keys, config });
  const total: MoveResult & { left: boolean } = {
    matched: 0,
    replayed: 0,
    dead: 0,
    removed: 0,
    missing: 0,
    left: false,
  };
  let said = 0;
  for (;;) {
    const want = (opts.limit ?? Number.POSITIVE_INFINITY) - total.matched;
    if (want <= 0) return total;
    await dynamic.refresh();
    const lowWater = lowWaterMark(dynamic.get('alerter_queue_shed_threshold'));
    const room = await replayHeadroom(redis, keys, lowWater);
    if (room.headroom === 0) {
      if ((await listDlq(redis, keys.alerterDlq, opts.filter, 0)).matched === 0) return total;
      if (!wait) return { ...total, left: true };
      if (Date.now() - said >= 10_000) {
        said = Date.now();
        process.stderr.write(
          `waiting: the alert queue (${room.alertQueue}) and the ingest queue (${room.ingestQueue}) hold more than the low-water mark (${lowWater}); ${total.replayed} replayed so far\n`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const step = Math.min(want, room.headroom);
    const r = await replayDlq(redis, keys, 'alerter', { ...opts, limit: step });
    for (const k of ['matched', 'replayed', 'dead', 'removed', 'missing'] as const) total[k] += r[k];
    if (r.matched < step) return total;
    // Let the alerters take and settle what was just replayed before measuring the room again.
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function dlqReplayCommand(
  o: FilterOptions & { queue: DlqName; dryRun?: boolean; force?: boolean; wait?: boolean },
): Promise<void> {
  const filter = filterOf(o);
  const limit = limitOf(o, undefined);
  await withRedis(async (redis, keys, config) => {
    const key = dlqKey(keys, o.queue);
    if (o.dryRun) {
      const r = await listDlq(redis, key, filter, limit ?? Number.MAX_SAFE_INTEGER);
      const to: Record<string, number> = {};
      for (const e of r.entries) {
        const f = replayForm(e.raw, o.queue, {
          maxPoison: config.MAX_POISON_RETRIES,
          now: new Date(),
          force: o.force,
        });
        to[f.to] = (to[f.to] ?? 0) + 1;
      }
      if (o.json) out(JSON.stringify({ dry_run: true, queue: key, would: to }));
      else
        out(
          `dry run: ${r.entries.length} item(s) of ${key} would go: ${
            Object.entries(to)
              .map(([d, n]) => `${n} to ${d}`)
              .join(', ') || 'nowhere'
          }`,
        );
      return;
    }
    const opts = { filter, limit, maxPoison: config.MAX_POISON_RETRIES, force: o.force };
    const r =
      o.queue === 'alerter'
        ? await replayPaced(redis, keys, config, opts, o.wait !== false)
        : await replayDlq(redis, keys, o.queue, opts);
    const dest =
      o.queue === 'moog'
        ? keys.alertQueue
        : o.queue === 'alerter'
          ? keys.ingestQueue
          : 'the queues they came from';
    if (o.json) out(JSON.stringify({ queue: key, ...r }));
    else {
      out(`replayed ${r.replayed} item(s) from ${key} to ${dest}`);
      if (r.dead > 0)
        out(
          `moved ${r.dead} item(s) to ${keys.deadLetter}: replayed MAX_POISON_RETRIES (${config.MAX_POISON_RETRIES}) times or never deliverable (--force replays them anyway)`,
        );
      if (r.missing > 0) out(`${r.missing} item(s) were taken by someone else meanwhile`);
      if ('left' in r && r.left)
        out(
          `the rest waits: the alert and ingest queues are above the low-water mark (half of alerter_queue_shed_threshold); run again later, or without --no-wait`,
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

export async function dlqPurgeCommand(o: FilterOptions & { queue: DlqName; yes?: boolean }): Promise<void> {
  const filter = filterOf(o);
  const limit = limitOf(o, undefined);
  await withRedis(async (redis, keys) => {
    const key = dlqKey(keys, o.queue);
    if (!o.yes) {
      const r = await listDlq(redis, key, filter, 0);
      const n = limit === undefined ? r.matched : Math.min(limit, r.matched);
      if (n === 0) {
        out(`nothing to purge in ${key}`);
        return;
      }
      const answer = await confirm(
        `About to delete ${n} item(s) from ${key} for good. Type "purge" to confirm: `,
      );
      if (answer !== 'purge')
        throw new CliError('purge cancelled: nothing was deleted (type "purge", or pass --yes)', 1);
    }
    const r = await purgeDlq(redis, key, { filter, limit });
    if (o.json) out(JSON.stringify({ queue: key, removed: r.removed }));
    else out(`deleted ${r.removed} item(s) from ${key}`);
  });
}
