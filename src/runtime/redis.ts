// Redis connections. ioredis multiplexes commands over one socket, so a thread needs only a few
// connections: one for pipelined writes, one per blocking loop. Connections retry forever with capped
// backoff and log (rate-limited) what they wait for.
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config/load.ts';
import { type Logger, LogLimiter } from './logging.ts';
import { abortReason } from './sleep.ts';

/** Where Redis is: from the configuration, or the private server MUTT started. */
export type RedisEndpoint =
  | { kind: 'socket'; path: string }
  | { kind: 'url'; url: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'sentinel'; sentinels: { host: string; port: number }[]; name: string };

export type RedisConfig = Pick<
  Config,
  | 'REDIS_URL'
  | 'REDIS_HOST'
  | 'REDIS_PORT'
  | 'REDIS_DB'
  | 'REDIS_USERNAME'
  | 'REDIS_PASS'
  | 'REDIS_TLS_ENABLED'
  | 'REDIS_CA_CERT_PATH'
  | 'REDIS_SENTINELS'
  | 'REDIS_SENTINEL_MASTER'
  | 'REDIS_SENTINEL_PASS'
  | 'podName'
>;

export function endpointFromConfig(c: RedisConfig, embeddedSocket?: string): RedisEndpoint {
  if (embeddedSocket) return { kind: 'socket', path: embeddedSocket };
  if (c.REDIS_URL) return { kind: 'url', url: c.REDIS_URL };
  if (c.REDIS_SENTINELS.length > 0) {
    return {
      kind: 'sentinel',
      name: c.REDIS_SENTINEL_MASTER,
      sentinels: c.REDIS_SENTINELS.map((s) => {
        const i = s.lastIndexOf(':');
        return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
      }),
    };
  }
  // A REDIS_HOST that is an absolute path is a Unix socket (as with PostgreSQL's DB_HOST).
  if (c.REDIS_HOST?.startsWith('/')) return { kind: 'socket', path: c.REDIS_HOST };
  return { kind: 'tcp', host: c.REDIS_HOST ?? '127.0.0.1', port: c.REDIS_PORT };
}

/** For logs: never includes a password. */
export function describeEndpoint(e: RedisEndpoint): string {
  switch (e.kind) {
    case 'socket':
      return `unix:${e.path}`;
    case 'tcp':
      return `${e.host}:${e.port}`;
    case 'sentinel':
      return `sentinel master "${e.name}" via ${e.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
    case 'url': {
      const u = new URL(e.url);
      u.password = '';
      u.username = '';
      return u.toString();
    }
  }
}

export interface CreateRedisOptions {
  /** Connection name (CLIENT SETNAME) and log label. */
  name: string;
  log: Logger;
  /**
   * Fail commands at once while disconnected instead of queueing them, and never resend a command
   * whose reply was lost: callers (HTTP ingest) answer 503 and the client retries.
   */
  failFast?: boolean;
  /** Overrides for tests and special connections. */
  overrides?: Partial<RedisOptions>;
}

export function redisOptions(c: RedisConfig, endpoint: RedisEndpoint, o: CreateRedisOptions): RedisOptions {
  const tls =
    c.REDIS_TLS_ENABLED && endpoint.kind !== 'socket'
      ? { ca: c.REDIS_CA_CERT_PATH ? [readFileSync(c.REDIS_CA_CERT_PATH)] : undefined }
      : undefined;
  const base: RedisOptions = {
    username: c.REDIS_USERNAME,
    password: c.REDIS_PASS,
    db: c.REDIS_DB,
    tls,
    connectionName: `mutt:${c.podName}:${o.name}`,
    connectTimeout: 5000,
    keepAlive: 10_000,
    enableReadyCheck: true,
    // Reconnect forever: exponential backoff with jitter, capped at 2 s so that work resumes within
    // seconds of Redis coming back (one connection attempt per second or two costs a down Redis nothing).
    retryStrategy: (times) =>
      Math.round(Math.min(2000, 100 * 2 ** Math.min(times, 6)) * (0.5 + Math.random() / 2)),
    maxRetriesPerRequest: o.failFast ? 0 : null,
    enableOfflineQueue: !o.failFast,
    autoResendUnfulfilledCommands: !o.failFast,
    commandTimeout: o.failFast ? 5000 : undefined,
    ...o.overrides,
  };
  switch (endpoint.kind) {
    case 'socket':
      return { ...base, path: endpoint.path };
    case 'tcp':
      return { ...base, host: endpoint.host, port: endpoint.port };
    case 'sentinel':
      return {
        ...base,
        sentinels: endpoint.sentinels,
        name: endpoint.name,
        sentinelPassword: c.REDIS_SENTINEL_PASS,
        enableTLSForSentinelMode: c.REDIS_TLS_ENABLED,
      };
    case 'url':
      return base;
  }
}

export function createRedis(c: RedisConfig, endpoint: RedisEndpoint, o: CreateRedisOptions): Redis {
  const opts = redisOptions(c, endpoint, o);
  const client = endpoint.kind === 'url' ? new Redis(endpoint.url, opts) : new Redis(opts);
  const where = describeEndpoint(endpoint);
  const limiter = new LogLimiter(30_000);
  let everReady = false;
  client.on('error', (err: Error) => {
    const suppressed = limiter.take('error');
    if (suppressed >= 0) {
      o.log.warn(
        {
          err: { message: err.message, code: (err as NodeJS.ErrnoException).code },
          redis: where,
          connection: o.name,
          suppressed,
        },
        everReady ? 'Redis connection lost; reconnecting' : 'waiting for Redis',
      );
    }
  });
  client.on('ready', () => {
    o.log.info(
      { redis: where, connection: o.name },
      everReady ? 'Redis connection restored' : 'connected to Redis',
    );
    everReady = true;
  });
  return client;
}

/** Resolves when the client is ready (it keeps retrying in the background until then). */
export function whenReady(client: Redis, signal?: AbortSignal): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onAbort = () => {
      cleanup();
      reject(abortReason(signal));
    };
    const cleanup = () => {
      client.off('ready', onReady);
      signal?.removeEventListener('abort', onAbort);
    };
    client.on('ready', onReady);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
