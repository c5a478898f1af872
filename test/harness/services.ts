// Per-test-file isolation on the shared harness servers: a unique Redis key prefix (MUTT_KEY_PREFIX)
// and a private database cloned from the migrated template. `cleanup()` deletes both.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { inject } from 'vitest';
import { Keys } from '../../src/core/protocol/keys.ts';
import { type ScriptedRedis, withScripts } from '../../src/core/protocol/scripts.ts';
import { type Config, loadConfigOrThrow } from '../../src/runtime/config/load.ts';
import { createLogger, type Logger } from '../../src/runtime/logging.ts';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { type HarnessServices, TEMPLATE_DB } from './services-info.ts';

export interface TestServices {
  services: HarnessServices;
  prefix: string;
  database: string;
  keys: Keys;
  redis: ScriptedRedis;
  pool: pg.Pool;
  log: Logger;
  /** A fresh scratch directory for this file. */
  tmp: string;
  /** Environment for a `mutt` process (or loadConfig) pointed at these services. */
  env: Record<string, string>;
  config(overrides?: Record<string, string>): Config;
  cleanup(): Promise<void>;
}

export const quietLog = (): Logger => createLogger({ level: 'ERROR', destination: process.stderr });

/** Minimal environment for spawned processes: nothing from the developer's shell leaks in. */
export function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    MUTT_ENV_FILE: '/dev/null',
    SYSLOG_UDP_PORT: '0',
    SYSLOG_TCP_PORT: '0',
    SYSLOG_TLS_PORT: '0',
    SNMP_TRAP_PORT: '0',
    SERVER_PORT_WEBUI: '0',
  };
}

export async function createDatabase(s: HarnessServices, name: string): Promise<void> {
  const admin = new pg.Client({
    host: s.postgres.host,
    port: s.postgres.port,
    user: s.postgres.user,
    database: 'postgres',
  });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"`);
        return;
      } catch (err) {
        // Two files cloning the template at the same moment: "source database is being accessed".
        if ((err as { code?: string }).code !== '55006' || attempt > 50) throw err;
        await abortableSleep(50 + Math.random() * 100);
      }
    }
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(s: HarnessServices, name: string): Promise<void> {
  const admin = new pg.Client({
    host: s.postgres.host,
    port: s.postgres.port,
    user: s.postgres.user,
    database: 'postgres',
  });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** Call in beforeAll; call cleanup() in afterAll. */
export async function useServices(opts: { database?: boolean } = {}): Promise<TestServices> {
  const services = inject('services');
  const id = randomBytes(5).toString('hex');
  const prefix = `t${id}`;
  const database = `t_${id}`;
  const wantDb = opts.database !== false;
  if (wantDb) await createDatabase(services, database);
  const redis = withScripts(
    new Redis({ host: services.redis.host, port: services.redis.port, lazyConnect: false }),
  );
  const pool = new pg.Pool({
    host: services.postgres.host,
    port: services.postgres.port,
    user: services.postgres.user,
    database: wantDb ? database : 'postgres',
    max: 4,
  });
  // cleanup() drops the database right after pool.end(): a connection still closing then gets
  // "terminating connection due to administrator command", which must not be an uncaught error.
  pool.on('error', () => {});
  const tmp = mkdtempSync(join(services.dir, `${prefix}-`));
  chmodSync(tmp, 0o711); // an embedded PostgreSQL may run as another user

  const env: Record<string, string> = {
    ...baseEnv(),
    MUTT_KEY_PREFIX: prefix,
    MUTT_DATA_DIR: join(tmp, 'data'),
    REDIS_HOST: services.redis.host,
    REDIS_PORT: String(services.redis.port),
    DB_HOST: services.postgres.host,
    DB_PORT: String(services.postgres.port),
    DB_USER: services.postgres.user,
    DB_NAME: wantDb ? database : 'postgres',
    INGEST_API_KEY: `key-${id}`,
    WEBUI_API_KEY: `webui-${id}`,
  };
  const keys = new Keys(loadConfigOrThrow(env, { defaultEnvFile: '/dev/null' }));
  return {
    services,
    prefix,
    database,
    keys,
    redis,
    pool,
    log: quietLog(),
    tmp,
    env,
    config: (overrides = {}) => loadConfigOrThrow({ ...env, ...overrides }, { defaultEnvFile: '/dev/null' }),
    async cleanup() {
      await deleteKeys(redis, `${prefix}:*`);
      redis.disconnect();
      await pool.end();
      if (wantDb) await dropDatabase(services, database);
    },
  };
}

/** A response body as JSON, for assertions. */
export const jsonOf = async (res: Response): Promise<any> => res.json();
