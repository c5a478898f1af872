// `mutt migrate`: creates or upgrades the schema (also done by `mutt serve` at start-up).
import { join } from 'node:path';
import { prepareDataDir } from '../../runtime/datadir.ts';
import { migrate } from '../../runtime/migrate.ts';
import { waitForPostgres } from '../../runtime/postgres.ts';
import { requireBinaries } from '../../runtime/services/binaries.ts';
import { type PostgresServerHandle, startPostgres } from '../../runtime/services/postgres-server.ts';
import {
  cliLogger,
  embeddedPgDir,
  embeddedPostgresRunning,
  loadConfigWithSecrets,
  poolFor,
} from '../context.ts';

export async function migrateCommand(opts: { verbose?: boolean; json?: boolean }): Promise<void> {
  const config = await loadConfigWithSecrets();
  const log = cliLogger(config, opts.verbose);
  let server: PostgresServerHandle | undefined;
  if (config.embeddedPostgres && !embeddedPostgresRunning(config)) {
    // No daemon is running: start the embedded cluster just for the migration.
    const { pgBinDir } = requireBinaries({ redis: false, postgres: true });
    prepareDataDir(config.dataDir, { embeddedPostgres: true });
    server = await startPostgres({
      binDir: pgBinDir!,
      dir: embeddedPgDir(config),
      superuser: config.DB_USER,
      database: config.DB_NAME,
      log,
    });
  }
  const pool = poolFor(config, log);
  try {
    const abort = AbortSignal.timeout(60_000);
    await waitForPostgres(
      pool,
      config.embeddedPostgres ? join(embeddedPgDir(config), 'run') : `${config.DB_HOST}:${config.DB_PORT}`,
      log,
      abort,
    );
    const r = await migrate(pool, log);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ applied: r.applied, partitions: r.partitions })}\n`);
      return;
    }
    process.stdout.write(
      `${r.applied.length === 0 ? 'schema already up to date' : `applied ${r.applied.join(', ')}`}\n` +
        `audit partitions: ${r.partitions.join(', ')}\n`,
    );
  } finally {
    await pool.end();
    await server?.stop();
  }
}
