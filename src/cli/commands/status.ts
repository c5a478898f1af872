// `mutt status`: queues, pods (every alerter and forwarder with its processing list and heartbeat),
// the Moogsoft circuit breaker and rate limit, the DLQs and the Python parity (compat) mode, from the admin status service
// (src/core/admin/status.ts) that GET /api/v2/status answers with too. `--peek N` also prints the
// newest events of the ingest queue.
import { status as statusReport } from '../../core/admin/index.ts';
import { compatStatus, describeCompat } from '../../core/config/compat.ts';
import { CliError, withAdmin } from '../context.ts';
import { EXIT } from '../exit.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);

export async function statusCommand(opts: { peek?: string; json?: boolean }): Promise<void> {
  if (opts.peek !== undefined && !/^\d+$/.test(opts.peek))
    throw new CliError(`--peek "${opts.peek}": expected a number of events`, EXIT.USAGE);
  const peek = Math.min(1000, Number(opts.peek ?? 0));
  await withAdmin(
    async (ctx) => {
      const r = await statusReport(ctx);
      const newest = peek > 0 ? await ctx.redis.lrange(ctx.keys.ingestQueue, 0, peek - 1) : [];
      const compat = await compatStatus(ctx.config, ctx.redis, ctx.keys);
      if (opts.json) {
        out(JSON.stringify({ ...r, compat, newest: newest.map((s) => JSON.parse(s) as unknown) }));
        return;
      }
      out(`queues     ingest ${r.queues.ingest_queue}, alert ${r.queues.alert_queue}`);
      out(
        `dlq        ${Object.entries(r.dlq)
          .map(([n, d]) => `${n} ${d.depth}${d.oldest_failed_at ? ` (oldest ${d.oldest_failed_at})` : ''}`)
          .join(', ')}`,
      );
      out(
        `breaker    ${r.breaker.state}${r.breaker.failures > 0 ? `, ${r.breaker.failures} failure(s)` : ''}${r.breaker.opened_at ? `, opened ${r.breaker.opened_at}` : ''}`,
      );
      out(`rate limit ${r.rate_limit.used}/${r.rate_limit.limit} per ${r.rate_limit.period_seconds} s`);
      out(`postgres   ${r.postgres}`);
      out(`compat mode ${describeCompat(compat)}`);
      if (r.pods.length === 0) out('pods       none (no alerter or forwarder has run against this Redis)');
      else {
        out('pods');
        for (const p of r.pods) {
          const beat = p.alive ? `alive (heartbeat ${p.heartbeat_age_seconds ?? '?'} s ago)` : 'no heartbeat';
          const gen = p.rules_generation === undefined ? '' : `, rules generation ${p.rules_generation}`;
          out(`  ${p.role.padEnd(8)} ${p.pod}  ${beat}, processing ${p.processing}${gen}`);
        }
      }
      if (newest.length > 0) {
        out(`\nnewest ${newest.length} in ${ctx.keys.ingestQueue}:`);
        for (const s of newest) out(s);
      }
    },
    { postgres: true },
  );
}
