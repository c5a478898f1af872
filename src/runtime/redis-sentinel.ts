// Start-up check of a Redis Sentinel configuration (REDIS_SENTINELS): asks the Sentinels for the
// master, then logs in to that master, and says precisely what is wrong instead of retrying in the
// background forever. While no Sentinel answers (they may be starting with MUTT, after a power cut)
// it keeps asking for REDIS_SENTINEL_STARTUP_TIMEOUT seconds, then stops start-up with a message
// naming REDIS_SENTINELS. A master name no Sentinel knows, or a Sentinel that refuses
// REDIS_SENTINEL_PASS, is a configuration error: start-up stops at once. A master that refuses MUTT's
// password is named in an error (its address, the variables tried) and start-up goes on, as with any
// Redis that refuses MUTT: the ports open so that /health says why, and a rotated secret (Vault,
// SIGHUP) mends it without a restart. No message carries a secret.
//
// After start-up ioredis follows the master through every failover by itself (it asks the Sentinels
// again on each reconnection and checks that the server it reaches is a master).
import { Redis } from 'ioredis';
import type { Config } from './config/load.ts';
import { StartupError } from './listen.ts';
import { type Logger, LogLimiter } from './logging.ts';
import { type RedisConfig, type RedisEndpoint, redisOptions } from './redis.ts';
import type { Candidate } from './secrets/rotation.ts';
import { abortableSleep } from './sleep.ts';

/** sysexits.h EX_UNAVAILABLE: a service MUTT needs does not answer. */
const EXIT_UNAVAILABLE = 69;
const EXIT_CONFIG = 78;

const AUTH_REFUSED = /WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH failed/i;

type SentinelEndpoint = Extract<RedisEndpoint, { kind: 'sentinel' }>;
type Address = { host: string; port: number };
const addr = (a: Address) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

export interface SentinelCheckConfig extends RedisConfig, Pick<Config, 'REDIS_SENTINEL_STARTUP_TIMEOUT'> {}

/** What one Sentinel said about the master (or why it said nothing). */
type Answer =
  { kind: 'master'; master: Address } | { kind: 'unknown' } | { kind: 'unreachable'; error: string };

async function ask(c: SentinelCheckConfig, e: SentinelEndpoint, s: Address): Promise<Answer> {
  const client = new Redis({
    host: s.host,
    port: s.port,
    password: c.REDIS_SENTINEL_PASS,
    tls: c.REDIS_TLS_ENABLED ? {} : undefined,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    lazyConnect: true,
  });
  // ioredis reports the cause (a refused connection, a refused password) as an 'error' event and
  // rejects connect() with "Connection is closed.".
  let cause: Error | undefined;
  client.on('error', (err: Error) => (cause ??= err));
  try {
    await client.connect();
    const r = (await client.call('SENTINEL', 'get-master-addr-by-name', e.name)) as [string, string] | null;
    if (!r) return { kind: 'unknown' };
    return { kind: 'master', master: { host: r[0], port: Number(r[1]) } };
  } catch (err) {
    const msg = (cause ?? (err as Error)).message;
    if (AUTH_REFUSED.test(msg))
      throw new StartupError(
        `the Redis Sentinel ${addr(s)} refused the password (REDIS_SENTINEL_PASS): ${msg}`,
        EXIT_CONFIG,
      );
    return { kind: 'unreachable', error: msg };
  } finally {
    client.disconnect();
  }
}

/** Logs in to the master a Sentinel named with one password; undefined when it serves as a master, else why not. */
async function loginWith(
  c: SentinelCheckConfig,
  master: Address,
  password: string | undefined,
  log: Logger,
): Promise<{ refused: string } | { problem: string } | undefined> {
  const client = new Redis(
    redisOptions(
      c,
      { kind: 'tcp', host: master.host, port: master.port },
      {
        name: 'start-up-check',
        log,
        failFast: true,
        overrides: { retryStrategy: () => null, lazyConnect: true, enableReadyCheck: false },
      },
      password,
    ),
  );
  // ioredis reports the cause (a refused connection, a refused password) as an 'error' event and
  // rejects connect() with "Connection is closed.".
  let cause: Error | undefined;
  client.on('error', (err: Error) => (cause ??= err));
  try {
    await client.connect();
    const role = (await client.call('ROLE')) as unknown[];
    return role[0] === 'master'
      ? undefined
      : { problem: `it is a ${String(role[0])}, not a master (a failover in progress?)` };
  } catch (err) {
    const msg = (cause ?? (err as Error)).message;
    if (AUTH_REFUSED.test(msg)) return { refused: msg };
    return { problem: `unreachable (${msg})` };
  } finally {
    client.disconnect();
  }
}

