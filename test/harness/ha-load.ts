// Steady load for the high-availability tests, from real clients, with every event numbered so that
// it can be followed to its audit row and its Moogsoft alert:
//   HttpLoad     POST /ingest batches; a batch is acknowledged on 200 and sent again until it is
//                (a 503 or a broken connection is retried, as a well-behaved client does)
//   TcpLoad      one syslog TCP connection writing LF-framed lines (TCP acknowledges nothing to the
//                application: what was written is what was sent)
//   InformLoad   Net-SNMP snmpinform, one at a time; acknowledged when the inform is answered, else
//                sent again
// and the census that matches acknowledged ids against audit rows and alerts.
import { connect, type Socket } from 'node:net';
import type pg from 'pg';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import type { MockMoogsoft } from './mock-moogsoft.ts';
import { netSnmp } from './snmp-clients.ts';

export const LOAD_MARK = 'HA-LOAD';
const ID_RE = /HA-LOAD ([a-z0-9]+-\d+)/g;

/** Failures seen by a client, with when they happened, for the gap measurements. */
export interface Failure {
  at: number;
  what: string;
}

abstract class Load {
  readonly prefix: string;
  /** Ids acknowledged (HTTP 200, answered inform) or, for TCP, written. */
  readonly acked = new Set<string>();
  readonly failures: Failure[] = [];
  /** Times of acknowledgements, for the gap measurement. */
  readonly ackTimes: number[] = [];
  protected running = false;
  protected loop?: Promise<void>;
  protected next = 0;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the batch in hand is acknowledged (or `graceMs` passed). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  protected acknowledged(ids: string[]): void {
    const now = Date.now();
    for (const id of ids) this.acked.add(id);
    this.ackTimes.push(now);
  }

  /** The last acknowledgement before `t` and the first after it (ms since the epoch). */
  around(t: number): { last: number | undefined; next: number | undefined } {
    return {
      last: this.ackTimes.filter((x) => x <= t).at(-1),
      next: this.ackTimes.find((x) => x > t),
    };
  }

  /** The longest time without an acknowledgement between `from` and `to` (ms). */
  longestGap(from: number, to: number): number {
    const t = [from, ...this.ackTimes.filter((x) => x > from && x < to), to];
    let gap = 0;
    for (let i = 1; i < t.length; i++) gap = Math.max(gap, t[i]! - t[i - 1]!);
    return gap;
  }

  protected abstract run(): Promise<void>;
}

export class HttpLoad extends Load {
  readonly statuses = new Map<string, number>();
  private readonly o: { url: string; apiKey: string; batch: number; intervalMs: number; prefix?: string };
  constructor(o: { url: string; apiKey: string; batch: number; intervalMs: number; prefix?: string }) {
    super(o.prefix ?? 'http');
    this.o = o;
  }

  protected async run(): Promise<void> {
    while (this.running) {
      const ids = Array.from({ length: this.o.batch }, () => `${this.prefix}-${this.next++}`);
      const body = JSON.stringify(
        ids.map((id) => ({
          hostname: 'ha-host',
          timestamp: new Date().toISOString(),
          message: `${LOAD_MARK} ${id}`,
          syslog_severity: 3,
        })),
      );
      // Retried until acknowledged, even after stop() (the client's duty to its own events).
      for (let attempt = 0; attempt < 600; attempt++) {
        let status: string;
        try {
          const r = await fetch(this.o.url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-API-KEY': this.o.apiKey },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          await r.arrayBuffer();
          status = String(r.status);
          if (r.status === 200) {
            this.acknowledged(ids);
            break;
          }
        } catch (err) {
          status = (err as Error).name === 'TimeoutError' ? 'timeout' : 'connection error';
        }
        this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
        this.failures.push({ at: Date.now(), what: status });
        await abortableSleep(200);
      }
      await abortableSleep(this.o.intervalMs);
    }
  }
}

export class TcpLoad extends Load {
  private socket?: Socket;
  reconnects = 0;
  private readonly o: { port: number; linesPerTick: number; intervalMs: number; prefix?: string };
  constructor(o: { port: number; linesPerTick: number; intervalMs: number; prefix?: string }) {
    super(o.prefix ?? 'tcp');
    this.o = o;
  }

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect({ port: this.o.port, host: '127.0.0.1' }, () => resolve(s));
      s.once('error', reject);
    });
  }

  protected async run(): Promise<void> {
    this.socket = await this.open();
    this.socket.on('error', () => {});
    while (this.running) {
      const ids = Array.from({ length: this.o.linesPerTick }, () => `${this.prefix}-${this.next++}`);
      const text = ids.map((id) => `<134>Mar 10 12:00:00 ha-tcp app: ${LOAD_MARK} ${id}\n`).join('');
      if (this.socket.destroyed) {
        // Not expected: MUTT keeps syslog connections open through a Redis failover.
        this.failures.push({ at: Date.now(), what: 'connection closed' });
        this.reconnects++;
        this.socket = await this.open();
        this.socket.on('error', () => {});
      }
      if (!this.socket.write(text)) await new Promise((r) => this.socket!.once('drain', r));
      this.acknowledged(ids);
      await abortableSleep(this.o.intervalMs);
    }
    // Everything written reaches MUTT before it sees the end of the stream.
    const s = this.socket;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
    });
  }
}

