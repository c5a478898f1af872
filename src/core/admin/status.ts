// What the whole fleet looks like from Redis, MUTT and Python pods alike: queue depths, every
// processing list and heartbeat (the key patterns, not only this node's workers) with its pod, depth
// and heartbeat age, the alerters' rule-set generations, the shared breaker, the shared Moogsoft rate
// limit in use, DLQ depths, and this node's roles, version and uptime. Redis only: it answers while
// PostgreSQL is down (and says so).
import { pingPostgres } from '../../runtime/postgres.ts';
import { VERSION } from '../../runtime/version.ts';
import type { AdminContext } from './context.ts';
import { nowOf, redisCall } from './context.ts';
import { type DlqDepth, dlqDepths } from './dlq.ts';
import type { DlqName } from '../queue/dlq.ts';
import { type CompatStatus, compatStatus } from '../config/compat.ts';

export interface PodStatus {
  pod: string;
  /** alerter or moog (the forwarder), as the key names them. */
  role: 'alerter' | 'moog';
  /** Items in its processing list (0 when it has none). */
  processing: number;
  /** Heartbeat present: the pod is alive (or died less than a janitor timeout ago). */
  alive: boolean;
  /** Seconds since its last heartbeat, from the TTL left (null without a heartbeat). */
  heartbeat_age_seconds: number | null;
  /** MUTT alerters: the rule-set generation it decides with. */
  rules_generation?: number;
  /** `mutt` when it reports MUTT-only state (a generation), else `unknown` (Python or idle). */
  kind: 'mutt' | 'unknown';
}

export interface StatusReport {
  version: string;
  pod: string;
  roles: readonly string[];
  uptime_seconds: number;
  time: string;
  queues: { ingest_queue: number; alert_queue: number };
  pods: PodStatus[];
  breaker: { state: string; failures: number; opened_at: string | null };
  rate_limit: { used: number; limit: number; period_seconds: number };
  dlq: Record<DlqName, DlqDepth>;
  /** `ok`, `not used`, or `error: …`. */
  postgres: string;
  /** The decision mode of this node (COMPAT_MODE, or the fleet's dynamic compat_mode). */
  compat: CompatStatus;
}

async function scanAll(ctx: AdminContext, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await ctx.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

export async function status(ctx: AdminContext): Promise<StatusReport> {
  const c = ctx.config;
  const k = ctx.keys;
  const now = nowOf(ctx);
  const report = await redisCall(async () => {
    const roles = [
      {
        role: 'alerter' as const,
        lists: k.alerterProcessingPattern,
        beats: k.alerterHeartbeatPattern,
        ttl: c.ALERTER_JANITOR_TIMEOUT,
        beat: (p: string) => k.alerterHeartbeat(p),
        list: (p: string) => k.alerterProcessing(p),
      },
      {
        role: 'moog' as const,
        lists: k.moogProcessingPattern,
        beats: k.moogHeartbeatPattern,
        ttl: c.MOOG_JANITOR_TIMEOUT,
        beat: (p: string) => k.moogHeartbeat(p),
        list: (p: string) => k.moogProcessing(p),
      },
    ];
    const generations = await ctx.redis.hgetall(k.alerterGeneration);
    const pods: PodStatus[] = [];
    for (const r of roles) {
      const names = new Set<string>();
      for (const key of [...(await scanAll(ctx, r.lists)), ...(await scanAll(ctx, r.beats))]) {
        const pod = k.podOf(key);
        if (pod !== '') names.add(pod);
      }
      const sorted = [...names].sort();
      const p = ctx.redis.pipeline();
      for (const pod of sorted) p.llen(r.list(pod)).pttl(r.beat(pod));
      const res = (await p.exec()) ?? [];
      sorted.forEach((pod, i) => {
        const depth = Number(res[i * 2]?.[1] ?? 0);
        const pttl = Number(res[i * 2 + 1]?.[1] ?? -2);
        const alive = pttl !== -2;
        const gen = r.role === 'alerter' ? generations[pod] : undefined;
        pods.push({
          pod,
          role: r.role,
          processing: depth,
          alive,
          heartbeat_age_seconds: alive && pttl >= 0 ? Math.max(0, Math.round(r.ttl - pttl / 1000)) : null,
          ...(gen !== undefined ? { rules_generation: Number(gen) } : {}),
          kind: gen !== undefined ? 'mutt' : 'unknown',
        });
      });
    }
    const windowMs = c.MOOG_RATE_PERIOD * 1000;
    const q = await ctx.redis
      .pipeline()
      .llen(k.ingestQueue)
      .llen(k.alertQueue)
      .mget(k.breakerState, k.breakerFailures, k.breakerOpenTime)
      .zcount(k.moogRateLimit, now.getTime() - windowMs, '+inf')
      .exec();
    const v = (i: number) => q?.[i]?.[1];
    const [state, failures, openTime] = (v(2) as (string | null)[] | undefined) ?? [];
    return {
      queues: { ingest_queue: Number(v(0) ?? 0), alert_queue: Number(v(1) ?? 0) },
      pods,
      breaker: {
        state: state ?? 'CLOSED',
        failures: Number(failures ?? 0),
        opened_at: openTime ? new Date(Number(openTime) * 1000).toISOString() : null,
      },
      rate_limit: { used: Number(v(3) ?? 0), limit: c.MOOG_RATE_LIMIT, period_seconds: c.MOOG_RATE_PERIOD },
    };
  });
  const dlq = await dlqDepths(ctx);
  const compat = await redisCall(() => compatStatus(c, ctx.redis, ctx.keys));
  const pg = ctx.pool ? await pingPostgres(ctx.pool, 1000) : undefined;
  const node = ctx.node ?? { roles: c.roles, startedAt: now.getTime(), pod: c.podName };
  return {
    version: VERSION,
    pod: node.pod,
    roles: node.roles,
    uptime_seconds: Math.round((now.getTime() - node.startedAt) / 1000),
    time: now.toISOString(),
    ...report,
    dlq,
    postgres: pg === undefined ? 'not used' : pg.ok ? 'ok' : `error: ${pg.error}`,
    compat,
  };
}
