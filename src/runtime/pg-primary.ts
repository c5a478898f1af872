// PostgreSQL clusters with failover (Patroni, repmgr, pg_auto_failover): DB_HOST lists the members and
// MUTT connects to the one that accepts writes, as libpq does for a multi-host connection string with
// target_session_attrs=read-write.
//
//   pool.connect() ─► PrimaryClient.connect(): the primary known, or a search of the members in turn
//                     (connect, `SHOW transaction_read_only`) ─► connect to it ─► check it again
//
// Every new connection is checked on the server it reached, so a connection never writes to a member
// that became a replica; a connection that fails, or finds its member read-only, forgets the primary
// and the next one searches again. Connections already open to a primary that failed are broken by
// the failover itself (Patroni restarts a demoted primary; a dead one closes them), and the pool
// replaces them. While no member accepts writes the search fails with NoPrimaryError (transient):
// the callers wait it out, holding their work, and the metrics say so.
import pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from './logging.ts';
import { LogLimiter } from './logging.ts';

export interface PgHost {
  host: string;
  port: number;
}

/** `host`, `host:port`, `[v6addr]`, `[v6addr]:port`, or a bare IPv6 address. */
function parseMember(s: string, defaultPort: number): PgHost | string {
  if (s.length === 0) return 'an empty member';
  let host = s;
  let port = defaultPort;
  const bracket = /^\[([0-9A-Fa-f:.%\w-]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (s.split(':').length === 2) {
    const i = s.indexOf(':');
    host = s.slice(0, i);
    if (!/^\d+$/.test(s.slice(i + 1))) return `"${s}": the port is not a number`;
    port = Number(s.slice(i + 1));
  }
  if (host.length === 0 || /\s|\//.test(host)) return `"${s}": not a host name or address`;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `"${s}": the port must be 1-65535`;
  return { host, port };
}

/**
 * DB_HOST as the list of members to connect to (DB_PORT for those without a port). One member keeps
 * the plain meaning (a host, an address or a Unix-socket directory). Returns the problem as text when
 * the value cannot be read.
 */
export function parsePgHosts(value: string, defaultPort: number): PgHost[] | string {
  if (value.startsWith('/')) return [{ host: value, port: defaultPort }];
  const out: PgHost[] = [];
  for (const part of value.split(',')) {
    const m = parseMember(part.trim(), defaultPort);
    if (typeof m === 'string') return m;
    out.push(m);
  }
  return out;
}

export const describeHost = (h: PgHost) =>
  h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;

/** Raised while no member of DB_HOST accepts writes; the loops treat it as transient and wait. */
export class NoPrimaryError extends Error {
  readonly code = 'MUTT_NO_PRIMARY';
  readonly members: { member: string; state: string }[];
  constructor(members: { member: string; state: string }[]) {
    super(
      `no member of DB_HOST accepts writes (${members.map((m) => `${m.member}: ${m.state}`).join('; ')}); waiting for a primary`,
    );
    this.name = 'NoPrimaryError';
    this.members = members;
  }
}

const CHECK = "SELECT current_setting('transaction_read_only') AS ro";

interface PrimaryMetrics {
  writable: Gauge<string>;
  searches: Counter<'outcome'>;
}

export interface PrimaryLocatorOptions {
  hosts: readonly PgHost[];
  /** Settings of the search's short connections (user, password, database, TLS, timeout). */
  client: pg.ClientConfig;
  log: Logger;
  /** Metrics of this thread: whether a writable member is known, and the searches by outcome. */
  registry?: Registry;
}

/** Finds and remembers the member of DB_HOST that accepts writes. */
export class PrimaryLocator {
  readonly hosts: readonly PgHost[];
  private readonly o: PrimaryLocatorOptions;
  private known?: PgHost;
  private search?: Promise<PgHost>;
  private readonly limiter = new LogLimiter(30_000);
  private readonly metrics?: PrimaryMetrics;

  constructor(o: PrimaryLocatorOptions) {
    this.o = o;
    this.hosts = o.hosts;
    if (o.registry) this.metrics = primaryMetrics(o.registry);
  }

  /** The primary last found (undefined while none is known). */
  get current(): PgHost | undefined {
    return this.known;
  }

  /** The primary: the one known, or the result of a search (one search at a time). */
  primary(): Promise<PgHost> {
    if (this.known) return Promise.resolve(this.known);
    this.search ??= this.find().finally(() => {
      this.search = undefined;
    });
    return this.search;
  }

  /** A connection to `h` failed or found it read-only: search again next time. */
  lost(h: PgHost): void {
    if (this.known && this.known.host === h.host && this.known.port === h.port) this.known = undefined;
  }

  private async find(): Promise<PgHost> {
    const states: { member: string; state: string }[] = [];
    for (const h of this.hosts) {
      const client = new pg.Client({ ...this.o.client, host: h.host, port: h.port });
      client.on('error', () => {});
      try {
        await client.connect();
        const r = await client.query<{ ro: string }>(CHECK);
        if (r.rows[0]?.ro === 'off') {
          const previous = this.known;
          this.known = h;
          this.metrics?.writable.set(1);
          this.metrics?.searches.inc({ outcome: 'found' });
          if (!previous)
            this.o.log.info(
              { primary: describeHost(h), members: this.hosts.map(describeHost) },
              'PostgreSQL primary found',
            );
          return h;
        }
        states.push({ member: describeHost(h), state: 'read-only (a replica)' });
      } catch (err) {
        // A refused password is not the member's state: the pool tries the other password (rotation).
        if ((err as { code?: string }).code === '28P01') throw err;
        states.push({ member: describeHost(h), state: `unreachable (${(err as Error).message})` });
      } finally {
        await client.end().catch(() => {});
      }
    }
    this.metrics?.writable.set(0);
    this.metrics?.searches.inc({ outcome: 'none' });
    const err = new NoPrimaryError(states);
    const suppressed = this.limiter.take('none');
    if (suppressed >= 0) this.o.log.warn({ members: states, suppressed }, err.message);
    throw err;
  }
}

/** A pg.Client class whose connections go to the primary (for pg.Pool's `Client` option). */
export function primaryClientClass(locator: PrimaryLocator): typeof pg.Client {
  class PrimaryClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(
      callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void),
    ): Promise<pg.Client> | void {
      const done = this.toPrimary().then(() => this as pg.Client);
      if (!callback) return done;
      done.then(
        (c) => (callback as (err: null, c: pg.Client) => void)(null, c),
        (err: Error) => (callback as (err: Error) => void)(err),
      );
      return undefined;
    }

    private async toPrimary(): Promise<void> {
      const target = await locator.primary();
      // pg reads the address from these when it opens the socket.
      this.host = target.host;
      this.port = target.port;
      (this as unknown as { connectionParameters: PgHost }).connectionParameters.host = target.host;
      (this as unknown as { connectionParameters: PgHost }).connectionParameters.port = target.port;
      try {
        await super.connect();
      } catch (err) {
        locator.lost(target);
        throw err;
      }
      const r = await this.query<{ ro: string }>(CHECK);
      if (r.rows[0]?.ro !== 'off') {
        locator.lost(target);
        await this.end().catch(() => {});
        const err = new Error(
          `PostgreSQL ${describeHost(target)} no longer accepts writes (it became a replica); looking for the primary`,
        ) as Error & { code: string };
        err.code = '25006';
        throw err;
      }
      this.once('error', () => locator.lost(target));
    }
  }
  return PrimaryClient;
}

function primaryMetrics(registry: Registry): PrimaryMetrics {
  const existing = registry.getSingleMetric('mutt_db_primary_writable') as Gauge<string> | undefined;
  if (existing)
    return {
      writable: existing,
      searches: registry.getSingleMetric('mutt_db_primary_searches_total') as Counter<'outcome'>,
    };
  return {
    writable: new Gauge({
      name: 'mutt_db_primary_writable',
      help: 'Whether a member of DB_HOST that accepts writes is known (1) or the last search found none (0); with several threads, the lowest',
      aggregator: 'min',
      registers: [registry],
    }),
    searches: new Counter({
      name: 'mutt_db_primary_searches_total',
      help: 'Searches of the DB_HOST members for the primary, by outcome (found, none)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
