// The audit writer: one `event_audit_log` row per handled event, a batch in one COPY … FROM STDIN
// (one round trip, one commit; measured faster than a multi-row INSERT, see docs/ALERTER.md).
// Partitions: the current month and the next two are created at start and by the daily task, which also drops the months older than AUDIT_RETENTION_MONTHS. An
// event dated in a month that has no partition gets one created first when the month is inside the
// kept range; outside it (or when the timestamp cannot be read) the row carries the time the event
// was received and `event_timestamp_substituted`, and the original stays in raw_message.
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { isTransient } from '../../runtime/workers/loop.ts';
import { ensurePartitions } from '../../runtime/migrate.ts';

export interface AuditRow {
  /** ISO 8601 instant PostgreSQL accepts (parity mode: the event's own text, for PostgreSQL to judge). */
  eventTimestamp: string;
  hostname: string;
  ruleId: number;
  handling: string;
  forwarded: boolean;
  raw: string;
  substituted: boolean;
}

/** Rows per statement (each statement is its own commit). */
const MAX_ROWS = 5000;

const COPY_SQL = `COPY event_audit_log (event_timestamp, hostname, matched_rule_id, handling_decision,
  forwarded_to_moog, raw_message, event_timestamp_substituted) FROM STDIN`;

/** A field of COPY's text format: backslash, tab, newline and carriage return escaped. */
export function copyText(s: string): string {
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : s;
}
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7); // YYYY-MM

export interface AuditWriterOptions {
  pool: pg.Pool;
  retentionMonths: number;
  now?: () => number;
}

export class AuditWriter {
  private readonly o: Required<AuditWriterOptions>;
  /** Months (YYYY-MM) known to have a partition. */
  private readonly months = new Set<string>();

  constructor(o: AuditWriterOptions) {
    this.o = { now: Date.now, ...o };
  }

  /** Reads which monthly partitions exist. */
  async refreshPartitions(): Promise<void> {
    const r = await this.o.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'event_audit_log'`,
    );
    this.months.clear();
    for (const { name } of r.rows) {
      const m = /^event_audit_log_(\d{4})_(\d{2})$/.exec(name);
      if (m) this.months.add(`${m[1]}-${m[2]}`);
    }
  }

  /** The daily task: partitions ahead, retention. Returns the partitions it dropped. */
  async maintain(): Promise<string[]> {
    await ensurePartitions(this.o.pool, new Date(this.o.now()));
    const dropped: string[] = [];
    if (this.o.retentionMonths > 0) {
      const oldest = this.oldestKept();
      const r = await this.o.pool.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
          WHERE p.relname = 'event_audit_log' AND c.relname ~ '^event_audit_log_[0-9]{4}_[0-9]{2}$'`,
      );
      for (const { name } of r.rows) {
        const month = `${name.slice(16, 20)}-${name.slice(21, 23)}`;
        if (month < oldest) {
          // The name was matched above against a strict pattern, so it is safe as an identifier.
          await this.o.pool.query(`DROP TABLE IF EXISTS "${name}"`);
          dropped.push(name);
        }
      }
    }
    await this.refreshPartitions();
    return dropped;
  }

  /** The first month kept by retention (YYYY-MM); '0000-00' keeps all. */
  private oldestKept(): string {
    if (this.o.retentionMonths <= 0) return '0000-00';
    const d = new Date(this.o.now());
    return monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (this.o.retentionMonths - 1), 1));
  }

  /** Whether a row dated `ms` can be stored under its own date (creating its month's partition). */
  async accepts(ms: number): Promise<boolean> {
    const month = monthOf(ms);
    if (this.months.has(month)) return true;
    const d = new Date(this.o.now());
    const latest = monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 2, 1));
    if (month < this.oldestKept() || month > latest || month < '1970-01') return false;
    await this.o.pool.query('SELECT create_monthly_partition($1::date)', [`${month}-01`]);
    this.months.add(month);
    return true;
  }

  /** Writes the rows (one statement per MAX_ROWS, each its own commit); returns how many. */
  async write(rows: readonly AuditRow[]): Promise<number> {
    for (let i = 0; i < rows.length; i += MAX_ROWS) await this.insert(rows.slice(i, i + MAX_ROWS));
    return rows.length;
  }

  private async insert(rows: readonly AuditRow[]): Promise<void> {
    if (rows.length === 0) return;
    let text = '';
    for (const r of rows) {
      text += `${copyText(r.eventTimestamp)}\t${copyText(r.hostname)}\t${r.ruleId}\t${copyText(r.handling)}\t${r.forwarded ? 't' : 'f'}\t${copyText(r.raw)}\t${r.substituted ? 't' : '\\N'}\n`;
    }
    const client = await this.o.pool.connect();
    let failed: unknown;
    // A connection lost while the client is checked out is reported as an 'error' event besides the
    // failed COPY; without a listener it would be an uncaught exception.
    const onError = (err: Error) => {
      failed ??= err;
    };
    client.on('error', onError);
    try {
      const stream = client.query(copyFrom(COPY_SQL));
      await new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
        stream.end(text);
      });
    } catch (err) {
      failed = err;
      throw err;
    } finally {
      // A connection that failed at the transport level is discarded; a refused row leaves it usable.
      client.off('error', onError);
      client.release(failed !== undefined && isTransient(failed) ? (failed as Error) : undefined);
    }
  }
}
