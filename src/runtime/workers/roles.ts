// What each worker role runs. A role module registers its runner here; the daemon starts worker
// threads only for roles of the node (MUTT_ROLES) that have a runner and a non-zero worker count.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Keys } from '../../core/protocol/keys.ts';
import type { ScriptedRedis } from '../../core/protocol/scripts.ts';
import type { Config } from '../config/load.ts';
import type { Logger } from '../logging.ts';
import type { WorkerInit, WorkerRole } from './protocol.ts';

export interface WorkerContext {
  init: WorkerInit;
  config: Config;
  log: Logger;
  /** This thread's registry; the main thread merges it into /metrics. */
  registry: Registry;
  keys: Keys;
  /** Commands; queued while Redis is unreachable and sent on reconnection. */
  redis: ScriptedRedis;
  /** A new dedicated connection, for a blocking loop (BLMOVE, SUBSCRIBE). */
  newRedis(name: string): Redis;
  /** A small PostgreSQL pool (when the node has PostgreSQL). */
  pool(): pg.Pool;
}

export interface RoleHandle {
  /** Finish the batch in hand, give back what is left, close. */
  close(): Promise<void>;
  /** SIGHUP. */
  reload?(): Promise<void> | void;
}

export type RoleRunner = (ctx: WorkerContext) => Promise<RoleHandle>;

export const ROLE_RUNNERS: Partial<Record<WorkerRole, RoleRunner>> = {};
