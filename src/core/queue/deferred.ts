// Items held back until a due time (the forwarder's retry backoff), kept in Redis in a list that every
// janitor — MUTT's or Python MUTT's — sees as one more processing list with its own heartbeat:
//
//   processing:<pod> ──settle (move-4)──► processing:<pod>-retry ──due (move-4, RPUSH)──► queue (taken next)
//                                           │ heartbeat:<pod>-retry (SETEX, renewed)
//
// The due time travels inside each item (read back with `dueOf`), so items returned to the queue by a
// janitor after a crash, or by release() on a clean stop, keep their backoff: the next consumer sees
// that their time has not come and holds them back again. While the owner lives it remembers due
// times in memory and reads the list only when something is due.
import type { ScriptedRedis } from '../protocol/scripts.ts';

export interface DeferredListOptions {
  redis: ScriptedRedis;
  /** The list of held-back items (a processing-list name, see Keys.moogRetry). */
  list: string;
  heartbeat: string;
  /** Where due items go: pushed to its consumer end, so they are taken next. */
  queue: string;
  heartbeatIntervalSeconds: number;
  heartbeatTtlSeconds: number;
  /** Due time of an item, epoch milliseconds (0 when it carries none: due at once). */
  dueOf: (item: string) => number;
  now?: () => number;
  onHeartbeatError?: (err: Error) => void;
}

export class DeferredList {
  private readonly o: DeferredListOptions;
  private readonly now: () => number;
  private readonly known = new Map<string, number>();
  /** Earliest due time of what the list holds; 0 = unknown, read the list; undefined = empty. */
  private nextDue: number | undefined = 0;
  private timer?: NodeJS.Timeout;

  constructor(o: DeferredListOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  /** Writes the heartbeat now and keeps renewing it. */
  async start(): Promise<void> {
    await this.beat();
    this.timer ??= setInterval(() => {
      this.beat().catch((err: Error) => this.o.onHeartbeatError?.(err));
    }, this.o.heartbeatIntervalSeconds * 1000);
  }

  beat(): Promise<unknown> {
    return this.o.redis.setex(this.o.heartbeat, this.o.heartbeatTtlSeconds, 'alive');
  }

  /** Records an item the caller has just pushed onto the list (with move-4). */
  noted(item: string, dueAt: number): void {
    this.known.set(item, dueAt);
    this.nextDue = this.nextDue === undefined ? dueAt : Math.min(this.nextDue, dueAt);
  }

  /** Milliseconds until the next item is due (0 when due or unknown), undefined when none is held. */
  msUntilDue(): number | undefined {
    return this.nextDue === undefined ? undefined : Math.max(0, this.nextDue - this.now());
  }

  /** Moves every due item to the consumer end of the queue, oldest taken first; returns how many. */
  async releaseDue(): Promise<number> {
    const now = this.now();
    if (this.nextDue === undefined || now < this.nextDue) return 0;
    const { redis, list, queue } = this.o;
    const items = await redis.lrange(list, 0, -1); // newest first
    const due: string[] = [];
    let next: number | undefined;
    const still = new Map<string, number>();
    for (const item of items) {
      const at = this.known.get(item) ?? this.o.dueOf(item);
      if (at <= now) due.push(item);
      else {
        still.set(item, at);
        next = next === undefined ? at : Math.min(next, at);
      }
    }
    this.known.clear();
    for (const [item, at] of still) this.known.set(item, at);
    this.nextDue = next;
    if (due.length === 0) return 0;
    // RPUSH in newest-first order leaves the oldest at the very end of the consumer side.
    let moved = 0;
    for (let i = 0; i < due.length; i += 500) {
      const triples = due.slice(i, i + 500).flatMap((item) => ['R2', item, item]);
      const [found] = await redis.muttMove(list, queue, list, list, -1, ...triples);
      moved += found;
    }
    return moved;
  }

  /** Clean stop: returns every held item to the queue (keeping its due time) and drops the heartbeat. */
  async release(): Promise<number> {
    this.stopHeartbeat();
    const n = await this.o.redis.muttRequeue(this.o.list, this.o.queue);
    await this.o.redis.del(this.o.heartbeat);
    this.known.clear();
    this.nextDue = undefined;
    return n;
  }

  stopHeartbeat(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
