// PostgreSQL pools (pg). A pool opens connections on demand and replaces broken ones by itself;
// start-up waits for the server with capped backoff and says what it waits for.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Config } from './config/load.ts';
import { type Logger, LogLimiter } from './logging.ts';
import { abortableSleep } from './sleep.ts';

export type PgConfig = Pick<
  Config,
  | 'DB_HOST'
  | 'DB_PORT'
  | 'DB_NAME'
  | 'DB_USER'
  | 'DB_PASS'
  | 'DB_TLS_ENABLED'
  | 'DB_TLS_CA_CERT_PATH'
  | 'DB_POOL_MIN_CONN'
  | 'DB_POOL_MAX_CONN'
>;

/** `host` may be a Unix-socket directory (the embedded server). */
export interface PgEndpoint {
  host: string;
  port: number;
}

export function pgEndpointFromConfig(c: PgConfig, embedded?: PgEndpoint): PgEndpoint {
  return embedded ?? { host: c.DB_HOST ?? 'localhost', port: c.DB_PORT };
}

export function describePg(e: PgEndpoint, database: string): string {
  return e.host.startsWith('/')
    ? `unix:${e.host}/.s.PGSQL.${e.port} db=${database}`
    : `${e.host}:${e.port}/${database}`;
}

export interface CreatePoolOptions {
  name: string;
  log: Logger;
  max?: number;
  min?: number;
  database?: string;
}

export function createPool(c: PgConfig, endpoint: PgEndpoint, o: CreatePoolOptions): pg.Pool {
  const ssl =
    c.DB_TLS_ENABLED && !endpoint.host.startsWith('/')
      ? {
          rejectUnauthorized: true,
          ca: c.DB_TLS_CA_CERT_PATH ? readFileSync(c.DB_TLS_CA_CERT_PATH, 'utf8') : undefined,
        }
      : undefined;
  const pool = new pg.Pool({
    host: endpoint.host,
    port: endpoint.port,
    database: o.database ?? c.DB_NAME,
    user: c.DB_USER,
    password: c.DB_PASS,
    ssl,
    max: o.max ?? c.DB_POOL_MAX_CONN,
    min: o.min ?? 0,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    application_name: `mutt:${o.name}`,
  });
  const limiter = new LogLimiter(30_000);
  // An idle client that loses its server emits 'error' on the pool; without a listener Node crashes.
  pool.on('error', (err) => {
    // pool.end() resolves before its idle clients' sockets have closed: a server stopped right after
    // (as `mutt migrate` stops the embedded cluster) ends them with 57P01, which is no news.
    if (pool.ending) return;
    const suppressed = limiter.take('idle');
    if (suppressed >= 0)
      o.log.warn({ err: { message: err.message }, pool: o.name, suppressed }, 'PostgreSQL connection lost');
  });
  return pool;
}

/** Retries `SELECT 1` until it works, logging each wait; rejects only when aborted. */
export async function waitForPostgres(
  pool: pg.Pool,
  what: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await pool.query('SELECT 1');
      if (attempt > 1) log.info({ postgres: what }, 'PostgreSQL is reachable');
      return;
    } catch (err) {
      const delay = Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
      log.warn(
        {
          postgres: what,
          attempt,
          retry_in_ms: delay,
          err: { message: (err as Error).message, code: (err as { code?: string }).code },
        },
        'waiting for PostgreSQL',
      );
      await abortableSleep(delay, signal);
    }
  }
}

/** True when PostgreSQL answers within the timeout. */
export async function pingPostgres(
  pool: pg.Pool,
  timeoutMs = 2000,
): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pool.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