export class InformLoad extends Load {
  private readonly o: { port: number; intervalMs: number; prefix?: string };
  constructor(o: { port: number; intervalMs: number; prefix?: string }) {
    super(o.prefix ?? 'inf');
    this.o = o;
  }

  protected async run(): Promise<void> {
    while (this.running) {
      const id = `${this.prefix}-${this.next++}`;
      for (let attempt = 0; attempt < 100; attempt++) {
        const r = await netSnmp('snmpinform', [
          '-v',
          '2c',
          '-c',
          'public',
          '-t',
          '1',
          '-r',
          '1',
          `127.0.0.1:${this.o.port}`,
          '',
          '1.3.6.1.6.3.1.1.5.3',
          '1.3.6.1.2.1.2.2.1.2.1',
          's',
          `${LOAD_MARK} ${id}`,
        ]);
        if (r.status === 0) {
          this.acknowledged([id]);
          break;
        }
        this.failures.push({ at: Date.now(), what: 'no answer' });
      }
      await abortableSleep(this.o.intervalMs);
    }
  }
}

/** How often each load id appears in a text (ids in audit rows, alerts). */
function countIds(texts: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of texts) {
    // An event names its id in several fields (message, raw message): once per event.
    for (const id of new Set([...t.matchAll(ID_RE)].map((r) => r[1]!))) m.set(id, (m.get(id) ?? 0) + 1);
  }
  return m;
}

export async function auditedIds(pool: pg.Pool | pg.Client): Promise<Map<string, number>> {
  const r = await pool.query<{ raw_message: string }>(
    `SELECT raw_message FROM event_audit_log WHERE raw_message LIKE '%${LOAD_MARK}%'`,
  );
  return countIds(r.rows.map((x) => x.raw_message));
}

export function deliveredIds(mock: MockMoogsoft): Map<string, number> {
  return countIds(mock.acceptedEvents().map((e) => JSON.stringify(e)));
}

export interface Census {
  source: string;
  acknowledged: number;
  audited: number;
  delivered: number;
  /** Acknowledged (or, for TCP, written) but not audited, or not delivered. */
  lost: number;
  notAudited: number;
  notDelivered: number;
  /** Audit rows beyond the first of an id. */
  auditDuplicates: number;
  /** Alerts beyond the first of an id. */
  deliveryDuplicates: number;
  /** Ids audited that no client saw acknowledged (sent during a failure and retried, or never). */
  unacknowledgedAudited: number;
}

export function census(load: Load, audited: Map<string, number>, delivered: Map<string, number>): Census {
  const mine = (m: Map<string, number>) => [...m].filter(([id]) => id.startsWith(`${load.prefix}-`));
  const a = mine(audited);
  const d = mine(delivered);
  return {
    source: load.prefix,
    acknowledged: load.acked.size,
    audited: a.length,
    delivered: d.length,
    lost: [...load.acked].filter((id) => !audited.has(id) || !delivered.has(id)).length,
    notAudited: [...load.acked].filter((id) => !audited.has(id)).length,
    notDelivered: [...load.acked].filter((id) => !delivered.has(id)).length,
    auditDuplicates: a.reduce((n, [, c]) => n + c - 1, 0),
    deliveryDuplicates: d.reduce((n, [, c]) => n + c - 1, 0),
    unacknowledgedAudited: a.filter(([id]) => !load.acked.has(id)).length,
  };
}

/** Polls until every acknowledged id of the loads is audited and delivered, or nothing changes for `quietMs`. */
export async function settleCounts(
  loads: Load[],
  read: () => Promise<{ audited: Map<string, number>; delivered: Map<string, number> }>,
  o: { quietMs?: number; maxMs?: number } = {},
): Promise<{ audited: Map<string, number>; delivered: Map<string, number> }> {
  const end = Date.now() + (o.maxMs ?? 120_000);
  let last = '';
  let lastChange = Date.now();
  for (;;) {
    const r = await read();
    const all = loads.every((l) => [...l.acked].every((id) => r.audited.has(id) && r.delivered.has(id)));
    if (all) return r;
    const sig = `${r.audited.size}/${r.delivered.size}`;
    if (sig !== last) {
      last = sig;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > (o.quietMs ?? 20_000) || Date.now() > end) return r;
    await abortableSleep(500);
  }
}
