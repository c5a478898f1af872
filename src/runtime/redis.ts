// Redis connections. ioredis multiplexes commands over one socket, so a thread needs only a few
// connections: one for pipelined writes, one per blocking loop. Connections retry forever with capped
// backoff and log (rate-limited) what they wait for: a refused certificate or password is named.
//
// Passwords: every (re)connection authenticates with the thread's PasswordPair (REDIS_PASS_CURRENT,
// falling back to REDIS_PASS_NEXT when Redis answers WRONGPASS), so a rotation needs no restart.
// An authenticated connection stays authenticated when the ACL user's passwords change; it takes the
// password in force the next time it connects.
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config/load.ts';
import { type Logger, LogLimiter } from './logging.ts';
import { type Candidate, isRedisAuthError, PasswordPair, REDIS_PASSWORDS } from './secrets/rotation.ts';
import { SecretStore } from './secrets/store.ts';
import { abortReason } from './sleep.ts';
import { clientTls, describeTlsError } from './tls.ts';

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
  | 'REDIS_PASS_CURRENT'
  | 'REDIS_PASS_NEXT'
  | 'REDIS_TLS_ENABLED'
  | 'REDIS_CA_CERT_PATH'
  | 'REDIS_TLS_CERT_PATH'
  | 'REDIS_TLS_KEY_PATH'
  | 'REDIS_SENTINELS'
  | 'REDIS_SENTINEL_MASTER'
  | 'REDIS_SENTINEL_PASS'
  | 'REDIS_SENTINEL_TLS_ENABLED'
  | 'podName'
>;

/** The thread's Redis passwords, from the secrets in force (or, without a store, the configuration). */
export function redisPasswords(
  c: RedisConfig,
  log: Logger,
  store?: SecretStore,
  registry?: import('prom-client').Registry,
): PasswordPair {
  return new PasswordPair({
    store:
      store ??
      new SecretStore({
        REDIS_PASS: c.REDIS_PASS,
        REDIS_PASS_CURRENT: c.REDIS_PASS_CURRENT,
        REDIS_PASS_NEXT: c.REDIS_PASS_NEXT,
      }),
    names: REDIS_PASSWORDS,
    service: 'Redis',
    user: c.REDIS_USERNAME,
    log,
    registry,
  });
}

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
  /** The thread's passwords (shared by its connections); one from the configuration when absent. */
  passwords?: PasswordPair;
  /** Overrides for tests and special connections. */
  overrides?: Partial<RedisOptions>;
}

/** Why a client is not connected, in words (a refused certificate or password), for /health. */
const problems = new WeakMap<Redis, string>();
export function redisProblem(client: Redis | undefined): string | undefined {
  return client ? problems.get(client) : undefined;
}

function tlsFiles(c: RedisConfig) {
  return { ca: c.REDIS_CA_CERT_PATH, cert: c.REDIS_TLS_CERT_PATH, key: c.REDIS_TLS_KEY_PATH };
}

export function redisOptions(
  c: RedisConfig,
  endpoint: RedisEndpoint,
  o: CreateRedisOptions,
  password: string | undefined = c.REDIS_PASS_CURRENT ?? c.REDIS_PASS,
): RedisOptions {
  const urlTls = endpoint.kind === 'url' && endpoint.url.startsWith('rediss:');
  const tls =
    (c.REDIS_TLS_ENABLED || urlTls) && endpoint.kind !== 'socket' ? clientTls(tlsFiles(c)) : undefined;
  const base: RedisOptions = {
    username: c.REDIS_USERNAME,
    password,
    db: c.REDIS_DB,
    tls,
    connectionName: `mutt:${c.podName}:${o.name}`,
    connectTimeout: 5000,
    keepAlive: 10_000,
    enableReadyCheck: true,
    // Reconnect forever: exponential backoff with jitter, capped at 2 s so that work resumes within
    // seconds of Redis coming back (one connection attempt per second or two costs a down Redis nothing).
    // Behind Sentinels each attempt asks them for the master, so a 1 s cap finds a new master soon
    // after a failover.
    retryStrategy: (times) =>
      Math.round(
        Math.min(endpoint.kind === 'sentinel' ? 1000 : 2000, 100 * 2 ** Math.min(times, 6)) *
          (0.5 + Math.random() / 2),
      ),
    // A master demoted to replica (a Sentinel switchover) answers writes with READONLY: reconnect,
    // which finds the new master; a refused command was not executed, so it may be sent again.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? (o.failFast ? 1 : 2) : false),
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
        sentinelTLS:
          (c.REDIS_SENTINEL_TLS_ENABLED ?? c.REDIS_TLS_ENABLED) ? clientTls(tlsFiles(c)) : undefined,
      };
    case 'url':
      return base;
  }
}

export function createRedis(c: RedisConfig, endpoint: RedisEndpoint, o: CreateRedisOptions): Redis {
  const passwords = o.passwords ?? redisPasswords(c, o.log);
  let used: Candidate | undefined = passwords.current();
  const opts = redisOptions(c, endpoint, o, used?.value);
  const client = endpoint.kind === 'url' ? new Redis(endpoint.url, opts) : new Redis(opts);
  // A password in REDIS_URL stays the URL's; the pair applies to the other endpoints.
  const rotates = !(endpoint.kind === 'url' && new URL(endpoint.url).password !== '');
  const where = describeEndpoint(endpoint);
  const host =
    endpoint.kind === 'tcp'
      ? endpoint.host
      : endpoint.kind === 'url'
        ? new URL(endpoint.url).hostname
        : 'the master';
  const limiter = new LogLimiter(30_000);
  let everReady = false;
  const usePassword = (cand: Candidate | undefined) => {
    used = cand;
    if (rotates) client.options.password = cand?.value;
  };
  passwords.onChange(() => usePassword(passwords.current()));
  client.on('error', (err: Error) => {
    let reason: string | undefined;
    if (isRedisAuthError(err) && rotates) {
      const next = passwords.refused(used, err.message.split('\n')[0]!);
      usePassword(next ?? passwords.current());
      reason = passwords.problem;
      if (next) return; // the fallback is logged by the pair; the reconnection follows at once
    } else {
      reason = describeTlsError(err, {
        service: 'Redis',
        host,
        caVar: 'REDIS_CA_CERT_PATH',
        ca: c.REDIS_CA_CERT_PATH,
        certVar: 'REDIS_TLS_CERT_PATH',
        clientCert: opts.tls ? c.REDIS_TLS_CERT_PATH !== undefined : undefined,
      });
    }
    if (reason) problems.set(client, reason);
    const suppressed = limiter.take('error');
    if (suppressed >= 0) {
      o.log.warn(
        {
          err: { message: err.message, code: (err as NodeJS.ErrnoException).code },
          ...(reason ? { reason } : {}),
          redis: where,
          connection: o.name,
          suppressed,
        },
        everReady
          ? 'Redis connection lost; reconnecting'
          : reason
            ? `waiting for Redis: ${reason}`
            : 'waiting for Redis',
      );
    }
  });
  client.on('ready', () => {
    passwords.accepted(used);
    problems.delete(client);
    o.log.info(
      {
        redis: where,
        connection: o.name,
        ...(used && used.name !== 'REDIS_PASS' ? { secret: used.name } : {}),
      },
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

/** Every key matching a SCAN pattern (cursor to the end, COUNT hints of 500). */
export async function scanAll(redis: Pick<Redis, 'scan'>, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}
