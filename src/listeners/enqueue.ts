// The one path from every listener into Redis. Events submitted while a flush is in flight are
// gathered and pushed together: one Lua call (queue cap check + LPUSH + metrics-bucket INCRBYs, atomic)
// per batch, never one round trip per event. A caller's promise resolves only after Redis acknowledged
// the batch that holds its events, so "acknowledged" always means "in Redis".
import type { Keys } from '../core/protocol/keys.ts';
import { METRICS_BUCKET_TTL } from '../core/protocol/keys.ts';
import type { ScriptedRedis } from '../core/protocol/scripts.ts';

export type EnqueueOutcome = { ok: true; depth: number } | { ok: false; depth: number; limit: number };

export class RedisUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Redis unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'RedisUnavailableError';
  }
}

export interface EnqueuerOptions {
  redis: ScriptedRedis;
  keys: Keys;
  /** MAX_INGEST_QUEUE_SIZE: the whole batch is refused when the queue holds this many items. */
  cap: number;
  /** Largest batch per Lua call, in events and in bytes. */
  maxBatchItems?: number;
  maxBatchBytes?: number;
  /** Batches in flight at once (pipelined on the one connection). */
  maxInFlight?: number;
  now?: () => Date;
  /** Called after each Redis round trip (for metrics). */
  onFlush?: (info: { events: number; seconds: number; ok: boolean; depth: number }) => void;
}

interface Entry {
  items: readonly string[];
  bytes: number;
  resolve: (o: EnqueueOutcome) => void;
  reject: (e: Error) => void;
}

export class Enqueuer {
  private readonly o: Required<Omit<EnqueuerOptions, 'onFlush'>> & Pick<EnqueuerOptions, 'onFlush'>;
  private waiting: Entry[] = [];
  private waitingItems = 0;
  private inFlight = 0;
  private inFlightItems = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Queue depth seen by the latest successful round trip. */
  lastDepth = 0;

  constructor(options: EnqueuerOptions) {
    this.o = {
      maxBatchItems: 5000,
      maxBatchBytes: 8 * 1024 * 1024,
      maxInFlight: 2,
      now: () => new Date(),
      ...options,
    };
  }

  /** Events waiting for or inside a round trip. */
  get pending(): number {
    return this.waitingItems + this.inFlightItems;
  }

  get cap(): number {
    return this.o.cap;
  }

  /** Enqueues serialized events; resolves once Redis acknowledged them (or refused them at the cap). */
  push(items: readonly string[]): Promise<EnqueueOutcome> {
    if (items.length === 0) return Promise.resolve({ ok: true, depth: this.lastDepth });
    return new Promise((resolve, reject) => {
      let bytes = 0;
      for (const s of items) bytes += s.length;
      this.waiting.push({ items, bytes, resolve, reject });
      this.waitingItems += items.length;
      this.schedule();
    });
  }

  /** Resolves when nothing is waiting or in flight. */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.o.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    // setImmediate: everything that arrives in the current I/O phase joins this batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.waiting.length > 0 && this.inFlight < this.o.maxInFlight) {
      const batch: Entry[] = [];
      let n = 0;
      let bytes = 0;
      let take = 0;
      while (take < this.waiting.length) {
        const e = this.waiting[take]!;
        if (
          batch.length > 0 &&
          (n + e.items.length > this.o.maxBatchItems || bytes + e.bytes > this.o.maxBatchBytes)
        )
          break;
        batch.push(e);
        take++;
        n += e.items.length;
        bytes += e.bytes;
      }
      this.waiting = take === this.waiting.length ? [] : this.waiting.slice(take);
      this.waitingItems -= n;
      this.inFlight++;
      this.inFlightItems += n;
      void this.send(batch, n).finally(() => {
        this.inFlight--;
        this.inFlightItems -= n;
        if (this.waiting.length > 0) this.schedule();
        else if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async send(batch: Entry[], n: number): Promise<void> {
    const { keys, redis, cap } = this.o;
    const b = keys.metricsBuckets(this.o.now());
    const args: (string | number)[] = [
      keys.ingestQueue,
      b['1m'],
      b['1h'],
      b['24h'],
      cap,
      METRICS_BUCKET_TTL['1m'],
      METRICS_BUCKET_TTL['1h'],
      METRICS_BUCKET_TTL['24h'],
    ];
    for (const e of batch) for (const item of e.items) args.push(item);
    const started = performance.now();
    let reply: [number, number];
    try {
      reply = await redis.muttEnqueue(...args);
    } catch (err) {
      const error = new RedisUnavailableError(err);
      for (const e of batch) e.reject(error);
      this.o.onFlush?.({
        events: n,
        seconds: (performance.now() - started) / 1000,
        ok: false,
        depth: this.lastDepth,
      });
      return;
    }
    const [accepted, depth] = reply;
    this.lastDepth = depth;
    const outcome: EnqueueOutcome = accepted === 1 ? { ok: true, depth } : { ok: false, depth, limit: cap };
    for (const e of batch) e.resolve(outcome);
    this.o.onFlush?.({ events: n, seconds: (performance.now() - started) / 1000, ok: accepted === 1, depth });
  }
}
