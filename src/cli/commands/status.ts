// `mutt status`: queue depths and the newest queued events, straight from Redis.
import { compatStatus, describeCompat } from '../../core/config/compat.ts';
import { Keys } from '../../core/protocol/keys.ts';
import { cliLogger, connectRedis, loadConfigOrExit } from '../context.ts';

export async function statusCommand(opts: { peek?: string; json?: boolean }): Promise<void> {
  const config = loadConfigOrExit();
  const log = cliLogger(config);
  const keys = new Keys(config);
  const redis = await connectRedis(config, log);
  try {
    const names = {
      ingest_queue: keys.ingestQueue,
      alert_queue: keys.alertQueue,
      alerter_dlq: keys.alerterDlq,
      moog_dlq: keys.moogDlq,
      dead_letter_queue: keys.deadLetter,
    };
    const p = redis.pipeline();
    for (const k of Object.values(names)) p.llen(k);
    const peek = Math.max(0, Math.min(1000, Number(opts.peek ?? 0) || 0));
    if (peek > 0) p.lrange(keys.ingestQueue, 0, peek - 1);
    const replies = (await p.exec()) ?? [];
    const depths: Record<string, number> = {};
    Object.keys(names).forEach((n, i) => {
      depths[n] = Number(replies[i]?.[1] ?? 0);
    });
    const newest = peek > 0 ? ((replies[Object.keys(names).length]?.[1] as string[]) ?? []) : [];
    const compat = await compatStatus(config, redis, keys);
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ queues: depths, compat, newest: newest.map((s) => JSON.parse(s) as unknown) })}\n`,
      );
      return;
    }
    for (const [n, d] of Object.entries(depths)) process.stdout.write(`${n.padEnd(18)} ${d}\n`);
    process.stdout.write(`${'compat mode'.padEnd(18)} ${describeCompat(compat)}\n`);
    if (newest.length > 0) {
      process.stdout.write(`\nnewest ${newest.length} in ${keys.ingestQueue}:\n`);
      for (const s of newest) process.stdout.write(`${s}\n`);
    }
  } finally {
    redis.disconnect();
  }
}
