// The forwarder loop: alerts from `mutt:alert_queue` to the sink, never losing one.
//
//   alert_queue ──take a batch (≤ MOOG_BATCH_SIZE, linger), up to MOOG_MAX_IN_FLIGHT at once──► processing:<pod>
//        ▲                                                                    │ parse
//        │ due (RPUSH: taken next)                                            ▼
//   processing:<pod>-retry ◄── retry (backoff) ── settle ◄── per alert ◄── send: breaker → rate limiter → sink
//                                                 │  delivered: removed        ▲  a content rejection of a
//                                                 └─ rejected / retries spent: │  batch is retried in halves
//                                                    mutt:dlq:moog             └─ to isolate the bad alerts
//
// Every step that moves an alert out of the processing list is one move-4.lua call per request, so an
// alert is always in exactly one place: the queue, a processing list, the retry list, the DLQ, or
// delivered. A crash leaves alerts in the processing and retry lists under heartbeats that stop; the
// janitor (MUTT's or Python's) returns them to the queue, and they are delivered again (at least
// once, duplicates bounded by what was in flight).
//
// While the shared breaker is open the loop takes nothing: alerts wait in the queue without spending
// retries. A half-open probe that fails puts its alerts back to waiting without spending one either.
// A rate-limited request waits for the next slot of the shared window; nothing is dropped.
import type { Redis } from 'ioredis';
import { type CompatMode, CompatTracker } from '../core/config/compat.ts';
import { DynamicConfig, type DynamicStatic } from '../core/config/dynamic.ts';
import type { MoogJournal } from '../core/journal.ts';
import type { Keys } from '../core/protocol/keys.ts';
import type { ScriptedRedis } from '../core/protocol/scripts.ts';
import { DeferredList } from '../core/queue/deferred.ts';
import { Janitor } from '../core/queue/janitor.ts';
import { ReliableQueue } from '../core/queue/reliable-queue.ts';
import { SlidingWindowLimiter } from '../core/rate-limit.ts';
import type { Config } from '../runtime/config/load.ts';
import { type Logger, LogLimiter } from '../runtime/logging.ts';
import { Loop } from '../runtime/workers/loop.ts';
import {
  type Alert,
  type DlqCode,
  dlqItem,
  dlqItemForInvalid,
  heldItem,
  parseAlert,
  retryAtOf,
  retryItem,
} from './alert.ts';
import { BREAKER_STATE_VALUE, type BreakerReply, CircuitBreaker } from './breaker.ts';
import type { ForwarderMetrics } from './metrics.ts';
import { backoffDelay, retryOrGiveUp } from './retry-policy.ts';
import type { AlertOutcome, SendResult, Sink } from './sinks/types.ts';

export type ForwarderConfig = Pick<
  Config,
  | 'MOOG_BATCH_SIZE'
  | 'MOOG_BATCH_LINGER_MS'
  | 'MOOG_MAX_IN_FLIGHT'
  | 'MOOG_MAX_RETRIES'
  | 'MOOG_RETRY_EXHAUSTED_MODE'
  | 'MOOG_RETRY_BASE_DELAY'
  | 'MOOG_RETRY_MAX_DELAY'
  | 'MOOG_HEARTBEAT_INTERVAL'
  | 'MOOG_JANITOR_TIMEOUT'
  | 'MOOG_RATE_LIMIT'
  | 'MOOG_RATE_PERIOD'
  | 'MOOG_WEBHOOK_TIMEOUT'
  | 'CIRCUIT_BREAKER_THRESHOLD'
  | 'CIRCUIT_BREAKER_INITIAL_TIMEOUT'
  | 'CIRCUIT_BREAKER_TIMEOUT'
  | 'BRPOPLPUSH_TIMEOUT'
> &
  DynamicStatic;

export interface ForwarderOptions {
  config: ForwarderConfig;
  log: Logger;
  redis: ScriptedRedis;
  /** Dedicated connection for the blocking take. */
  blocking: Redis;
  /** Dedicated connection for the `mutt:config:updates` subscription (without: read at start only). */
  subscriber?: Redis;
  keys: Keys;
  /** This worker's identity in Redis (no ':'). */
  pod: string;
  sink: Sink;
  metrics: ForwarderMetrics;
  /** Sweep every forwarder processing list for dead owners (one worker per node does). */
  janitor: boolean;
  /** Where each request is remembered for `mutt trace` (src/core/journal.ts). */
  journal?: MoogJournal;
  now?: () => number;
  random?: () => number;
}

