// Vitest global setup: real, throw-away Redis and PostgreSQL for the whole run, started with the same
// code as MUTT's embedded mode (installing Debian's packages first when they are missing and we are
// root), plus the esbuild bundle that process-level tests spawn. Test files isolate themselves with
// their own key prefix and database (see ./services.ts).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../../src/runtime/logging.ts';
import { migrate } from '../../src/runtime/migrate.ts';
import {
  findOnPath,
  findPostgresBinDir,
  findRedisServer,
  requireBinaries,
} from '../../src/runtime/services/binaries.ts';
import { startPostgres } from '../../src/runtime/services/postgres-server.ts';
import { startRedisServer } from '../../src/runtime/services/redis-server.ts';
import { ensurePackages } from './packages.ts';
import { freePort } from './ports.ts';
import { type HarnessServices, TEMPLATE_DB, TEST_DB_USER } from './services-info.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensurePackages(
    {
      'redis-server': () => findRedisServer() !== undefined,
      postgresql: () => findPostgresBinDir() !== undefined,
      openssl: () => findOnPath('openssl') !== undefined,
      // Net-SNMP's snmptrap and snmpinform: the real clients of the SNMP listener tests.
      snmp: () => existsSync('/usr/bin/snmptrap') && existsSync('/usr/bin/snmpinform'),
      // util-linux's logger and a private rsyslogd (with its TLS driver): the real syslog clients.
      bsdutils: () => findOnPath('logger') !== undefined,
      rsyslog: () => existsSync('/usr/sbin/rsyslogd'),
      'rsyslog-gnutls': () =>
        existsSync('/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so') ||
        existsSync('/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_gtls.so'),
    },
    'the tests run real Redis and PostgreSQL servers and real clients',
  );
  const bins = requireBinaries({ redis: true, postgres: true });

  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--quiet'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building dist/mutt.js failed');

  const dir = mkdtempSync(join(tmpdir(), 'mutt-test-'));
  chmodSync(dir, 0o711); // PostgreSQL may run as another user (it refuses root)
  const log = createLogger({ level: 'WARNING', destination: process.stderr });

  const redisPort = await freePort();
  const redis = await startRedisServer({
    binary: bins.redisServer!,
    dir: join(dir, 'redis'),
    port: redisPort,
    persistence: 'none',
    log,
  });
  const pgPort = await freePort();
  const postgres = await startPostgres({
    binDir: bins.pgBinDir!,
    dir: join(dir, 'postgres'),
    superuser: TEST_DB_USER,
    database: TEMPLATE_DB,
    listen: '127.0.0.1',
    port: pgPort,
    fastInit: true,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    log,
  });

  // A migrated template: each test file clones it into its own database in milliseconds.
  const pool = new pg.Pool({
    host: '127.0.0.1',
    port: pgPort,
    user: TEST_DB_USER,
    database: TEMPLATE_DB,
    max: 1,
  });
  await migrate(pool, log);
  await pool.end();

  const services: HarnessServices = {
    dir,
    redis: { host: '127.0.0.1', port: redisPort },
    postgres: { host: '127.0.0.1', port: pgPort, user: TEST_DB_USER, binDir: bins.pgBinDir! },
    redisServerBinary: bins.redisServer!,
    bundle: join(process.cwd(), 'dist', 'mutt.js'),
  };
  project.provide('services', services);

  return async () => {
    await postgres.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
