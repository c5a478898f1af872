// Schema migrations on real PostgreSQL databases: fresh, repeated, concurrent, and a database created
// by Python MUTT 2.x's own schema with rows in it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../src/runtime/migrate.ts';
import { dropDatabase, quietLog, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
const created: string[] = [];
const pools: pg.Pool[] = [];

beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => {
  for (const p of pools) await p.end();
  for (const d of created) await dropDatabase(svc.services, d);
  await svc.cleanup();
});

/** An empty database (not cloned from the migrated template). */
async function emptyDb(): Promise<pg.Pool> {
  const name = `m_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ ...svc.services.postgres, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  created.push(name);
  const pool = new pg.Pool({ ...svc.services.postgres, database: name, max: 4 });
  pools.push(pool);
  return pool;
}

const tables = async (pool: pg.Pool) =>
  (
    await pool.query<{ t: string }>(
      "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
  ).rows.map((r) => r.t);

const monthPartition = (offset: number) => {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return `event_audit_log_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

describe('mutt migrate', () => {
  it('keeps every sql/ file in the migration list', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync('sql')
      .filter((f) => f.endsWith('.sql'))
      .sort();
    expect(MIGRATIONS.map((m) => `${m.version}_${m.name}.sql`)).toEqual(files);
  });

  it('creates the schema and the partitions for this month and the next two', async () => {
    const pool = await emptyDb();
    const r = await migrate(pool, quietLog());
    expect(r.applied).toEqual(['0001_base', '0002_alerter', '0003_admin']);
    expect(r.partitions).toEqual([monthPartition(0), monthPartition(1), monthPartition(2)]);
    const t = await tables(pool);
    for (const name of [
      'alert_rules',
      'development_hosts',
      'device_teams',
      'config_audit_log',
      'mutt_schema_migrations',
      ...r.partitions,
    ]) {
      expect(t).toContain(name);
    }
    const parted = await pool.query(
      "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'event_audit_log'::regclass",
    );
    expect(parted.rows[0].partstrat).toBe('r');
  });

  it('is idempotent', async () => {
    const pool = await emptyDb();
    await migrate(pool, quietLog());
    const again = await migrate(pool, quietLog());
    expect(again.applied).toEqual([]);
    const rows = await pool.query('SELECT version FROM mutt_schema_migrations ORDER BY version');
    expect(rows.rows).toEqual([{ version: '0001' }, { version: '0002' }, { version: '0003' }]);
  });

  it('migrates exactly once when several nodes start at the same moment (advisory lock)', async () => {
    const pool = await emptyDb();
    const others = [0, 1, 2].map(() => {
      const p = new pg.Pool({
        ...svc.services.postgres,
        database: (pool as unknown as { options: { database: string } }).options.database,
        max: 2,
      });
      pools.push(p);
      return p;
    });
    const results = await Promise.all([pool, ...others].map((p) => migrate(p, quietLog())));
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 0, MIGRATIONS.length]);
    expect((await pool.query('SELECT count(*)::int AS n FROM mutt_schema_migrations')).rows[0].n).toBe(
      MIGRATIONS.length,
    );
  });

  it('refuses a migration changed after it was applied', async () => {
    const pool = await emptyDb();
    await migrate(pool, quietLog());
    await pool.query("UPDATE mutt_schema_migrations SET checksum = 'x' WHERE version = '0001'");
    await expect(migrate(pool, quietLog())).rejects.toThrow(
      /migration 0001_base differs from the one applied/,
    );
  });

  it('create_monthly_partition(date) is safe to call again and concurrently', async () => {
    const pool = await emptyDb();
    await migrate(pool, quietLog());
    const names = await Promise.all(
      Array.from({ length: 6 }, () => pool.query("SELECT create_monthly_partition('2031-07-15') AS n")),
    );
    expect(new Set(names.map((r) => r.rows[0].n))).toEqual(new Set(['event_audit_log_2031_07']));
    await pool.query(
      "INSERT INTO alert_rules (match_string, prod_handling, dev_handling, team_assignment) VALUES ('x', 'Ignore', 'Ignore', 'T')",
    );
    // UTC month bounds: the last second of July and the first of August land in different partitions.
    await pool.query(
      "INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision) VALUES ('2031-07-31T23:59:59Z', 'h', 1, 'Ignore')",
    );
    await expect(
      pool.query(
        "INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision) VALUES ('2031-08-01T00:00:00Z', 'h', 1, 'Ignore')",
      ),
    ).rejects.toThrow(/no partition/);
  });
});

describe('upgrading a Python MUTT 2.x database', () => {
  it('keeps every row and adds what MUTT needs', async () => {
    const pool = await emptyDb();
    await pool.query(readFileSync('test/fixtures/python-mutt-2x-schema.sql', 'utf8'));
    const snapshot = async () => ({
      rules: (
        await pool.query(
          'SELECT id, match_string, trap_oid, syslog_severity, match_type, priority, prod_handling, dev_handling, team_assignment, is_active FROM alert_rules ORDER BY id',
        )
      ).rows,
      dev: (await pool.query('SELECT * FROM development_hosts ORDER BY hostname')).rows,
      teams: (await pool.query('SELECT * FROM device_teams ORDER BY hostname')).rows,
      audit: (
        await pool.query(
          'SELECT id, event_timestamp, hostname, matched_rule_id, handling_decision, forwarded_to_moog, raw_message FROM event_audit_log ORDER BY id',
        )
      ).rows,
    });
    const before = await snapshot();
    expect(before.rules).toHaveLength(4);
    expect(before.audit).toHaveLength(3);

    const r = await migrate(pool, quietLog());
    expect(r.applied).toEqual(['0001_base', '0002_alerter', '0003_admin']);
    expect(await snapshot()).toEqual(before);

    // MUTT's additions are there, and the old partitions are kept.
    const cols = (
      await pool.query<{ c: string }>(
        "SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'alert_rules' ORDER BY ordinal_position",
      )
    ).rows.map((x) => x.c);
    expect(cols).toEqual(expect.arrayContaining(['name', 'description', 'created_at', 'updated_at']));
    const t = await tables(pool);
    expect(t).toEqual(
      expect.arrayContaining([
        'config_audit_log',
        'event_audit_log_2025_11',
        'event_audit_log_2025_12',
        ...r.partitions,
      ]),
    );

    // The replaced function now returns the partition name, and writes keep working.
    expect((await pool.query("SELECT create_monthly_partition('2025-12-10') AS n")).rows[0].n).toBe(
      'event_audit_log_2025_12',
    );
    await pool.query(
      "INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision, forwarded_to_moog, raw_message) VALUES (now(), 'core-rtr-1', 1, 'Page_and_ticket', true, '{}')",
    );
    await pool.query(
      "INSERT INTO alert_rules (match_string, prod_handling, dev_handling, team_assignment, name) VALUES ('new', 'Ignore', 'Ignore', 'NETO', 'added by MUTT')",
    );
    expect((await pool.query('SELECT count(*)::int AS n FROM alert_rules')).rows[0].n).toBe(5);

    // And a second run changes nothing.
    expect((await migrate(pool, quietLog())).applied).toEqual([]);
  });
});
