// The SLO report (`GET /api/v1/slo`, `mutt slo`), in MUTT 2.5's response shape: per component the
// objective (`target`, from the dynamic configuration), the measured `availability` over
// `window_hours`, the `burn_rate` ((1 − availability) / (1 − target)), the `error_budget_remaining`
// (1 − burn rate; negative once overspent) and a `state` (burn rate ≤ 1 ok, ≤ 2 warn, > 2 critical).
//
//   ingestor   good = HTTP ingest requests answered 2xx; bad = requests MUTT failed (503 queue full or
//              Redis unavailable, 500). Client errors (401, 400, 413, 429) are the sender's and count
//              neither way.
//   forwarder  good = Moogsoft requests answered 2xx; bad = every other outcome, as MUTT 2.5 counts.
//
// Two sources give the same figures from the same counters (mutt_ingest_requests_total and
// mutt_moog_requests_total):
//   - Prometheus, when PROMETHEUS_URL is set: `increase()` over the window, summed over the fleet.
//   - MUTT's own counters in Redis otherwise (or when Prometheus fails): every node adds what its
//     counters gained to per-hour hashes (`mutt:slo:1h:<hour>`) every few seconds (SloRecorder), so
//     every node of a fleet reads the same sums. The oldest hour is pro-rated to the exact window.
// The report says which source it used, and why it fell back.
import type { ChainableCommander, Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../runtime/config/load.ts';
import { type Logger, LogLimiter } from '../runtime/logging.ts';
import { DYNAMIC_KEYS } from './config/dynamic.ts';
import type { Keys } from './protocol/keys.ts';

export const SLO_COMPONENTS = ['ingestor', 'forwarder'] as const;
export type SloComponent = (typeof SLO_COMPONENTS)[number];

/**
 * Ingest failures that are MUTT's fault, by MUTT's reason labels and by MUTT 2.x's (`redis`,
 * `unknown`), so a mixed fleet is counted alike.
 */
export const INGEST_SERVER_FAULTS = [
  'queue_full',
  'redis_unavailable',
  'internal',
  'redis',
  'unknown',
] as const;

/** The counter each component is measured by. */
export const SLO_METRICS: Record<SloComponent, string> = {
  ingestor: 'mutt_ingest_requests_total',
  forwarder: 'mutt_moog_requests_total',
};

/** Whether one series of a component's counter counts as good, bad, or not at all. */
export function classify(
  component: SloComponent,
  labels: Record<string, unknown>,
): 'good' | 'bad' | undefined {
  if (labels.status === 'success') return 'good';
  if (component === 'forwarder') return 'bad';
  return labels.status === 'fail' && (INGEST_SERVER_FAULTS as readonly unknown[]).includes(labels.reason)
    ? 'bad'
    : undefined;
}

/** The PromQL that counts good and bad requests of a component over `hours` (one sample, fleet-wide). */
export function sloQueries(component: SloComponent, hours: number): { good: string; bad: string } {
  const m = SLO_METRICS[component];
  const w = `[${hours}h]`;
  const bad =
    component === 'ingestor'
      ? `${m}{status="fail",reason=~"${INGEST_SERVER_FAULTS.join('|')}"}`
      : `${m}{status!="success"}`;
  return {
    good: `sum(increase(${m}{status="success"}${w})) or vector(0)`,
    bad: `sum(increase(${bad}${w})) or vector(0)`,
  };
}

export interface SloCounts {
  good: number;
  bad: number;
}

export type SloState = 'ok' | 'warn' | 'critical' | 'no_data';

export interface ComponentSlo {
  target: number;
  /** Share of good requests; null when there were none to measure. */
  availability: number | null;
  error_budget_remaining: number | null;
  burn_rate: number | null;
  state: SloState;
  window_hours: number;
  /** What the figures were computed from. */
  good: number;
  total: number;
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

export function componentSlo(target: number, windowHours: number, c: SloCounts): ComponentSlo {
  const good = Math.max(0, Math.round(c.good));
  const total = good + Math.max(0, Math.round(c.bad));
  if (total === 0) {
    return {
      target,
      availability: null,
      error_budget_remaining: null,
      burn_rate: null,
      state: 'no_data',
      window_hours: windowHours,
      good,
      total,
    };
  }
  const availability = good / total;
  const burn = (1 - availability) / (1 - target);
  return {
    target,
    availability: round(availability),
    error_budget_remaining: round(1 - burn),
    burn_rate: round(burn),
    state: burn <= 1 ? 'ok' : burn <= 2 ? 'warn' : 'critical',
    window_hours: windowHours,
    good,
    total,
  };
}

export type SloSource = 'prometheus' | 'mutt_counters';

export interface SloReport {
  window_hours: number;
  source: SloSource;
  /** Where the figures came from: the Prometheus URL, or the Redis keys. */
  source_detail: string;
  /** Why the report did not come from the configured Prometheus (absent when it did, or none is set). */
  warning?: string;
  generated_at: string;
  components: Record<SloComponent, ComponentSlo>;
}

// ── MUTT's own counters in Redis ────────────────────────────────────────────────────────────────

const HOUR_MS = 3_600_000;
const hourIso = (ms: number) => new Date(ms).toISOString().slice(0, 13);
/** The hashes live for the longest window (720 h, slo_window_hours' bound) plus a margin. */
export const SLO_BUCKET_TTL_SECONDS = (720 + 2) * 3600;

/** Sums the hour buckets covering the last `hours` hours (the oldest pro-rated to the window's start). */
export async function countsFromRedis(
  redis: Pick<Redis, 'pipeline'>,
  keys: Pick<Keys, 'sloHour'>,
  hours: number,
  now = Date.now(),
): Promise<Record<SloComponent, SloCounts>> {
  const start = now - hours * HOUR_MS;
  const firstHour = Math.floor(start / HOUR_MS) * HOUR_MS;
  const p = redis.pipeline();
  const weights: number[] = [];
  for (let h = firstHour; h <= now; h += HOUR_MS) {
    p.hgetall(keys.sloHour(hourIso(h)));
    // The part of this hour inside the window, assuming requests spread evenly over the hour.
    weights.push(h < start ? (h + HOUR_MS - start) / HOUR_MS : 1);
  }
  const replies = (await p.exec()) ?? [];
  const out = Object.fromEntries(SLO_COMPONENTS.map((c) => [c, { good: 0, bad: 0 }])) as Record<
    SloComponent,
    SloCounts
  >;
  replies.forEach(([err, hash], i) => {
    if (err) throw err;
    const w = weights[i]!;
    for (const c of SLO_COMPONENTS) {
      const h = hash as Record<string, string>;
      out[c].good += w * (Number(h[`${c}:good`]) || 0);
      out[c].bad += w * (Number(h[`${c}:bad`]) || 0);
    }
  });
  return out;
}

export interface SloRecorderOptions {
  redis: { multi(): ChainableCommander };
  keys: Pick<Keys, 'sloHour'>;
  component: SloComponent;
  /** The thread's counter of the component (mutt_ingest_requests_total or mutt_moog_requests_total). */
  counter: Pick<Counter<string>, 'get'>;
  log: Logger;
  intervalMs?: number;
  now?: () => number;
}

/**
 * Adds what one thread's counter gained since the last flush to the fleet's hour bucket in Redis.
 * Lives beside the counter (the main thread for ingest, each forwarder worker for Moogsoft), so a
 * restarted thread starts a new counter and a new recorder, and nothing is counted twice. A flush that
 * fails is retried with the next one; what a killed process had not flushed (a few seconds) is lost.
 */
export class SloRecorder {
  private readonly o: SloRecorderOptions & { intervalMs: number; now: () => number };
  private flushed: SloCounts = { good: 0, bad: 0 };
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly logs = new LogLimiter(60_000);

  constructor(o: SloRecorderOptions) {
    this.o = { intervalMs: 10_000, now: Date.now, ...o };
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Flushes once more and stops. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** What the counter holds now, classified. */
  async totals(): Promise<SloCounts> {
    const t: SloCounts = { good: 0, bad: 0 };
    for (const v of (await this.o.counter.get()).values) {
      const k = classify(this.o.component, v.labels);
      if (k) t[k] += v.value;
    }
    return t;
  }

  flush(): Promise<void> {
    // One flush at a time: a slow Redis must not have two add the same gain.
    this.running ??= this.doFlush().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async doFlush(): Promise<void> {
    const now = await this.totals();
    const good = now.good - this.flushed.good;
    const bad = now.bad - this.flushed.bad;
    if (good <= 0 && bad <= 0) return;
    const key = this.o.keys.sloHour(hourIso(this.o.now()));
    const c = this.o.component;
    const m = this.o.redis.multi();
    if (good > 0) m.hincrby(key, `${c}:good`, good);
    if (bad > 0) m.hincrby(key, `${c}:bad`, bad);
    m.expire(key, SLO_BUCKET_TTL_SECONDS);
    try {
      await withTimeout(m.exec(), 5000);
      this.flushed = now;
    } catch (err) {
      const suppressed = this.logs.take('flush');
      if (suppressed >= 0)
        this.o.log.warn(
          { err: (err as Error).message, component: c, suppressed },
          'recording SLO counts in Redis failed; retrying with the next flush',
        );
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ── Prometheus ───────────────────────────────────────────────────────────────────────────────────

export class PrometheusError extends Error {
  /** Bounded label for the warning metric: unreachable, timeout, http_<status>, invalid_answer, query_error. */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'PrometheusError';
    this.reason = reason;
  }
}

/** One instant query; the value of its single sample. */
export async function promInstant(
  baseUrl: string,
  query: string,
  timeoutMs = 5000,
  fetchFn: typeof fetch = fetch,
): Promise<number> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', query);
  let res: Response;
  try {
    res = await fetchFn(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { Accept: 'application/json' },
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new PrometheusError('timeout', `no answer within ${timeoutMs} ms`);
    throw new PrometheusError('unreachable', e.cause?.message ?? e.cause?.code ?? e.message);
  }
  const text = await res.text().catch(() => '');
  let body:
    { status?: string; error?: string; data?: { result?: { value?: [number, string] }[] } } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const detail = body?.error ?? text.slice(0, 200).replace(/\s+/g, ' ');
    throw new PrometheusError(
      res.status === 400 || res.status === 422 ? 'query_error' : `http_${res.status}`,
      `HTTP ${res.status}${detail ? `: ${detail}` : ''}`,
    );
  }
  const sample = body?.status === 'success' ? body.data?.result?.[0]?.value?.[1] : undefined;
  const n = Number(sample);
  if (sample === undefined || Number.isNaN(n))
    throw new PrometheusError('invalid_answer', `not a Prometheus query answer: ${text.slice(0, 120)}`);
  return n;
}

export async function countsFromPrometheus(
  baseUrl: string,
  hours: number,
  timeoutMs?: number,
  fetchFn?: typeof fetch,
): Promise<Record<SloComponent, SloCounts>> {
  const entries = await Promise.all(
    SLO_COMPONENTS.map(async (c) => {
      const q = sloQueries(c, hours);
      const [good, bad] = await Promise.all([
        promInstant(baseUrl, q.good, timeoutMs, fetchFn),
        promInstant(baseUrl, q.bad, timeoutMs, fetchFn),
      ]);
      return [c, { good, bad }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<SloComponent, SloCounts>;
}

// ── The report ──────────────────────────────────────────────────────────────────────────────────

export type SloConfig = Pick<
  Config,
  | 'PROMETHEUS_URL'
  | 'DYNAMIC_CONFIG_ENABLED'
  | 'SLO_WINDOW_HOURS'
  | 'SLO_INGEST_SUCCESS_TARGET'
  | 'SLO_FORWARD_SUCCESS_TARGET'
>;

export interface SloServiceOptions {
  redis: Pick<Redis, 'pipeline' | 'mget'>;
  keys: Pick<Keys, 'sloHour' | 'config' | 'withPrefix'>;
  config: SloConfig;
  /** Where the warning counter goes (the node's main registry). */
  registry?: Registry;
  log?: Logger;
  fetch?: typeof fetch;
  /** Per Prometheus query (5 s by default). */
  prometheusTimeoutMs?: number;
  now?: () => number;
}

const SLO_KEYS = ['slo_window_hours', 'slo_ingest_success_target', 'slo_forward_success_target'] as const;

/** The SLO report of the fleet; shared by the admin API and `mutt slo`. */
export class SloService {
  private readonly o: SloServiceOptions;
  private readonly failures: Counter<'reason'>;
  private readonly logs = new LogLimiter(60_000);

  constructor(o: SloServiceOptions) {
    this.o = o;
    const existing = o.registry?.getSingleMetric('mutt_slo_prometheus_failures_total');
    this.failures =
      (existing as Counter<'reason'> | undefined) ??
      new Counter({
        name: 'mutt_slo_prometheus_failures_total',
        help: "SLO reports computed from MUTT's own counters because PROMETHEUS_URL failed (reason: unreachable, timeout, http_<status>, invalid_answer, query_error)",
        labelNames: ['reason'],
        registers: o.registry ? [o.registry] : [],
      });
  }

  /** Window and targets: dynamic values when valid, else the static variables. */
  async objectives(): Promise<{ hours: number; targets: Record<SloComponent, number> }> {
    const c = this.o.config;
    const stored = c.DYNAMIC_CONFIG_ENABLED
      ? await this.o.redis.mget(...SLO_KEYS.map((k) => this.o.keys.config(k)))
      : [];
    const statics: Record<(typeof SLO_KEYS)[number], number> = {
      slo_window_hours: c.SLO_WINDOW_HOURS,
      slo_ingest_success_target: c.SLO_INGEST_SUCCESS_TARGET,
      slo_forward_success_target: c.SLO_FORWARD_SUCCESS_TARGET,
    };
    // An invalid stored value (written around `mutt config set`) falls back to the static one.
    const value = (k: (typeof SLO_KEYS)[number], i: number): number => {
      const raw = stored[i];
      return (typeof raw === 'string' ? DYNAMIC_KEYS[k].parse(raw) : undefined) ?? statics[k];
    };
    return {
      hours: value('slo_window_hours', 0),
      targets: {
        ingestor: value('slo_ingest_success_target', 1),
        forwarder: value('slo_forward_success_target', 2),
      },
    };
  }

  async report(): Promise<SloReport> {
    const now = (this.o.now ?? Date.now)();
    const { hours, targets } = await this.objectives();
    const url = this.o.config.PROMETHEUS_URL;
    let counts: Record<SloComponent, SloCounts> | undefined;
    let warning: string | undefined;
    if (url) {
      try {
        counts = await countsFromPrometheus(url, hours, this.o.prometheusTimeoutMs, this.o.fetch);
      } catch (err) {
        const e =
          err instanceof PrometheusError
            ? err
            : new PrometheusError('invalid_answer', (err as Error).message);
        this.failures.inc({ reason: e.reason });
        warning = `Prometheus at ${url} failed (${e.reason}: ${e.message}); the figures come from MUTT's own counters in Redis`;
        const suppressed = this.logs.take(e.reason);
        if (suppressed >= 0)
          this.o.log?.warn(
            { prometheus: url, reason: e.reason, err: e.message, suppressed },
            "SLO report: Prometheus failed; using MUTT's own counters",
          );
      }
    }
    const source: SloSource = counts ? 'prometheus' : 'mutt_counters';
    counts ??= await countsFromRedis(this.o.redis, this.o.keys, hours, now);
    const report: SloReport = {
      window_hours: hours,
      source,
      source_detail:
        source === 'prometheus'
          ? url!
          : `Redis ${this.o.keys.withPrefix('mutt:slo:1h')}:<hour> (request counts of every MUTT node)`,
      generated_at: new Date(now).toISOString(),
      components: {
        ingestor: componentSlo(targets.ingestor, hours, counts.ingestor),
        forwarder: componentSlo(targets.forwarder, hours, counts.forwarder),
      },
    };
    if (warning) report.warning = warning;
    return report;
  }
}

/**
 * The admin API's answer to `GET /api/v1/slo` (and `/api/v2/slo`): 200 with the report, from
 * Prometheus or from MUTT's counters; a failing Prometheus is never an error. 503 only when Redis,
 * which holds the objectives and the counters, cannot be read.
 */
export async function sloAnswer(
  s: Pick<SloService, 'report'>,
): Promise<{ status: 200; body: SloReport } | { status: 503; body: { error: string } }> {
  try {
    return { status: 200, body: await s.report() };
  } catch (err) {
    return { status: 503, body: { error: `SLO report unavailable: Redis: ${(err as Error).message}` } };
  }
}
