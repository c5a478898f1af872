// Schema migrations: append-only files in sql/ (embedded in the bundle), applied in order under a
// PostgreSQL advisory lock so several nodes starting at once migrate exactly once. Each migration runs
// in its own transaction and is recorded with its checksum; a changed, already-applied file is an error.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import m0001 from '../../sql/0001_base.sql';
import m0002 from '../../sql/0002_alerter.sql';
import m0003 from '../../sql/0003_admin.sql';
import type { Logger } from './logging.ts';

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: '0001', name: 'base', sql: m0001 },
  { version: '0002', name: 'alerter', sql: m0002 },
  { version: '0003', name: 'admin', sql: m0003 },
];

/** Advisory-lock key shared by every MUTT node ("MUTT" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x4d555454;

export interface MigrateResult {
  applied: string[];
  partitions: string[];
}

const checksum = (sql: string) => createHash('sha256').update(sql).digest('hex');

export async function migrate(pool: pg.Pool, log: Logger, now: Date = new Date()): Promise<MigrateResult> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
      MIGRATION_LOCK_KEY,
    ]);
    if (!got.rows[0]?.ok) {
      log.info('another node is migrating the schema; waiting for it');
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS mutt_schema_migrations (
        version    TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        checksum   TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      const done = new Map(
        (
          await client.query<{ version: string; checksum: string }>(
            'SELECT version, checksum FROM mutt_schema_migrations',
          )
        ).rows.map((r) => [r.version, r.checksum]),
      );
      for (const m of MIGRATIONS) {
        const sum = checksum(m.sql);
        const prior = done.get(m.version);
        if (prior !== undefined) {
          if (prior !== sum) {
            throw new Error(
              `migration ${m.version}_${m.name} differs from the one applied to this database; migrations are append-only`,
            );
          }
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(
            'INSERT INTO mutt_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
            [m.version, m.name, sum],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
        applied.push(`${m.version}_${m.name}`);
        log.info({ migration: `${m.version}_${m.name}` }, 'applied schema migration');
      }
      const partitions = await ensurePartitions(client, now);
      return { applied, partitions };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    client.release();
  }
}

/** Creates the audit-log partitions for the month of `now` and the next `ahead` months. */
export async function ensurePartitions(
  db: Pick<pg.ClientBase, 'query'>,
  now: Date = new Date(),
  ahead = 2,
): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i <= ahead; i++) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1));
    const r = await db.query<{ name: string }>('SELECT create_monthly_partition($1::date) AS name', [
      d.toISOString().slice(0, 10),
    ]);
    names.push(r.rows[0]!.name);
  }
  return names;
}

/** `event_audit_log_YYYY_MM`, the partition of the UTC month `offset` months after `now`'s. */
export function partitionName(now: Date, offset = 0): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return `event_audit_log_${d.toISOString().slice(0, 7).replace('-', '_')}`;
}

/** Whether the audit-log partitions of this month and the next are attached to event_audit_log. */
export async function auditPartitionsPresent(
  db: Pick<pg.ClientBase, 'query'>,
  now: Date = new Date(),
): Promise<{ current: boolean; next: boolean }> {
  const current = partitionName(now, 0);
  const next = partitionName(now, 1);
  const r = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'event_audit_log' AND c.relname = ANY($1::text[])`,
    [[current, next]],
  );
  const names = new Set(r.rows.map((x) => x.name));
  return { current: names.has(current), next: names.has(next) };
}
