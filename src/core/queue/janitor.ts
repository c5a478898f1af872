// The janitor: finds processing lists (of MUTT's and of Python MUTT's workers alike) whose owner's
// heartbeat is gone and returns their items to the queue. A list is recovered only after its heartbeat
// has been seen absent for a full TTL, so a worker that merely missed one beat keeps its batch; the
// final move re-checks the heartbeat atomically (recover-3.lua).
import { scanAll } from '../../runtime/redis.ts';
import type { ScriptedRedis } from '../protocol/scripts.ts';

export interface JanitorOptions {
  redis: ScriptedRedis;
  /** SCAN pattern matching every processing list of this kind. */
  pattern: string;
  /** Heartbeat key of the worker that owns a processing list. */
  heartbeatOf: (processingKey: string) => string;
  queue: string;
  ttlSeconds: number;
  now?: () => number;
}

export interface Recovery {
  list: string;
  items: number;
}

export class Janitor {
  private readonly o: Required<JanitorOptions>;
  /** When each list was first seen without a heartbeat. */
  private readonly missingSince = new Map<string, number>();

  constructor(o: JanitorOptions) {
    this.o = { now: Date.now, ...o };
  }

  /** One pass over every processing list; returns what it recovered. */
  async sweep(): Promise<Recovery[]> {
    const { redis, pattern, heartbeatOf, queue, ttlSeconds } = this.o;
    const now = this.o.now();
    const lists = await scanAll(redis, pattern);

    const seen = new Set(lists);
    for (const key of this.missingSince.keys()) if (!seen.has(key)) this.missingSince.delete(key);
    if (lists.length === 0) return [];

    const alive = await redis.pipeline(lists.map((l) => ['exists', heartbeatOf(l)])).exec();
    const recovered: Recovery[] = [];
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i]!;
      if (Number(alive?.[i]?.[1] ?? 1) === 1) {
        this.missingSince.delete(list);
        continue;
      }
      const since = this.missingSince.get(list);
      if (since === undefined) {
        this.missingSince.set(list, now);
        continue;
      }
      if (now - since < ttlSeconds * 1000) continue;
      const n = await redis.muttRecover(list, heartbeatOf(list), queue);
      this.missingSince.delete(list);
      if (n > 0) recovered.push({ list, items: n });
    }
    return recovered;
  }
}
