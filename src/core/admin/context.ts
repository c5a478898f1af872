// What every admin service is given: connections and configuration, never an HTTP request. The
// daemon's web server, the CLI and tests each build one (see createAdminContext), so one function
// adds a rule or replays a DLQ whichever face asked.
import type pg from 'pg';
import type { Config } from '../../runtime/config/load.ts';
import type { Logger } from '../../runtime/logging.ts';
import type { Keys } from '../protocol/keys.ts';
import type { ScriptedRedis } from '../protocol/scripts.ts';
import { AdminError, storeError } from './errors.ts';

export interface AdminContext {
  config: Config;
  keys: Keys;
  redis: ScriptedRedis;
  /** Absent on a node whose roles use no PostgreSQL: database operations answer `unavailable`. */
  pool?: pg.Pool;
  log?: Logger;
  /**
   * The alerter workers whose acknowledgement a rule, host or team write waits for (this node's).
   * Without it, every MUTT alerter with a live heartbeat that reports a generation.
   */
  alerterPods?: () => readonly string[] | Promise<readonly string[]>;
  /** Bound of that wait (default 2000 ms); past it the write answers `applied: false`. */
  applyTimeoutMs?: number;
  /** Each database statement's duration, by operation (mutt_webui_db_query_latency_ms). */
  observeDb?: (operation: string, ms: number) => void;
  /** For `status`: this node's roles and start time (default: the config's roles, now). */
  node?: { roles: readonly string[]; startedAt: number; pod: string };
  now?: () => Date;
}

/** Who changed something, for config_audit_log. */
export interface Actor {
  /** An identifier, never a secret: `api:3f2a9c1e` (a key fingerprint), `cli:root@host`. */
  changedBy: string;
  correlationId?: string;
  reason?: string;
}

export const nowOf = (ctx: AdminContext): Date => (ctx.now ? ctx.now() : new Date());

export function poolOf(ctx: AdminContext): pg.Pool {
  if (!ctx.pool)
    throw new AdminError(
      'unavailable',
      'PostgreSQL is not used by this node (MUTT_ROLES has no alerter or webui)',
    );
  return ctx.pool;
}

/** One statement, timed under `operation`, failures mapped to AdminErrors. */
export async function query<R extends pg.QueryResultRow>(
  ctx: AdminContext,
  operation: string,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  const pool = poolOf(ctx);
  const t0 = performance.now();
  try {
    return await pool.query<R>(text, values);
  } catch (err) {
    throw storeError(err, 'PostgreSQL');
  } finally {
    ctx.observeDb?.(operation, performance.now() - t0);
  }
}

/** A transaction on one client; rolled back when `fn` throws. */
export async function transaction<T>(
  ctx: AdminContext,
  operation: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const pool = poolOf(ctx);
  const t0 = performance.now();
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw storeError(err, 'PostgreSQL');
  }
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const r = await fn(client);
    await client.query('COMMIT');
    return r;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: unknown) => {
      broken = e as Error;
    });
    throw storeError(err, 'PostgreSQL');
  } finally {
    client.release(broken);
    ctx.observeDb?.(operation, performance.now() - t0);
  }
}

/** A Redis call with failures mapped to `unavailable`. */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storeError(err, 'Redis');
  }
}
