// What a worker role is given and what it returns. A role module (the alerter in core, the forwarder
// and remediation in forwarder/) exports a RoleRunner; the composition root (src/app/roles.ts) maps
// each role of MUTT_ROLES to its runner, and the worker bootstrap (src/app/worker.ts) builds the
// context and calls it.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Config } from '../runtime/config/load.ts';
import type { Logger } from '../runtime/logging.ts';
import type { SecretStore } from '../runtime/secrets/store.ts';
import type { WorkerInit } from '../runtime/workers/protocol.ts';
import type { Keys } from './protocol/keys.ts';
import type { ScriptedRedis } from './protocol/scripts.ts';

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
  /**
   * The secrets in force in this thread. They change without a restart (a new Vault version, a
   * SIGHUP re-read): read them when needed or subscribe with onChange(). Connections from redis,
   * newRedis() and pool() follow password rotations by themselves.
   */
  secrets: SecretStore;
}

export interface RoleHandle {
  /** Finish the batch in hand, give back what is left, close. */
  close(): Promise<void>;
  /** SIGHUP. */
  reload?(): Promise<void> | void;
}

export type RoleRunner = (ctx: WorkerContext) => Promise<RoleHandle>;
