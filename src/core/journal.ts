// The delivery journal (`mutt:journal:moog`): one Redis stream entry per Moogsoft request, written by
// every forwarder of the fleet: when, by which forwarder, which alerts (by correlation id, each with
// what became of it), and the answer. `mutt trace` reads it to say which request an alert left in and
// what Moogsoft said. The stream is capped (MOOG_JOURNAL_SIZE entries, trimmed approximately), so it
// remembers the most recent requests; writing it never delays or fails a delivery.
import type { Redis } from 'ioredis';
import { type Logger, LogLimiter } from '../runtime/logging.ts';

/** What became of one alert of a request: delivered, rejected (to the DLQ), retry, held back. */
export type JournalOutcome = 'delivered' | 'reject' | 'retry' | 'hold';
const LETTER: Record<JournalOutcome, string> = { delivered: 'd', reject: 'r', retry: 't', hold: 'h' };
const OUTCOME: Record<string, JournalOutcome> = { d: 'delivered', r: 'reject', t: 'retry', h: 'hold' };

export interface JournalRequest {
  /** The sink that sent it: `moogsoft`, or `file` (no MOOG_WEBHOOK_URL). */
  sink: string;
  /** Correlation ids of the request's alerts, in order. */
  ids: readonly string[];
  /** One per alert, in the same order. */
  outcomes: readonly JournalOutcome[];
  /** `ok` or the failure reason label (http_503, timeout, auth, …). */
  reason: string;
  status?: number;
  latencyMs: number;
  /** The destination's answer in a few words, when it failed. */
  detail?: string;
}

export interface JournalEntry {
  /** The stream entry id (its time is when the answer came). */
  entry: string;
  at: string;
  sink: string;
  pod: string;
  request: string;
  reason: string;
  status?: number;
  latencyMs: number;
  detail?: string;
  alerts: number;
  ids: string[];
  outcomes: JournalOutcome[];
}

export function parseJournalEntry(entry: string, fields: readonly string[]): JournalEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  const ids = f.ids ? f.ids.split(' ') : [];
  const status = Number(f.status);
  return {
    entry,
    at: f.at ?? new Date(Number(entry.split('-')[0])).toISOString(),
    sink: f.sink ?? 'moogsoft',
    pod: f.pod ?? '',
    request: f.request ?? entry,
    reason: f.reason ?? '',
    status: f.status && Number.isInteger(status) ? status : undefined,
    latencyMs: Number(f.latency_ms) || 0,
    detail: f.detail || undefined,
    alerts: ids.length,
    ids,
    outcomes: [...(f.outcomes ?? '')].map((c) => OUTCOME[c] ?? 'hold'),
  };
}

export interface MoogJournalOptions {
  redis: Pick<Redis, 'xadd'>;
  key: string;
  /** This forwarder (request ids are `<pod>-<n>`). */
  pod: string;
  maxEntries: number;
  log: Logger;
  now?: () => number;
}

export class MoogJournal {
  private readonly o: MoogJournalOptions;
  private seq = 0;
  private readonly logs = new LogLimiter(60_000);

  constructor(o: MoogJournalOptions) {
    this.o = o;
  }

  /** Appends one request (fire and forget); returns its request id. */
  record(r: JournalRequest): string {
    const request = `${this.o.pod}-${++this.seq}`;
    if (this.o.maxEntries <= 0) return request;
    const fields = [
      'at',
      new Date((this.o.now ?? Date.now)()).toISOString(),
      'sink',
      r.sink,
      'pod',
      this.o.pod,
      'request',
      request,
      'reason',
      r.reason,
      'status',
      r.status === undefined ? '' : String(r.status),
      'latency_ms',
      String(Math.round(r.latencyMs)),
      'ids',
      r.ids.join(' '),
      'outcomes',
      r.outcomes.map((o) => LETTER[o]).join(''),
    ];
    if (r.detail) fields.push('detail', r.detail.slice(0, 300));
    this.o.redis.xadd(this.o.key, 'MAXLEN', '~', this.o.maxEntries, '*', ...fields).catch((err: unknown) => {
      const suppressed = this.logs.take('xadd');
      if (suppressed >= 0)
        this.o.log.warn(
          { err: (err as Error).message, suppressed },
          'writing the delivery journal failed (deliveries go on; mutt trace will miss these requests)',
        );
    });
    return request;
  }
}

/** Every journal entry that carries `correlationId`, oldest first; reads at most `maxEntries`, newest first. */
export async function findInJournal(
  redis: Pick<Redis, 'xrevrange'>,
  key: string,
  correlationId: string,
  maxEntries = 1_000_000,
  pageSize = 1000,
): Promise<{ entries: JournalEntry[]; scanned: number }> {
  const found: JournalEntry[] = [];
  let end = '+';
  let scanned = 0;
  while (scanned < maxEntries) {
    const page = await redis.xrevrange(key, end, '-', 'COUNT', pageSize);
    if (page.length === 0) break;
    for (const [entry, fields] of page) {
      const i = fields.indexOf('ids');
      const ids = i >= 0 ? (fields[i + 1] ?? '') : '';
      if (ids.includes(correlationId) && ids.split(' ').includes(correlationId))
        found.push(parseJournalEntry(entry, fields));
    }
    scanned += page.length;
    if (page.length < pageSize) break;
    const [ms, seq] = page[page.length - 1]![0].split('-').map(Number) as [number, number];
    end = seq > 0 ? `${ms}-${seq - 1}` : `${ms - 1}`;
  }
  return { entries: found.reverse(), scanned };
}
