// The dashboard numbers Python MUTT 2.5 serves at /api/v1/metrics, from the `mutt:metrics:1m|1h:*`
// counters every ingest path increments (MUTT's listeners and Python ingestors alike), so they count
// what the whole fleet accepted. Rates are events per minute: current = the last complete minute,
// averages over the last 15 and 60 complete minutes; the chart is the last 24 UTC hours (oldest
// first), each hour's total / 60. Keys are computed, not SCANned. Cached METRICS_CACHE_TTL seconds.
import type { AdminContext } from './context.ts';
import { nowOf, redisCall } from './context.ts';

export interface MetricsSummary {
  summary: { current_rate_1m: number; avg_rate_15m: number; avg_rate_1h: number };
  chart_24h: { labels: string[]; data: number[] };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export async function metricsSummary(ctx: AdminContext): Promise<MetricsSummary> {
  const now = nowOf(ctx).getTime();
  const minute = 60_000;
  const hour = 3_600_000;
  const lastMinute = Math.floor(now / minute) * minute - minute;
  const minuteKeys = Array.from({ length: 60 }, (_, i) =>
    ctx.keys.metrics1m(new Date(lastMinute - i * minute).toISOString().slice(0, 16)),
  );
  const thisHour = Math.floor(now / hour) * hour;
  const hours = Array.from({ length: 24 }, (_, i) => new Date(thisHour - (23 - i) * hour));
  const hourKeys = hours.map((h) => ctx.keys.metrics1h(h.toISOString().slice(0, 13)));
  const values = await redisCall(() => ctx.redis.mget(...minuteKeys, ...hourKeys));
  const n = values.map((v) => {
    const x = Number(v ?? 0);
    return Number.isFinite(x) ? x : 0;
  });
  const mins = n.slice(0, 60);
  const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);
  return {
    summary: {
      current_rate_1m: round2(mins[0] ?? 0),
      avg_rate_15m: round2(sum(mins.slice(0, 15)) / 15),
      avg_rate_1h: round2(sum(mins) / 60),
    },
    chart_24h: {
      labels: hours.map((h) => `${h.toISOString().slice(11, 13)}:00`),
      data: n.slice(60).map((x) => round2(x / 60)),
    },
  };
}

/** metricsSummary, computed at most once per `ttlSeconds`. */
export class MetricsSummaryCache {
  private value?: { at: number; data: Promise<MetricsSummary> };
  private readonly ttlSeconds: number;
  constructor(ttlSeconds: number) {
    this.ttlSeconds = ttlSeconds;
  }

  get(ctx: AdminContext): { data: Promise<MetricsSummary>; cached: boolean } {
    const t = Date.now();
    if (this.value && t - this.value.at < this.ttlSeconds * 1000)
      return { data: this.value.data, cached: true };
    const data = metricsSummary(ctx);
    this.value = { at: t, data };
    data.catch(() => {
      if (this.value?.data === data) this.value = undefined;
    });
    return { data, cached: false };
  }
}
