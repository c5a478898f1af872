// A private PostgreSQL (MUTT's embedded settings, database `mutt`, migrated) and a private Redis for
// a benchmark, in a scratch directory (removed by stop()), on free loopback ports.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../../src/runtime/logging.ts';
import { migrate } from '../../src/runtime/migrate.ts';
import { findPostgresBinDir, findRedisServer } from '../../src/runtime/services/binaries.ts';
import { startPostgres } from '../../src/runtime/services/postgres-server.ts';
import { startRedisServer } from '../../src/runtime/services/redis-server.ts';
import { freePort } from '../../test/harness/ports.ts';
import { scratchDir } from './env.ts';

export interface BenchStores {
  dir: string;
  pool: pg.Pool;
  pg: { port: number; user: string };
  redis: { port: number; socketPath: string };
  stop(): Promise<void>;
}

export async function startStores(name: string, log: Logger): Promise<BenchStores> {
  const dir = scratchDir(name);
  const pgBin = findPostgresBinDir();
  const redisBin = findRedisServer();
  if (!pgBin || !redisBin) throw new Error(`the ${name} benchmark needs postgres and redis-server installed`);
  const pgPort = await freePort();
  const redisPort = await freePort();
  const pgUser = process.getuid?.() === 0 ? 'postgres' : (process.env.USER ?? 'postgres');
  const redisServer = await startRedisServer({
    binary: redisBin,
    dir: join(dir, 'redis'),
    port: redisPort,
    persistence: 'none',
    log,
  });
  const pgServer = await startPostgres({
    binDir: pgBin,
    dir: join(dir, 'postgres'),
    superuser: pgUser,
    database: 'mutt',
    listen: '127.0.0.1',
    port: pgPort,
    log,
  });
  const pool = new pg.Pool({ host: '127.0.0.1', port: pgPort, user: pgUser, database: 'mutt', max: 4 });
  pool.on('error', () => undefined); // idle clients of a server being stopped
  await migrate(pool, log);
  return {
    dir,
    pool,
    pg: { port: pgPort, user: pgUser },
    redis: { port: redisPort, socketPath: redisServer.socketPath },
    async stop() {
      await pool.end().catch(() => undefined);
      await pgServer.stop();
      await redisServer.stop();
      rmSync(dir, { recursive: true, force: true }); // gigabytes with millions of audit rows
    },
  };
}
