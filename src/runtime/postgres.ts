// PostgreSQL pools (pg). A pool opens connections on demand and replaces broken ones by itself;
// start-up waits for the server with capped backoff and says what it waits for (a refused
// certificate or password is named).
//
// Passwords: every new connection asks the thread's PasswordPair (DB_PASS_CURRENT, then DB_PASS_NEXT
// when PostgreSQL answers 28P01), so `ALTER ROLE … PASSWORD` during a rotation costs no failed
// query. Sessions already open stay authenticated; they end in the pool's normal course.
import pg from 'pg';
import type { Registry } from 'prom-client';
import type { Config } from './config/load.ts';
import { type Logger, LogLimiter } from './logging.ts';
import { describeHost, type PgHost, parsePgHosts, PrimaryLocator, primaryClientClass } from './pg-primary.ts';
import { type Candidate, DB_PASSWORDS, isPgAuthError, PasswordPair } from './secrets/rotation.ts';
import { SecretStore } from './secrets/store.ts';
import { abortableSleep } from './sleep.ts';
import { clientTls, describeTlsError } from './tls.ts';

export type PgConfig = Pick<
  Config,
  | 'DB_HOST'
  | 'DB_PORT'
  | 'DB_NAME'
  | 'DB_USER'
  | 'DB_PASS'
  | 'DB_PASS_CURRENT'
  | 'DB_PASS_NEXT'
  | 'DB_TLS_ENABLED'
  | 'DB_TLS_CA_CERT_PATH'
  | 'DB_TLS_CERT_PATH'
  | 'DB_TLS_KEY_PATH'
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

/** The thread's PostgreSQL passwords, from the secrets in force (or, without a store, the configuration). */
export function dbPasswords(
  c: PgConfig,
  log: Logger,
  store?: SecretStore,
  registry?: Registry,
): PasswordPair {
  return new PasswordPair({
    store:
      store ??
      new SecretStore({
        DB_PASS: c.DB_PASS,
        DB_PASS_CURRENT: c.DB_PASS_CURRENT,
        DB_PASS_NEXT: c.DB_PASS_NEXT,
      }),
    names: DB_PASSWORDS,
    service: 'PostgreSQL',
    user: c.DB_USER,
    log,
    registry,
  });
}

export interface CreatePoolOptions {
  name: string;
  log: Logger;
  max?: number;
  min?: number;
  database?: string;
  /** Where the primary search of a multi-member DB_HOST reports (mutt_db_primary_*). */
  registry?: Registry;
  /** The thread's passwords (shared by its pools); one from the configuration when absent. */
  passwords?: PasswordPair;
}

/**
 * A pool whose new connections authenticate with the pair's preferred password and, when PostgreSQL
 * refuses it (28P01), once more with the other. Only the public connect() is wrapped; pool.query()
 * goes through it.
 */
class RotatingPool extends pg.Pool {
  private readonly passwords: PasswordPair;
  /** The candidate the pair offered when the last new connection asked for a password. */
  lastOffered: Candidate | undefined;

  constructor(config: pg.PoolConfig, passwords: PasswordPair) {
    super(config);
    this.passwords = passwords;
  }

  // pg-pool calls connect(cb) from query(); callers call connect() for a promise.
  override connect(): Promise<pg.PoolClient>;
  override connect(
    cb: (
      err: Error | undefined,
      client: pg.PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): void;
  override connect(
    cb?: (
      err: Error | undefined,
      client: pg.PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): Promise<pg.PoolClient> | void {
    const p = this.connectRotating();
    if (!cb) return p;
    p.then(
      (client) =>
        cb(undefined, client, (release?: unknown) => client.release(release as Error | boolean | undefined)),
      (err: Error) => cb(err, undefined, () => {}),
    );
  }

  private async connectRotating(): Promise<pg.PoolClient> {
    for (let attempt = 0; ; attempt++) {
      const offered = this.passwords.current();
      try {
        const client = await super.connect();
        if (offered) this.passwords.accepted(offered);
        return client;
      } catch (err) {
        if (!isPgAuthError(err) || this.ending) throw err;
        const next = this.passwords.refused(offered, (err as Error).message);
        if (next && attempt < 2) continue;
        throw Object.assign(new Error(this.passwords.problem ?? (err as Error).message, { cause: err }), {
          code: '28P01',
        });
      }
    }
  }
}

export function createPool(c: PgConfig, endpoint: PgEndpoint, o: CreatePoolOptions): pg.Pool {
  const ssl =
    c.DB_TLS_ENABLED && !endpoint.host.startsWith('/')
      ? clientTls({ ca: c.DB_TLS_CA_CERT_PATH, cert: c.DB_TLS_CERT_PATH, key: c.DB_TLS_KEY_PATH })
      : undefined;
  const passwords = o.passwords ?? dbPasswords(c, o.log);
  const settings = {
    host: endpoint.host,
    port: endpoint.port,
    database: o.database ?? c.DB_NAME,
    user: c.DB_USER,
    // Asked at every new connection: the password in force now.
    password: () => passwords.current()?.value ?? '',
    ssl,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    application_name: `mutt:${o.name}`,
  };
  const pool = new RotatingPool(
    {
      ...settings,
      max: o.max ?? c.DB_POOL_MAX_CONN,
      min: o.min ?? 0,
      idleTimeoutMillis: 30_000,
      // A DB_HOST list of members: connections go to the one that accepts writes (pg-primary.ts).
      ...(endpoint.members && {
        Client: primaryClientClass(
          new PrimaryLocator({ hosts: endpoint.members, client: settings, log: o.log, registry: o.registry }),
        ),
      }),
    },
    passwords,
  );
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

/** A PostgreSQL connection error in words: a refused certificate named as such, else the message. */
export function explainPgError(err: unknown, c: Pick<PgConfig, 'DB_TLS_CA_CERT_PATH'>, host: string): string {
  return (
    describeTlsError(err, {
      service: 'PostgreSQL',
      host,
      caVar: 'DB_TLS_CA_CERT_PATH',
      ca: c.DB_TLS_CA_CERT_PATH,
      certVar: 'DB_TLS_CERT_PATH',
    }) ?? (err as Error).message
  );
}

/** Retries `SELECT 1` until it works, logging each wait; rejects only when aborted. */
export async function waitForPostgres(
  pool: pg.Pool,
  what: string,
  log: Logger,
  signal?: AbortSignal,
  explain: (err: unknown) => string = (err) => (err as Error).message,
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
          reason: explain(err),
        },
        // A refused certificate is named in the message itself; other causes are in `err`.
        explain(err) !== (err as Error).message
          ? `waiting for PostgreSQL: ${explain(err)}`
          : 'waiting for PostgreSQL',
      );
      await abortableSleep(delay, signal);
    }
  }
}

/** True when PostgreSQL answers within the timeout. */
export async function pingPostgres(
  pool: pg.Pool,
  timeoutMs = 2000,
  explain: (err: unknown) => string = (err) => (err as Error).message,
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
    return { ok: false, error: explain(err) };
  } finally {
    clearTimeout(timer);
  }
}
