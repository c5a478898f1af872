// HTTP ingest wiring: the Hono app with its enqueuer, shared rate limiter and metrics, from the
// configuration. The daemon serves it; tests call it in-process with app.request().
import type { Registry } from 'prom-client';
import type { Keys } from '../../core/protocol/keys.ts';
import type { ScriptedRedis } from '../../core/protocol/scripts.ts';
import { SlidingWindowLimiter } from '../../core/rate-limit.ts';
import { ApiKeyRing, apiKeyRing } from '../../core/security.ts';
import type { Config } from '../../runtime/config/load.ts';
import type { Logger } from '../../runtime/logging.ts';
import type { SecretStore } from '../../runtime/secrets/store.ts';
import { Enqueuer } from '../enqueue.ts';
import { createIngestApp, type HealthReport } from './app.ts';
import { createIngestMetrics } from './metrics.ts';

export { createIngestApp, INGEST_PATHS, RETRY_AFTER_SECONDS } from './app.ts';

export type IngestConfig = Pick<
  Config,
  | 'INGEST_API_KEY'
  | 'INGEST_API_KEY_PREVIOUS'
  | 'REQUIRED_MESSAGE_FIELDS'
  | 'INGEST_MAX_BODY_BYTES'
  | 'MAX_INGEST_QUEUE_SIZE'
  | 'INGEST_RATE_LIMIT'
  | 'INGEST_RATE_WINDOW'
  | 'podName'
>;

export interface IngestDeps {
  config: IngestConfig;
  redis: ScriptedRedis;
  keys: Keys;
  registry: Registry;
  log: Logger;
  /** The secrets in force (the API keys follow rotations); the configuration's keys when absent. */
  secrets?: SecretStore;
  /** The enqueuer shared with the other listeners (one is created when not given). */
  enqueuer?: Enqueuer;
  health: () => Promise<HealthReport>;
  metricsText: () => Promise<{ contentType: string; body: string }>;
}

export function createIngest(d: IngestDeps) {
  const c = d.config;
  const metrics = createIngestMetrics(
    d.registry,
    async () => {
      try {
        return await d.redis.llen(d.keys.ingestQueue);
      } catch {
        return undefined;
      }
    },
    c.MAX_INGEST_QUEUE_SIZE,
  );
  const enqueuer = d.enqueuer ?? new Enqueuer({ redis: d.redis, keys: d.keys, cap: c.MAX_INGEST_QUEUE_SIZE });
  const rateLimiter =
    c.INGEST_RATE_LIMIT > 0
      ? new SlidingWindowLimiter({
          redis: d.redis,
          key: d.keys.ingestRateLimit,
          limit: c.INGEST_RATE_LIMIT,
          windowMs: c.INGEST_RATE_WINDOW * 1000,
          unit: 'seconds',
          member: c.podName,
        })
      : undefined;
  const app = createIngestApp({
    apiKey: d.secrets
      ? apiKeyRing(d.secrets, 'INGEST_API_KEY', 'INGEST_API_KEY_PREVIOUS')
      : new ApiKeyRing(c.INGEST_API_KEY, c.INGEST_API_KEY_PREVIOUS),
    required: c.REQUIRED_MESSAGE_FIELDS,
    maxBodyBytes: c.INGEST_MAX_BODY_BYTES,
    enqueuer,
    rateLimiter,
    metrics,
    log: d.log,
    health: d.health,
    metricsText: d.metricsText,
  });
  return { app, enqueuer, metrics };
}
