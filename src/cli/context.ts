// Helpers shared by the CLI commands: configuration with exit 78 on problems, and connections to the
// configured (or the running embedded) Redis and PostgreSQL.
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { Registry } from 'prom-client';
import type { Actor, AdminContext } from '../core/admin/context.ts';
import { AdminError } from '../core/admin/errors.ts';
import { Keys } from '../core/protocol/keys.ts';
import { withScripts } from '../core/protocol/scripts.ts';
import { type Config, EXIT_CONFIG, loadConfig, needsPostgres } from '../runtime/config/load.ts';
import { resolveSecrets } from '../runtime/config/secrets.ts';
import { StartupError } from '../runtime/listen.ts';
import { createLogger, type Logger } from '../runtime/logging.ts';
import { createPool } from '../runtime/postgres.ts';
import { createRedis, endpointFromConfig, whenReady } from '../runtime/redis.ts';
import { processMatches } from '../runtime/services/process.ts';
import { EXIT } from './exit.ts';

export class CliError extends Error {
  readonly exitCode: number;
  /** `exitCode`: one of EXIT (sysexits.h). */
  constructor(message: string, exitCode: number = EXIT.SOFTWARE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function loadConfigOrExit(): Config {
  const r = loadConfig();
  for (const w of r.warnings) process.stderr.write(`mutt: warning: ${w}\n`);
  if (!r.config) {
    for (const p of r.problems) process.stderr.write(`mutt: configuration error: ${p}\n`);
    process.exit(EXIT_CONFIG);
  }
  return r.config;
}

/**
 * The configuration with the secrets in force, for commands that connect to Redis or PostgreSQL:
 * with VAULT_ADDR, one AppRole login and one read of the KV secret (no renewal: the command is short).
 */
export async function loadConfigWithSecrets(): Promise<Config> {
  const config = loadConfigOrExit();
  if (!config.VAULT_ADDR) return config;
  try {
    const r = await resolveSecrets(config, { log: cliLogger(config), registry: new Registry() });
    return r.config;
  } catch (err) {
    if (err instanceof StartupError) {
      process.stderr.write(`mutt: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}

/** A logger on standard error for commands other than `serve`. */
export function cliLogger(config: Config, verbose = false): Logger {
  return createLogger({
    level: verbose ? 'DEBUG' : 'WARNING',
    pod: config.podName,
    format: config.LOG_FORMAT,
    destination: process.stderr,
  });
}

export const embeddedRedisSocket = (c: Config) => join(c.dataDir, 'redis', 'redis.sock');
export const embeddedPgDir = (c: Config) => join(c.dataDir, 'postgres');

/** Connects to the configured Redis, or to the embedded one of a running `mutt serve`. */
export async function connectRedis(c: Config, log: Logger, timeoutMs = 5000): Promise<Redis> {
  let socket: string | undefined;
  if (c.embeddedRedis) {
    socket = embeddedRedisSocket(c);
    if (!existsSync(socket)) {
      throw new CliError(
        `MUTT's embedded Redis is not running (no socket at ${socket}). Start MUTT with "mutt serve", or set REDIS_HOST / REDIS_URL.`,
        EXIT.UNAVAILABLE,
      );
    }
  }
  const redis = createRedis(c, endpointFromConfig(c, socket), { name: 'cli', log });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      whenReady(redis),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new CliError(`Redis did not answer within ${timeoutMs} ms`, EXIT.TEMPFAIL)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    throw err;
  } finally {
    // A pending timer would keep the command alive for the whole timeout after its work is done.
    clearTimeout(timer);
  }
  return redis;
}

/** True when the embedded PostgreSQL of a running `mutt serve` is up. */
export function embeddedPostgresRunning(c: Config): boolean {
  const pidFile = join(embeddedPgDir(c), 'data', 'postmaster.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  return pid > 0 && processMatches(pid, 'postgres');
}

export function poolFor(c: Config, log: Logger): pg.Pool {
  const endpoint = c.embeddedPostgres
    ? { host: join(embeddedPgDir(c), 'run'), port: 5432 }
    : { host: c.DB_HOST ?? 'localhost', port: c.DB_PORT };
  return createPool(c, endpoint, { name: 'cli', log, max: 2 });
}

/** Who a CLI change is made by, for config_audit_log: `cli:<user>@<host>`. */
export function cliActor(reason?: string): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  return { changedBy: `cli:${user}@${hostname()}`, reason };
}

/**
 * An admin-services context for a CLI command: Redis always; PostgreSQL when `postgres` is set and
 * (for the embedded one) it is running. The caller closes it with `close()`.
 */
export async function adminContext(
  config: Config,
  o: { postgres?: boolean } = {},
): Promise<AdminContext & { close(): Promise<void> }> {
  const log = cliLogger(config);
  const redis = withScripts(await connectRedis(config, log));
  const usePg = o.postgres === true && (!config.embeddedPostgres || embeddedPostgresRunning(config));
  const pool = usePg ? poolFor(config, log) : undefined;
  return {
    config,
    keys: new Keys(config),
    redis,
    pool,
    log,
    async close() {
      redis.disconnect();
      await pool?.end().catch(() => undefined);
    },
  };
}

/** sysexits code for an admin-service failure. */
export function adminExitCode(err: AdminError): number {
  switch (err.code) {
    case 'invalid':
    case 'conflict':
      return EXIT.DATAERR;
    case 'not_found':
      return EXIT.NOINPUT;
    case 'precondition_failed':
      return EXIT.TEMPFAIL;
    case 'unavailable':
      return EXIT.UNAVAILABLE;
  }
}

/**
 * Runs `fn` with an admin-services context (PostgreSQL too when `postgres` is set and the node's
 * roles use it), closes it, and turns an AdminError into a CliError with its sysexits code.
 */
export async function withAdmin<T>(
  fn: (ctx: AdminContext & { close(): Promise<void> }) => Promise<T>,
  o: { postgres?: boolean } = {},
): Promise<T> {
  const config = await loadConfigWithSecrets();
  const ctx = await adminContext(config, { postgres: o.postgres === true && needsPostgres(config) });
  try {
    return await fn(ctx);
  } catch (err) {
    if (err instanceof AdminError) throw new CliError(err.message, adminExitCode(err));
    throw err;
  } finally {
    await ctx.close();
  }
}
