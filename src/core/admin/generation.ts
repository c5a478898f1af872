// "A write is live when it answers." Every change to alert_rules, development_hosts or device_teams
// advances mutt_rule_generation in its own transaction (the trigger of sql/0003); the change
// notification makes every alerter reload at once, and each alerter worker then records the
// generation it decides with in the hash `mutt:alerter:rules_generation` (pod → generation). A writer
// reads its generation before committing and, after the commit, waits (bounded) until the alerters
// that matter report it:
//
//   API/CLI write ── BEGIN; row; config_audit_log; trigger: generation G ── COMMIT ──► NOTIFY
//        │                                                                  alerters reload (ms)
//        └── poll HMGET rules_generation <pods> until every one ≥ G ◄── HSET <pod> G
//            (≤ applyTimeoutMs, else "applied": false: the change is stored and will apply)
import type pg from 'pg';
import { abortableSleep } from '../../runtime/sleep.ts';
import type { AdminContext } from './context.ts';

export interface Applied {
  /** Every alerter that matters runs the new rule set (vacuously true when none runs). */
  applied: boolean;
  /** The rule-set generation of this change. */
  generation: number;
  /** Alerter workers waited for. */
  alerters: number;
  /** Those that had not reported the generation when the wait ended. */
  pending?: string[];
  waited_ms: number;
}

/** Inside the write's transaction, after its statements: the generation the change created. */
export async function currentGeneration(client: pg.PoolClient): Promise<number> {
  const r = await client.query<{ generation: string }>(
    'SELECT generation FROM mutt_rule_generation WHERE id = 1',
  );
  return Number(r.rows[0]?.generation ?? 0);
}

/** Every MUTT alerter that reports a generation and whose heartbeat is alive. */
export async function liveAlerterPods(ctx: AdminContext): Promise<string[]> {
  const pods = await ctx.redis.hkeys(ctx.keys.alerterGeneration);
  if (pods.length === 0) return [];
  const p = ctx.redis.pipeline();
  for (const pod of pods) p.exists(ctx.keys.alerterHeartbeat(pod));
  const alive = (await p.exec()) ?? [];
  return pods.filter((_, i) => Number(alive[i]?.[1]) === 1);
}

export async function waitApplied(ctx: AdminContext, generation: number): Promise<Applied> {
  const started = performance.now();
  const timeout = ctx.applyTimeoutMs ?? 2000;
  const done = (applied: boolean, alerters: number, pending?: string[]): Applied => ({
    applied,
    generation,
    alerters,
    ...(pending && pending.length > 0 ? { pending } : {}),
    waited_ms: Math.round(performance.now() - started),
  });
  let pods: readonly string[];
  try {
    pods = ctx.alerterPods ? await ctx.alerterPods() : await liveAlerterPods(ctx);
  } catch {
    return done(false, 0);
  }
  if (pods.length === 0) return done(true, 0);
  let pending = [...pods];
  for (let delay = 5; ; delay = Math.min(50, delay * 2)) {
    try {
      const got = await ctx.redis.hmget(ctx.keys.alerterGeneration, ...pending);
      pending = pending.filter((_, i) => !(Number(got[i] ?? -1) >= generation));
    } catch {
      // Redis unreachable: the change is committed; say it is not known to be applied.
      return done(false, pods.length, pending);
    }
    if (pending.length === 0) return done(true, pods.length);
    if (performance.now() - started >= timeout) return done(false, pods.length, pending);
    await abortableSleep(delay);
  }
}
