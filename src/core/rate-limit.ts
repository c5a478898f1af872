// Sliding-window rate limiter shared through Redis by every node (MUTT's and Python's), using the
// rate-limit-sliding-1 Lua script. Requests that arrive in the same event-loop tick are admitted with
// one round trip. Scores are in the unit the key's other users expect: epoch seconds (float) for the
// ingest limiter, epoch milliseconds for the Moogsoft limiter (PROTOCOL.md).
import type { ScriptedRedis } from './protocol/scripts.ts';

export interface SlidingWindowOptions {
  redis: ScriptedRedis;
  key: string;
  limit: number;
  windowMs: number;
  unit: 'seconds' | 'milliseconds';
  /** Unique per process (pod id); members are `<member>:<counter>:<i>`. */
  member: string;
  now?: () => number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

interface Waiter {
  resolve: (a: Admission) => void;
  reject: (e: Error) => void;
}

export class SlidingWindowLimiter {
  private readonly o: Required<SlidingWindowOptions>;
  private waiting: Waiter[] = [];
  private scheduled = false;
  private counter = 0;

  constructor(o: SlidingWindowOptions) {
    this.o = { now: Date.now, ...o };
  }

  /** Asks for one slot. Rejects only when Redis cannot be reached. */
  acquire(): Promise<Admission> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    const { redis, key, limit, windowMs, unit, member } = this.o;
    const nowMs = this.o.now();
    const scale = unit === 'seconds' ? 1000 : 1;
    try {
      const [admitted, oldestRaw] = await redis.muttRateLimitSliding(
        key,
        limit,
        windowMs / scale,
        nowMs / scale,
        batch.length,
        `${member}:${++this.counter}`,
        Math.ceil(windowMs) + 1000,
      );
      const oldest = Number(oldestRaw);
      const retryAfterMs = oldest >= 0 ? Math.max(1, oldest * scale + windowMs - nowMs) : windowMs;
      batch.forEach((w, i) => {
        w.resolve(i < admitted ? { ok: true } : { ok: false, retryAfterMs });
      });
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
    }
  }
}
