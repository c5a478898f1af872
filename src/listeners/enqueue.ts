// The one path from every listener into Redis. Events submitted while a flush is in flight are
// gathered and pushed together: one Lua call (queue cap check + LPUSH + metrics-bucket INCRBYs, atomic)
// per batch, never one round trip per event. A caller's promise resolves only after Redis acknowledged
// the batch that holds its events, so "acknowledged" always means "in Redis" — and, with
// REDIS_MIN_REPLICAS_ACK, "on that many replicas too" (WAIT after the push): an acknowledged event then
// survives a failover that loses the master.
import type { Keys } from '../core/protocol/keys.ts';
import { METRICS_BUCKET_TTL } from '../core/protocol/keys.ts';
import type { ScriptedRedis } from '../core/protocol/scripts.ts';

export type EnqueueOutcome =
  | {
      ok: true;
      depth: number;
      /**
       * A best-effort push (UDP) that the master has but fewer than REDIS_MIN_REPLICAS_ACK replicas
       * confirmed in time: queued, not pushed again (that would queue it twice).
       */
      unreplicated?: boolean;
    }
  | { ok: false; depth: number; limit: number };

export class RedisUnavailableError extends Error {
  constructor(cause: unknown, message?: string) {
    super(message ?? `Redis unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'RedisUnavailableError';
  }
}

/**
 * The master has the batch but fewer replicas than REDIS_MIN_REPLICAS_ACK confirmed it in time: it is
 * not acknowledged. A caller that can hold its events (a paused TCP connection) waits for the replicas
 * with confirmReplicas(error.epoch) rather than pushing them again, which would queue them twice.
 */
export class ReplicaAckError extends RedisUnavailableError {
  readonly confirmed: number;
  readonly wanted: number;
  /** The connection the batch was written on (see Enqueuer.confirmReplicas). */
  readonly epoch: number;
  constructor(confirmed: number, wanted: number, timeoutMs: number, epoch: number) {
    super(
      undefined,
      `only ${confirmed} of ${wanted} Redis replica(s) confirmed the events within ${timeoutMs} ms (REDIS_MIN_REPLICAS_ACK)`,
    );
    this.name = 'ReplicaAckError';
    this.confirmed = confirmed;
    this.wanted = wanted;
    this.epoch = epoch;
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
  /** Replicas that must confirm a batch (WAIT) before it is acknowledged (REDIS_MIN_REPLICAS_ACK). */
  replicas?: { count: number; timeoutMs: number };
  /** Called after each Redis round trip (for metrics). */
  onFlush?: (info: { events: number; seconds: number; ok: boolean; depth: number }) => void;
  /** Called after each WAIT for replicas (for metrics). */
  onReplicaWait?: (info: { seconds: number; confirmed: number; wanted: number }) => void;
}

interface Entry {
  items: readonly string[];
  bytes: number;
  bestEffort: boolean;
  resolve: (o: EnqueueOutcome) => void;
  reject: (e: Error) => void;
}

export class Enqueuer {
  private readonly o: Required<Omit<EnqueuerOptions, 'onFlush' | 'onReplicaWait' | 'replicas'>> &
    Pick<EnqueuerOptions, 'onFlush' | 'onReplicaWait' | 'replicas'>;
  private waiting: Entry[] = [];
  private waitingItems = 0;
  private inFlight = 0;
  private inFlightItems = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Queue depth seen by the latest successful round trip. */
  lastDepth = 0;
  /** Counts the connection's losses: WAIT confirms only the writes of the connection it is sent on. */
  private epoch = 0;

  constructor(options: EnqueuerOptions) {
    this.o = {
      maxBatchItems: 5000,
      maxBatchBytes: 8 * 1024 * 1024,
      maxInFlight: 2,
      now: () => new Date(),
      ...options,
    };
    if (this.o.replicas && this.o.replicas.count > 0) this.o.redis.on('close', () => this.epoch++);
  }

  /** Events waiting for or inside a round trip. */
  get pending(): number {
    return this.waitingItems + this.inFlightItems;
  }

  get cap(): number {
    return this.o.cap;
  }

  /**
   * Enqueues serialized events; resolves once Redis acknowledged them (or refused them at the cap).
   * `bestEffort` (UDP, which acknowledges nothing to its senders): when the replicas do not confirm in
   * time, resolve as queued (`unreplicated`) instead of rejecting with ReplicaAckError.
   */
  push(items: readonly string[], o: { bestEffort?: boolean } = {}): Promise<EnqueueOutcome> {
    if (items.length === 0) return Promise.resolve({ ok: true, depth: this.lastDepth });
    return new Promise((resolve, reject) => {
      let bytes = 0;
      for (const s of items) bytes += s.length;
      this.waiting.push({ items, bytes, bestEffort: o.bestEffort === true, resolve, reject });
      this.waitingItems += items.length;
      this.schedule();
    });
  }

  /**
   * For a batch refused with ReplicaAckError: waits (WAIT, up to the timeout) for the replicas to
   * confirm every write made so far on the connection, the batch's included. 'confirmed': the batch
   * is acknowledged now; 'timeout': still not; 'lost': the connection it was written on is gone, so
   * whether the batch survived is unknown and it must be pushed again.
   */
  async confirmReplicas(epoch: number): Promise<'confirmed' | 'timeout' | 'lost'> {
    const replicas = this.o.replicas;
    if (!replicas || replicas.count === 0) return 'confirmed';
    if (epoch !== this.epoch) return 'lost';
    const waited = performance.now();
    let confirmed: number;
    try {
      confirmed = Number(await this.o.redis.wait(replicas.count, replicas.timeoutMs));
    } catch {
      return epoch === this.epoch ? 'timeout' : 'lost';
    }
    if (epoch !== this.epoch) return 'lost';
    this.o.onReplicaWait?.({
      seconds: (performance.now() - waited) / 1000,
      confirmed,
      wanted: replicas.count,
    });
    return confirmed >= replicas.count ? 'confirmed' : 'timeout';
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
    const epoch = this.epoch;
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
    const replicas = this.o.replicas;
    if (accepted === 1 && replicas && replicas.count > 0) {
      const fail = (error: Error, unreplicated: boolean) => {
        for (const e of batch) {
          if (unreplicated && e.bestEffort) e.resolve({ ok: true, depth, unreplicated: true });
          else e.reject(error);
        }
        this.o.onFlush?.({ events: n, seconds: (performance.now() - started) / 1000, ok: false, depth });
      };
      // Sent after the push's reply, never pipelined with it: ioredis re-sends a script the server
      // does not know (a new master after a failover) as EVAL after anything queued behind it.
      const waited = performance.now();
      let confirmed: number;
      try {
        confirmed = Number(await redis.wait(replicas.count, replicas.timeoutMs));
      } catch (err) {
        fail(new RedisUnavailableError(err), false);
        return;
      }
      // A reconnection in between: the WAIT counted another connection's writes.
      if (this.epoch !== epoch) {
        fail(
          new RedisUnavailableError(new Error('the connection was lost before the replicas confirmed')),
          false,
        );
        return;
      }
      this.o.onReplicaWait?.({
        seconds: (performance.now() - waited) / 1000,
        confirmed,
        wanted: replicas.count,
      });
      if (confirmed < replicas.count) {
        fail(new ReplicaAckError(confirmed, replicas.count, replicas.timeoutMs, epoch), true);
        return;
      }
    }
    const outcome: EnqueueOutcome = accepted === 1 ? { ok: true, depth } : { ok: false, depth, limit: cap };
    for (const e of batch) e.resolve(outcome);
    this.o.onFlush?.({ events: n, seconds: (performance.now() - started) / 1000, ok: accepted === 1, depth });
  }
}