/**
 * Logs in to the master a Sentinel named, with each password in force (a rotation may have two):
 * undefined when one is accepted by a master; else why not, `refused` when every password was.
 */
async function login(
  c: SentinelCheckConfig,
  master: Address,
  passwords: readonly Candidate[],
  log: Logger,
): Promise<{ refused: string; names: string } | { problem: string } | undefined> {
  const tries = passwords.length > 0 ? passwords : [undefined];
  let refused = '';
  for (const p of tries) {
    const r = await loginWith(c, master, p?.value, log);
    if (r === undefined) return undefined;
    if ('problem' in r) return r;
    refused = r.refused;
  }
  const names = passwords.length > 0 ? passwords.map((p) => p.name).join(' and ') : 'REDIS_PASS';
  return { refused, names: `${names}${c.REDIS_USERNAME ? ' and REDIS_USERNAME' : ''}` };
}

/**
 * Resolves with the master's address once a Sentinel named a master that accepts MUTT (or refuses
 * its password: said, and left to the connections); throws a StartupError as described at the top.
 */
export async function checkSentinels(
  c: SentinelCheckConfig,
  e: SentinelEndpoint,
  log: Logger,
  o: { passwords?: readonly Candidate[]; signal?: AbortSignal } = {},
): Promise<Address> {
  const signal = o.signal;
  const list = e.sentinels.map(addr).join(', ');
  const deadline = Date.now() + c.REDIS_SENTINEL_STARTUP_TIMEOUT * 1000;
  const limiter = new LogLimiter(10_000);
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    const problems: string[] = [];
    let unknown = 0;
    for (const s of e.sentinels) {
      const a = await ask(c, e, s);
      if (a.kind === 'unreachable') {
        problems.push(`${addr(s)}: ${a.error}`);
        continue;
      }
      if (a.kind === 'unknown') {
        unknown++;
        problems.push(`${addr(s)}: knows no master named "${e.name}"`);
        continue;
      }
      const why = await login(c, a.master, o.passwords ?? [], log);
      if (why === undefined) {
        if (attempt > 1) log.info({ master: addr(a.master), sentinel: addr(s) }, 'Redis Sentinels answered');
        return a.master;
      }
      if ('refused' in why) {
        log.error(
          { master: addr(a.master), sentinel: addr(s), master_name: e.name, err: why.refused },
          `the Redis master ${addr(a.master)}, named by the Sentinel ${addr(s)} for "${e.name}", refused the password (${why.names}): ${why.refused}`,
        );
        return a.master;
      }
      problems.push(`${addr(s)} names the master ${addr(a.master)}: ${why.problem}`);
    }
    if (unknown === e.sentinels.length)
      throw new StartupError(
        `no Redis Sentinel in REDIS_SENTINELS (${list}) knows a master named "${e.name}": check REDIS_SENTINEL_MASTER`,
        EXIT_CONFIG,
      );
    if (Date.now() + delay > deadline)
      throw new StartupError(
        `the Redis Sentinels in REDIS_SENTINELS (${list}) did not name a reachable master within ${c.REDIS_SENTINEL_STARTUP_TIMEOUT} s (REDIS_SENTINEL_STARTUP_TIMEOUT): ${problems.join('; ')}`,
        EXIT_UNAVAILABLE,
      );
    const suppressed = limiter.take('wait');
    if (suppressed >= 0)
      log.warn(
        { sentinels: list, master_name: e.name, attempt, problems, retry_in_ms: delay },
        'waiting for the Redis Sentinels (REDIS_SENTINELS)',
      );
    await abortableSleep(delay, signal);
    delay = Math.min(2000, delay * 2);
  }
}
