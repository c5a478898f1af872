// PostgreSQL pools (pg). A pool opens connections on demand and replaces broken ones by itself;
// start-up waits for the server with capped backoff and says what it waits for.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Registry } from 'prom-client';
import type { Config } from './config/load.ts';
import { type Logger, LogLimiter } from './logging.ts';
import { describeHost, type PgHost, parsePgHosts, PrimaryLocator, primaryClientClass } from './pg-primary.ts';
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
  /** The members of a cluster with failover (DB_HOST lists several): connect to the writable one. */
  members?: PgHost[];
}

export function pgEndpointFromConfig(c: PgConfig, embedded?: PgEndpoint): PgEndpoint {
  if (embedded) return embedded;
  const hosts = parsePgHosts(c.DB_HOST ?? 'localhost', c.DB_PORT);
  // The configuration was validated: a list that does not parse cannot reach here.
  if (typeof hosts === 'string') throw new Error(`DB_HOST: ${hosts}`);
  const first = hosts[0]!;
  return hosts.length > 1 ? { ...first, members: hosts } : first;
}

export function describePg(e: PgEndpoint, database: string): string {
  if (e.members) return `${e.members.map(describeHost).join(',')}/${database} (the member accepting writes)`;
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
  /** Where the primary search of a multi-member DB_HOST reports (mutt_db_primary_*). */
  registry?: Registry;
}

export function createPool(c: PgConfig, endpoint: PgEndpoint, o: CreatePoolOptions): pg.Pool {
  const ssl =
    c.DB_TLS_ENABLED && !endpoint.host.startsWith('/')
      ? {
          rejectUnauthorized: true,
          ca: c.DB_TLS_CA_CERT_PATH ? readFileSync(c.DB_TLS_CA_CERT_PATH, 'utf8') : undefined,
        }
      : undefined;
  const settings = {
    host: endpoint.host,
    port: endpoint.port,
    database: o.database ?? c.DB_NAME,
    user: c.DB_USER,
    password: c.DB_PASS,
    ssl,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    application_name: `mutt:${o.name}`,
  };
  const pool = new pg.Pool({
    ...settings,
    max: o.max ?? c.DB_POOL_MAX_CONN,
    min: o.min ?? 0,
    idleTimeoutMillis: 30_000,
    ...(endpoint.members && {
      Client: primaryClientClass(
        new PrimaryLocator({ hosts: endpoint.members, client: settings, log: o.log, registry: o.registry }),
      ),
    }),
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
