// The reliable-queue pattern of PROTOCOL.md, shared by the alerter and the forwarder:
//
//   queue ──take (Lua, up to N) / BLMOVE when idle──► processing:<pod> ──ack (LREM)──► gone
//                                                        │ heartbeat:<pod> (SETEX, renewed)
//   janitor: a processing list whose heartbeat stayed absent a full TTL goes back to the queue
//
// An item leaves the processing list only when the consumer acknowledges it, after its work is
// durable. On a clean stop, what is still in hand is returned to the queue; after a crash, the
// janitor of any node (MUTT's or Python's pattern) returns it.
import type { Redis } from 'ioredis';
import type { ScriptedRedis } from '../protocol/scripts.ts';

export interface ReliableQueueOptions {
  /** Commands (pipelined, non-blocking). */
  redis: ScriptedRedis;
  /** A dedicated connection for the blocking move. */
  blocking: Redis;
  queue: string;
  processing: string;
  heartbeat: string;
  /** Most items moved per take. */
  batchSize: number;
  /** Seconds a take blocks when the queue is empty (BRPOPLPUSH_TIMEOUT). */
  blockSeconds: number;
  heartbeatIntervalSeconds: number;
  /** TTL of the heartbeat key (the janitor timeout). */
  heartbeatTtlSeconds: number;
  /** Called when writing the heartbeat fails (the timer keeps trying). */
  onHeartbeatError?: (err: Error) => void;
}

export class ReliableQueue {
  readonly o: ReliableQueueOptions;
  private timer?: NodeJS.Timeout;

  constructor(o: ReliableQueueOptions) {
    this.o = o;
  }

  /** Writes the heartbeat now (before consuming anything) and keeps renewing it. */
  async start(): Promise<void> {
    await this.beat();
    this.timer ??= setInterval(() => {
      this.beat().catch((err: Error) => this.o.onHeartbeatError?.(err));
    }, this.o.heartbeatIntervalSeconds * 1000);
  }

  beat(): Promise<unknown> {
    return this.o.redis.setex(this.o.heartbeat, this.o.heartbeatTtlSeconds, 'alive');
  }

  /**
   * Returns the next batch, oldest first: everything unacknowledged in the processing list (left by an
   * earlier life of this worker, or by a lost reply) topped up from the queue to `max`. Acknowledge a
   * batch before taking the next. When both lists are empty it blocks up to blockSeconds on the
   * dedicated connection and returns what arrived (possibly nothing). `blockSeconds` shortens the
   * wait for a caller that has something else due sooner (0 does not block).
   */
  async take(max = this.o.batchSize, blockSeconds = this.o.blockSeconds): Promise<string[]> {
    const { redis, blocking, queue, processing } = this.o;
    const batch = await redis.muttTake(queue, processing, max);
    if (batch.length > 0 || blockSeconds <= 0) return batch;
    // BLMOVE takes a decimal timeout; 0 would mean "forever", hence the floor of 10 ms.
    const wait = Math.max(0.01, Math.round(blockSeconds * 100) / 100);
    const one = await blocking.blmove(queue, processing, 'RIGHT', 'LEFT', wait);
    if (one === null) return [];
    // Something arrived: take it and whatever else came with it in the same round.
    return max <= 1 ? [one] : redis.muttTake(queue, processing, max);
  }

  /**
   * Moves up to `max` more items into the processing list without blocking and returns only those,
   * oldest first: for a consumer with batches in flight, which knows what it already holds. A plain
   * take() once nothing is in flight returns anything else the list holds.
   */
  takeMore(max = this.o.batchSize): Promise<string[]> {
    return this.o.redis.muttTake(this.o.queue, this.o.processing, max, 'new');
  }

  /** Removes finished items from the processing list; returns how many were still there. */
  async ack(items: readonly string[]): Promise<number> {
    if (items.length === 0) return 0;
    let removed = 0;
    // LREM per item is O(list length); the list holds at most a batch, and slices keep ARGV small.
    for (let i = 0; i < items.length; i += 1000) {
      removed += await this.o.redis.muttAck(this.o.processing, ...items.slice(i, i + 1000));
    }
    return removed;
  }

  /** Stops the heartbeat, returns what is still in hand to the queue, and removes the heartbeat. */
  async release(): Promise<number> {
    clearInterval(this.timer);
    this.timer = undefined;
    const n = await this.o.redis.muttRequeue(this.o.processing, this.o.queue);
    await this.o.redis.del(this.o.heartbeat);
    return n;
  }

  /** Stops the heartbeat only (a crash-like stop, for tests of recovery). */
  stopHeartbeat(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
