// Messages between the main thread and worker threads, and what a worker is started with.
import type { Config } from '../config/load.ts';
import type { MetricsSnapshot } from '../metrics.ts';
import type { PgEndpoint } from '../postgres.ts';
import type { RedisEndpoint } from '../redis.ts';

export const WORKER_ROLES = ['alerter', 'forwarder', 'remediation'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

export interface WorkerInit {
  role: WorkerRole;
  index: number;
  /** Unique identity in Redis processing lists and heartbeats (no ':'). */
  pod: string;
  config: Config;
  redis: RedisEndpoint;
  postgres?: PgEndpoint;
}

export type ToWorker = { type: 'stop' } | { type: 'reload' } | { type: 'metrics'; id: number };

export type FromWorker =
  { type: 'ready' } | { type: 'metrics'; id: number; snapshot: MetricsSnapshot } | { type: 'stopped' };
