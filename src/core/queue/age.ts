// How long the oldest item of a queue has waited, read when /metrics is scraped. Producers LPUSH, so
// the oldest item is the tail (LINDEX -1). An event is dated by `received_at` (MUTT's listeners set
// it; else its `timestamp`), an alert by `alerted_at` (else its event's `received_at`). A depth says
// how much waits; the age says whether it moves: a queue of 10,000 that is 2 s old is healthy, a
// queue of 10 that is an hour old is stuck.
import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import { parseJsonLenient } from '../protocol/json.ts';

export interface AgedQueue {
  /** Label value: `ingest`, `alert`. */
  queue: string;
  key: string;
  kind: 'event' | 'alert';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The instant an item entered the pipeline, in epoch ms, or undefined when it does not say. */
export function itemTime(raw: string, kind: AgedQueue['kind']): number | undefined {
  let o: unknown;
  try {
    o = parseJsonLenient(raw);
  } catch {
    return undefined;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const item = o as Record<string, unknown>;
  const event =
    kind === 'alert' && item.raw_json && typeof item.raw_json === 'object'
      ? (item.raw_json as Record<string, unknown>)
      : item;
  const candidates =
    kind === 'alert' ? [item.alerted_at, event.received_at] : [item.received_at, item.timestamp];
  for (const c of candidates) {
    const t = Date.parse(str(c) ?? '');
    if (Number.isFinite(t)) return t;
  }
  return undefined;
}

export function registerQueueAgeMetrics(
  registry: Registry,
  redis: Pick<Redis, 'lindex'>,
  queues: readonly AgedQueue[],
  now: () => number = Date.now,
): Gauge<'queue'> {
  return new Gauge({
    name: 'mutt_queue_oldest_age_seconds',
    help: 'Seconds the oldest item of a queue has waited (queue: ingest = mutt:ingest_queue since the event was received, alert = mutt:alert_queue since the alert was made); 0 when the queue is empty',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      for (const q of queues) {
        try {
          const raw = await redis.lindex(q.key, -1);
          if (raw === null) {
            this.set({ queue: q.queue }, 0);
            continue;
          }
          const t = itemTime(raw, q.kind);
          if (t === undefined) this.remove({ queue: q.queue });
          else this.set({ queue: q.queue }, Math.max(0, (now() - t) / 1000));
        } catch {
          // Redis unreachable: no sample (mutt_redis_up says why).
          this.remove({ queue: q.queue });
        }
      }
    },
  });
}
