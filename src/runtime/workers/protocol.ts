// Messages between the main thread and worker threads, and what a worker is started with.
import type { Config } from '../config/load.ts';
import type { MetricsSnapshot } from '../metrics.ts';
import type { PgEndpoint } from '../postgres.ts';
import type { RedisEndpoint } from '../redis.ts';
import type { SecretValues } from '../secrets/store.ts';

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
  /** The secrets in force when the thread starts (later changes arrive as `secrets` messages). */
  secrets: SecretValues;
}

export type ToWorker =
  | { type: 'stop' }
  | { type: 'reload' }
  | { type: 'metrics'; id: number }
  /** Every secret in force, after a change (a new Vault version, a SIGHUP re-read). */
  | { type: 'secrets'; values: SecretValues };

export type FromWorker =
  { type: 'ready' } | { type: 'metrics'; id: number; snapshot: MetricsSnapshot } | { type: 'stopped' };