/** An alert whose send did not happen because the forwarder is stopping: it stays in hand. */
const HOLD = { kind: 'hold' } as const;
type Outcome = AlertOutcome | typeof HOLD;

/** Steps that settle work already done run even while the forwarder is stopping. */
const FINISH = { finish: true } as const;

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * About how much alert JSON one request may carry. A batch of large alerts (the ingest limit is
 * 1 MiB per event) is cut short of MOOG_BATCH_SIZE rather than become a request of hundreds of MB.
 */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** Splits alerts into batches of at most `max` alerts and about MAX_BATCH_BYTES (never empty). */
export function batchesOf(alerts: readonly Alert[], max: number, maxBytes = MAX_BATCH_BYTES): Alert[][] {
  const out: Alert[][] = [];
  let cur: Alert[] = [];
  let bytes = 0;
  for (const a of alerts) {
    if (cur.length > 0 && (cur.length >= max || bytes + a.raw.length > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(a);
    bytes += a.raw.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** How often a worker with requests in flight looks for new alerts when the queue was empty. */
const IDLE_POLL_MS = 20;

/** Each kind of breaker transition is logged at most this often (all are counted). */
const BREAKER_LOG_MS = 30_000;

/** Alerts due this close to now are sent rather than held back again. */
const DUE_SLACK_MS = 20;

export class Forwarder extends Loop {
  private readonly o: ForwarderOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly queue: ReliableQueue;
  private readonly retries: DeferredList;
  private readonly breaker?: CircuitBreaker;
  private readonly rateLimiter?: SlidingWindowLimiter;
  private readonly janitor?: Janitor;
  private readonly logs = new LogLimiter(60_000);
  private readonly breakerLogs = new LogLimiter(BREAKER_LOG_MS);
  private nextSweep = 0;
  readonly dynamic: DynamicConfig;
  readonly compat: CompatTracker;

  constructor(o: ForwarderOptions) {
    super(o.log);
    this.o = o;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    const c = o.config;
    const onHeartbeatError = (err: Error) => {
      const suppressed = this.logs.take('heartbeat');
      if (suppressed >= 0) this.log.warn({ err: err.message, suppressed }, 'writing the heartbeat failed');
    };
    this.queue = new ReliableQueue({
      redis: o.redis,
      blocking: o.blocking,
      queue: o.keys.alertQueue,
      processing: o.keys.moogProcessing(o.pod),
      heartbeat: o.keys.moogHeartbeat(o.pod),
      batchSize: o.sink.maxBatch,
      blockSeconds: c.BRPOPLPUSH_TIMEOUT,
      heartbeatIntervalSeconds: c.MOOG_HEARTBEAT_INTERVAL,
      heartbeatTtlSeconds: c.MOOG_JANITOR_TIMEOUT,
      onHeartbeatError,
    });
    this.retries = new DeferredList({
      redis: o.redis,
      list: o.keys.moogRetry(o.pod),
      heartbeat: o.keys.moogRetryHeartbeat(o.pod),
      queue: o.keys.alertQueue,
      heartbeatIntervalSeconds: c.MOOG_HEARTBEAT_INTERVAL,
      heartbeatTtlSeconds: c.MOOG_JANITOR_TIMEOUT,
      dueOf: retryAtOf,
      now: this.now,
      onHeartbeatError,
    });
    if (o.sink.guarded) {
      this.breaker = new CircuitBreaker({
        redis: o.redis,
        keys: o.keys,
        threshold: c.CIRCUIT_BREAKER_THRESHOLD,
        initialTimeoutMs: c.CIRCUIT_BREAKER_INITIAL_TIMEOUT * 1000,
        maxTimeoutMs: c.CIRCUIT_BREAKER_TIMEOUT * 1000,
        // A probe that outlives its request deadline has failed in practice; let another try.
        probeLeaseMs: Math.ceil(c.MOOG_WEBHOOK_TIMEOUT * 1000) + 5000,
        holder: o.pod,
        closedCacheMs: 100,
        now: this.now,
      });
      this.rateLimiter = new SlidingWindowLimiter({
        redis: o.redis,
        key: o.keys.moogRateLimit,
        limit: c.MOOG_RATE_LIMIT,
        windowMs: c.MOOG_RATE_PERIOD * 1000,
        unit: 'milliseconds',
        member: o.pod,
        now: this.now,
      });
    }
    this.dynamic = new DynamicConfig({
      redis: o.redis,
      keys: o.keys,
      config: c,
      onInvalid: (key, raw) => {
        const suppressed = this.logs.take(`dynamic:${key}`);
        if (suppressed >= 0)
          this.log.warn(
            { key, value: raw.slice(0, 100), suppressed },
            'invalid dynamic configuration value; using the static setting',
          );
      },
    });
    this.compat = new CompatTracker({
      read: () => this.dynamic.get('compat_mode'),
      log: this.log,
      component: 'forwarder',
      onSwitch: (_from, to) => o.metrics.compatSwitches.inc({ to }),
    });
    if (o.janitor) {
      this.janitor = new Janitor({
        redis: o.redis,
        pattern: o.keys.moogProcessingPattern,
        heartbeatOf: (list) => o.keys.moogHeartbeat(o.keys.podOf(list)),
        queue: o.keys.alertQueue,
        ttlSeconds: c.MOOG_JANITOR_TIMEOUT,
        now: this.now,
      });
    }
  }

  /** Depths for the metrics gauges. */
  processingDepth(): Promise<number> {
    return this.o.redis.llen(this.o.keys.moogProcessing(this.o.pod));
  }
  retryDepth(): Promise<number> {
    return this.o.redis.llen(this.o.keys.moogRetry(this.o.pod));
  }
  async breakerValue(): Promise<number | undefined> {
    if (!this.breaker) return undefined;
    return BREAKER_STATE_VALUE[(await this.breaker.peek()).state];
  }

  protected async main(): Promise<void> {
    const started = await this.retryIfFailed('starting the forwarder', async () => {
      await this.queue.start();
      await this.retries.start();
      return true;
    });
    if (!started) return;
    await this.retryIfFailed('reading the dynamic configuration', async () => {
      if (this.o.subscriber) await this.dynamic.start(this.o.subscriber);
      else await this.dynamic.refresh();
      return true;
    });
    const mode = this.compat.start();
    this.o.metrics.compatMode.set(mode === 'python2' ? 1 : 0);
    const c = this.o.config;
    this.log.info(
      {
        compat_mode: mode,
        sink: this.o.sink.name,
        target: this.o.sink.target,
        batch_size: this.o.sink.maxBatch,
        in_flight: c.MOOG_MAX_IN_FLIGHT,
        rate_limit: this.rateLimiter ? `${c.MOOG_RATE_LIMIT}/${c.MOOG_RATE_PERIOD}s` : 'none',
      },
      'forwarder started',
    );
    const batch = this.o.sink.maxBatch;
    // Requests in flight: each is one batch being sent and settled. While any is in flight the loop
    // tops up with takeMore (only new items); once none is, a plain take also returns anything the
    // processing list holds that this worker did not know about.
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    const track = (p: Promise<void>) => {
      const q: Promise<void> = p
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => inFlight.delete(q));
      inFlight.add(q);
    };
    const nextDone = (ms: number) => Promise.race([...inFlight, this.sleep(ms)]);
    try {
      while (!this.closed) {
        if (failure !== undefined) throw asError(failure);
        await this.housekeeping();
        if (this.closed) break;
        if (inFlight.size >= c.MOOG_MAX_IN_FLIGHT) {
          await Promise.race(inFlight);
          continue;
        }
        if (this.breaker) {
          const peek = await this.retryIfFailed('reading the circuit breaker', () => this.breaker!.peek());
          if (peek?.state === 'OPEN' && peek.openForMs > 0) {
            // Alerts wait in the queue, spending no retries, until a probe may be sent.
            this.o.metrics.breakerState.set(BREAKER_STATE_VALUE.OPEN);
            await nextDone(Math.min(peek.openForMs, 1000));
            continue;
          }
        }
        let items: string[] | undefined;
        if (inFlight.size === 0) {
          items = await this.retryIfFailed('taking alerts', () =>
            this.queue.take(batch, this.blockSeconds()),
          );
        } else {
          items = await this.retryIfFailed('taking alerts', () => this.queue.takeMore(batch));
          if (items?.length === 0) {
            // Nothing new yet: look again shortly, or as soon as a request finishes.
            await nextDone(IDLE_POLL_MS);
            continue;
          }
        }
        if (!items || items.length === 0) continue;
        if (items.length < batch && c.MOOG_BATCH_LINGER_MS > 0 && !this.closed) {
          await this.sleep(c.MOOG_BATCH_LINGER_MS);
          const have = items;
          const more = await this.retryIfFailed('taking alerts', () =>
            this.queue.takeMore(batch - have.length),
          );
          if (more) items = [...items, ...more];
        }
        track(this.handle(items));
      }
    } finally {
      // Finish the requests in hand (their answers are settled) before the cleanup steps run.
      await Promise.all(inFlight);
    }
    if (failure !== undefined) throw asError(failure);
  }

  protected override cleanupSteps(): [string, () => Promise<unknown>][] {
    return [
      ['returning the alerts in hand to the queue', () => this.queue.release()],
      ['returning the alerts waiting for a retry to the queue', () => this.retries.release()],
      ['stopping the dynamic configuration', async () => this.dynamic.stop()],
      ['closing the sink', () => this.o.sink.close()],
    ];
  }

  /** How long a take may block: less when a retry or a janitor sweep is due sooner. */
  private blockSeconds(): number {
    let ms = this.o.config.BRPOPLPUSH_TIMEOUT * 1000;
    const due = this.retries.msUntilDue();
    if (due !== undefined) ms = Math.min(ms, due);
    if (this.janitor) ms = Math.min(ms, Math.max(0, this.nextSweep - this.now()));
    return Math.max(0.05, ms / 1000);
  }

  private async housekeeping(): Promise<void> {
    await this.retryIfFailed('releasing due retries', () => this.retries.releaseDue());
    if (this.janitor && this.now() >= this.nextSweep) {
      this.nextSweep = this.now() + this.o.config.MOOG_HEARTBEAT_INTERVAL * 1000;
      const found = await this.retryIfFailed('sweeping dead forwarders', () => this.janitor!.sweep());
      for (const r of found ?? []) {
        this.o.metrics.recovered.inc(r.items);
        this.log.warn(
          { list: r.list, items: r.items },
          'returned the alerts of a forwarder whose heartbeat stopped to the alert queue',
        );
      }
    }
  }

  /** Parses a wave of items, dead-letters what is not an alert, sends the rest in batches. */
  private async handle(wave: string[]): Promise<void> {
    const now = this.now();
    // One mode for the whole wave, however its batches are split and retried.
    const mode = this.compat.forBatch();
    this.o.metrics.compatMode.set(mode === 'python2' ? 1 : 0);
    const ops: string[] = [];
    const alerts: Alert[] = [];
    for (const raw of wave) {
      const p = parseAlert(raw);
      if (!p.ok) {
        ops.push(
          'L2',
          raw,
          dlqItemForInvalid(raw, p.data, { code: p.code, reason: p.reason }, new Date(now)),
        );
        this.deadLettered(p.code, 1, p.reason);
        continue;
      }
      if (p.alert.retryAt > now + DUE_SLACK_MS) {
        // Returned to the queue by a janitor or a clean stop before its backoff ran out.
        const held = heldItem(p.alert);
        ops.push('L3', raw, held);
        this.retries.noted(held, p.alert.retryAt);
        continue;
      }
      alerts.push(p.alert);
    }
    if (ops.length > 0) await this.settle(ops);
    await Promise.all(batchesOf(alerts, this.o.sink.maxBatch).map((b) => this.deliver(b, mode)));
  }

  /** Sends one batch (splitting it on content rejections) and settles every alert of it. */
  private async deliver(batch: Alert[], mode: CompatMode): Promise<void> {
    const outcomes = await this.attempt(batch, mode);
    const now = this.now();
    const c = this.o.config;
    const ops: string[] = [];
    let delivered = 0;
    let retried = 0;
    batch.forEach((a, i) => {
      const o = outcomes[i] ?? HOLD;
      if (o.kind === 'hold') return;
      if (o.kind === 'delivered') {
        ops.push('-', a.raw, '');
        delivered++;
        return;
      }
      if (o.kind === 'reject') {
        const code: DlqCode = o.auth ? 'auth' : o.reason === 'render_failed' ? 'render_failed' : 'rejected';
        ops.push('L2', a.raw, dlqItem(a, { code, reason: o.detail, status: o.status }, new Date(now)));
        this.deadLettered(code, 1, o.detail, a.correlationId);
        return;
      }
      const verdict = retryOrGiveUp(a.retryCount, c.MOOG_MAX_RETRIES, c.MOOG_RETRY_EXHAUSTED_MODE);
      if (verdict === 'dlq') {
        const reason = `gave up after ${a.retryCount + 1} attempts (MOOG_MAX_RETRIES=${c.MOOG_MAX_RETRIES}); last: ${o.detail}`;
        ops.push('L2', a.raw, dlqItem(a, { code: 'retries_exhausted', reason }, new Date(now)));
        this.deadLettered('retries_exhausted', 1, reason, a.correlationId);
        return;
      }
      if (verdict === 'retry_exhausted') {
        // A transient fault never dead-letters an alert: it keeps its place in the retry list.
        this.o.metrics.retriesExhausted.inc();
        const suppressed = this.logs.take('retries-exhausted');
        if (suppressed >= 0)
          this.log.warn(
            {
              correlation_id: a.correlationId,
              attempts: a.retryCount + 1,
              last: o.detail,
              max_retries: c.MOOG_MAX_RETRIES,
              suppressed,
            },
            'alert still not delivered after MOOG_MAX_RETRIES retries; retrying at most MOOG_RETRY_MAX_DELAY apart',
          );
      }
      const delay = backoffDelay(
        a.retryCount,
        { baseMs: c.MOOG_RETRY_BASE_DELAY * 1000, maxMs: c.MOOG_RETRY_MAX_DELAY * 1000 },
        this.random,
        o.retryAfterMs,
      );
      const at = now + delay;
      const item = retryItem(a, at, o.reason);
      ops.push('L3', a.raw, item);
      this.retries.noted(item, at);
      retried++;
    });
    // Every alert of the request has its outcome: settled whole when it is the oldest in hand.
    if (ops.length === batch.length * 3) await this.settleWhole(ops);
    else if (ops.length > 0) await this.settle(ops);
    if (delivered > 0) this.o.metrics.alerts.inc({ status: 'success' }, delivered);
    if (retried > 0) this.o.metrics.alerts.inc({ status: 'retry' }, retried);
  }

  /**
   * One request through the breaker and the rate limiter; alerts a content error rejected are tried
   * again in halves until each bad alert stands alone. A failed half-open probe puts the batch back
   * to waiting for the breaker, spending no retry.
   */
  private async attempt(batch: Alert[], mode: CompatMode): Promise<Outcome[]> {
    for (;;) {
      if (this.closed) return batch.map(() => HOLD);
      let probe = false;
      if (this.breaker) {
        const permit = await this.admit();
        if (permit === undefined) return batch.map(() => HOLD);
        probe = permit === 2;
      }
      if (this.rateLimiter && !(await this.slot())) {
        if (probe) await this.retryIfFailed('circuit breaker', () => this.breaker!.release(), FINISH);
        return batch.map(() => HOLD);
      }
      const r = await this.send(batch, mode);
      if (this.breaker) {
        const reply = await this.retryIfFailed(
          'circuit breaker',
          () => this.breaker!.record(r.breaker),
          FINISH,
        );
        if (reply) this.breakerChanged(reply);
        if (probe && r.breaker === 'failure') {
          const suppressed = this.breakerLogs.take('probe-failed');
          if (suppressed >= 0)
            this.log.warn(
              { reason: r.reason, next_probe_in_ms: reply?.waitMs, suppressed },
              'the half-open probe to Moogsoft failed; the breaker is open again',
            );
          continue;
        }
      }
      const split = r.outcomes
        .map((o, i) => (o.kind === 'reject' && o.splittable ? i : -1))
        .filter((i) => i >= 0);
      if (split.length > 1) {
        const sub = split.map((i) => batch[i]!);
        const mid = Math.ceil(sub.length / 2);
        const results = [
          ...(await this.attempt(sub.slice(0, mid), mode)),
          ...(await this.attempt(sub.slice(mid), mode)),
        ];
        const out: Outcome[] = [...r.outcomes];
        split.forEach((i, k) => {
          out[i] = results[k] ?? HOLD;
        });
        return out;
      }
      return r.outcomes;
    }
  }

  /** The sink's send, counted; a sink that throws (a bug) is a retry, never a dead worker. */
  private async send(batch: Alert[], mode: CompatMode): Promise<SendResult> {
    let r: SendResult;
    try {
      r = await this.o.sink.send(batch, { compat: mode });
    } catch (err) {
      this.log.error(
        { err, sink: this.o.sink.name },
        'the sink failed unexpectedly; the batch will be retried',
      );
      const detail = `internal error in the ${this.o.sink.name} sink: ${(err as Error).message}`;
      r = {
        outcomes: batch.map(() => ({ kind: 'retry', reason: 'internal', detail })),
        breaker: 'neutral',
        reason: 'internal',
        latencyMs: 0,
        anomalies: [],
      };
    }
    const m = this.o.metrics;
    m.requests.inc({
      status: r.reason === 'ok' ? 'success' : 'fail',
      reason: r.reason === 'ok' ? '' : r.reason,
    });
    m.latency.observe(r.latencyMs / 1000);
    m.batchSize.observe(batch.length);
    for (const a of r.anomalies) m.anomalies.inc({ reason: a });
    if (r.reason !== 'ok') this.requestFailed(r, batch);
    this.o.journal?.record({
      sink: this.o.sink.name,
      ids: batch.map((a) => a.correlationId),
      outcomes: r.outcomes.map((o) => o.kind),
      reason: r.reason,
      status: r.status,
      latencyMs: r.latencyMs,
      detail: r.outcomes.find((o) => o.kind !== 'delivered')?.detail,
    });
    return r;
  }

  private requestFailed(r: SendResult, batch: Alert[]): void {
    const first = r.outcomes.find(
      (o): o is Exclude<AlertOutcome, { kind: 'delivered' }> => o.kind !== 'delivered',
    );
    const detail = first?.detail ?? r.reason;
    const suppressed = this.logs.take(`request:${r.reason}`);
    if (suppressed < 0) return;
    const fields = {
      sink: this.o.sink.name,
      reason: r.reason,
      status: r.status,
      alerts: batch.length,
      correlation_id: batch[0]?.correlationId,
      detail,
      suppressed,
    };
    if (r.reason === 'auth')
      this.log.error(fields, `${this.o.sink.name} refused the credentials; the alerts go to the DLQ`);
    else if (first?.kind === 'reject') this.log.warn(fields, `${this.o.sink.name} rejected a request`);
    else this.log.warn(fields, `${this.o.sink.name} request failed; the alerts will be retried`);
  }

  private deadLettered(code: DlqCode, n: number, reason: string, correlationId?: string): void {
    this.o.metrics.alerts.inc({ status: 'dlq' }, n);
    this.o.metrics.dlqWrites.inc({ reason: code }, n);
    const suppressed = this.logs.take(`dlq:${code}`);
    if (suppressed >= 0)
      this.log.warn(
        { reason: code, detail: reason, correlation_id: correlationId, suppressed },
        'alert dead-lettered',
      );
  }

  /** Waits for the breaker's permission: 1 send, 2 send as the probe; undefined when closing. */
  private async admit(): Promise<1 | 2 | undefined> {
    for (;;) {
      const reply = await this.retryIfFailed('circuit breaker', () => this.breaker!.acquire());
      if (reply === undefined) return undefined;
      this.breakerChanged(reply);
      if (reply.permit === 1 || reply.permit === 2) return reply.permit;
      await this.sleep(Math.min(Math.max(reply.waitMs, 50), 1000));
      if (this.closed) return undefined;
    }
  }

  /** Waits for a slot of the shared rate limiter; false when closing. Never drops anything. */
  private async slot(): Promise<boolean> {
    let waited = 0;
    for (;;) {
      const a = await this.retryIfFailed('rate limiter', () => this.rateLimiter!.acquire());
      if (a === undefined) return false;
      if (a.ok) {
        if (waited > 0) this.o.metrics.rateLimitWait.inc(waited / 1000);
        return true;
      }
      this.o.metrics.rateLimitHits.inc();
      // Wake when the oldest request leaves the window; a little jitter spreads the waiters.
      const ms = a.retryAfterMs + Math.floor(this.random() * 5);
      waited += ms;
      await this.sleep(ms);
      if (this.closed) return false;
    }
  }

  /**
   * Counts every transition this node made, and logs it — at most once per BREAKER_LOG_MS for each
   * kind of transition, with the number not logged since, so a flapping Moogsoft cannot flood the log.
   */
  private breakerChanged(reply: BreakerReply): void {
    this.o.metrics.breakerState.set(BREAKER_STATE_VALUE[reply.state]);
    const t = reply.transition;
    if (!t) return;
    this.o.metrics.breakerTransitions.inc({ from: t.from, to: t.to });
    const suppressed = this.breakerLogs.take(`${t.from}>${t.to}`);
    if (suppressed < 0) return;
    const fields = { from: t.from, to: t.to, suppressed };
    if (t.to === 'OPEN')
      this.log.error(
        {
          ...fields,
          threshold: this.o.config.CIRCUIT_BREAKER_THRESHOLD,
          next_probe_in_ms: reply.waitMs,
        },
        'circuit breaker opened: alerts wait in the queue until a probe succeeds',
      );
    else if (t.to === 'HALF_OPEN') this.log.info(fields, 'circuit breaker half-open: probing');
    else this.log.info(fields, 'circuit breaker closed: forwarding resumes');
  }

  /**
   * Settles a request whose every alert has an outcome (`ops`: op, alert, replacement, in take order)
   * with one settle-4.lua call when the request is the oldest in hand — the tail of the processing
   * list, as it is when requests finish in the order they were taken: the alerts are not sent back
   * to Redis, nor written again to its append-only file. Otherwise item by item (settle()).
   */
  private async settleWhole(ops: string[]): Promise<void> {
    const { redis, keys, pod } = this.o;
    const n = ops.length / 3;
    const pairs: string[] = [];
    for (let i = 0; i < ops.length; i += 3) if (ops[i] !== '-') pairs.push(ops[i]!, ops[i + 2]!);
    const whole = await this.retryIfFailed(
      'settling alerts',
      () =>
        redis.muttSettle(
          keys.moogProcessing(pod),
          keys.moogDlq,
          keys.moogRetry(pod),
          keys.alertQueue,
          n,
          ops[1]!,
          ops[ops.length - 2]!,
          ...pairs,
        ),
      FINISH,
    );
    if (whole !== 1) await this.settle(ops);
  }

  /**
   * One atomic move of a request's alerts out of the processing list (move-4.lua). Takes push the
   * newest at the head, so a request's alerts (oldest first) are searched from the tail, where the
   * oldest batch in hand lies: each is found at once instead of after every newer alert in hand.
   */
  private async settle(ops: string[]): Promise<void> {
    const { redis, keys, pod } = this.o;
    const r = await this.retryIfFailed(
      'settling alerts',
      () =>
        redis.muttMove(
          keys.moogProcessing(pod),
          keys.moogDlq,
          keys.moogRetry(pod),
          keys.alertQueue,
          -1,
          ...ops,
        ),
      FINISH,
    );
    if (r && r[1] > 0) {
      // A janitor returned them to the queue during a long heartbeat gap: they will be sent again.
      this.log.warn({ missing: r[1] }, 'alerts were no longer in the processing list when settled');
    }
  }
}
