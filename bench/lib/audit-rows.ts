// A large, realistic event_audit_log for the benchmarks that read it (admin API, browser UI): rows
// spread evenly over the last `months` monthly partitions, `hosts` host names, generated in SQL
// (generate_series, a statement per half month), then VACUUM ANALYZE.
import type pg from 'pg';
import { fmt } from './env.ts';

export async function loadAuditRows(
  pool: pg.Pool,
  o: { rows: number; ruleId: number; months: number; hosts: number },
): Promise<{ start: number; end: number; loadSeconds: number }> {
  const { rows, ruleId, months, hosts } = o;
  // Partitions first, then the rows.
  const now = new Date();
  const end = now.getTime();
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (months - 1), 1);
  for (let m = 0; m < months; m++)
    await pool.query('SELECT create_monthly_partition($1::date)', [
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - m, 1)).toISOString().slice(0, 10),
    ]);
  const t0 = performance.now();
  const chunks = months * 2;
  const per = Math.ceil(rows / chunks);
  const span = end - start;
  for (let k = 0; k < chunks; k++) {
    const from = start + (span * k) / chunks;
    const to = start + (span * (k + 1)) / chunks;
    const client = await pool.connect();
    try {
      await client.query('SET synchronous_commit = off');
      await client.query(
        `INSERT INTO event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision, forwarded_to_moog, raw_message)
         SELECT to_timestamp(($1::float8 + (i::float8 / $3) * ($2::float8 - $1::float8)) / 1000),
                'host-' || lpad(((i::bigint * 7919) % ${hosts})::text, 4, '0'),
                $4::int,
                CASE WHEN i % 4 = 0 THEN 'Ignore' ELSE 'Page_and_ticket' END,
                i % 4 <> 0,
                '{"hostname":"host-' || lpad(((i::bigint * 7919) % ${hosts})::text, 4, '0') ||
                '","message":"%LINK-3-UPDOWN: Interface GigabitEthernet0/' || (i % 48) ||
                ', changed state to down","syslog_severity":3,"source":"syslog","_correlation_id":"b${k}-' || i || '"}'
           FROM generate_series(0, $3::int - 1) AS i`,
        [from, to, per, ruleId],
      );
    } finally {
      client.release();
    }
    process.stderr.write(
      `  loaded ${fmt(Math.min(rows, per * (k + 1)))} rows in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
    );
  }
  await pool.query('VACUUM ANALYZE event_audit_log');
  return { start, end, loadSeconds: (performance.now() - t0) / 1000 };
}
