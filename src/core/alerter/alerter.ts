// The alerter loop: events from `mutt:ingest_queue` to decisions, audit rows and alerts, never losing
// one (PROTOCOL.md, "Alerter decisions").
//
//   ingest_queue ──take ≤ ALERTER_BATCH_SIZE (Lua) / BLMOVE when idle──► processing:alerter:<pod>
//                                                                               │ parse, match, decide
//            ┌───────────────────────────┬─────────────────────────────┬────────┴──────────────┐
//         handled                    unhandled                       poison             shed (backpressure)
//   audit rows: one COPY        unhandled-5.lua counters       re-queued _retry_count+1,    alerter DLQ with
//   (committed first)           meta-alert at the threshold    then the alerter DLQ         shedding_reason
//            └───────────────────────────┴─────── settle: one settle-4.lua call ┴──────────────┘
//                          empties the processing list (which holds exactly the batch) and, in the
//                          same atomic step, pushes each alert (alert_queue), retry (ingest_queue) or
//                          DLQ entry; move-4.lua item by item when a janitor took the batch meanwhile
//
// An item leaves the processing list only in that last step, after its audit row committed, so a
// crash at any point leaves it in the processing list; the next life of this worker (same pod) or a
// janitor returns it and it is processed again: at least once, duplicates bounded by the batches in
// hand (two: one being settled while the next is decided).
// PostgreSQL or Redis being unreachable is waited out with backoff, holding the batch.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { type CompatMode, CompatTracker } from '../config/compat.ts';
import { DynamicConfig } from '../config/dynamic.ts';
import type { Keys } from '../protocol/keys.ts';
import type { ScriptedRedis } from '../protocol/scripts.ts';
import { Janitor } from '../queue/janitor.ts';
import { ReliableQueue } from '../queue/reliable-queue.ts';
import type { Config } from '../../runtime/config/load.ts';
import { type Logger, LogLimiter } from '../../runtime/logging.ts';
import { isTransient, Loop } from '../../runtime/workers/loop.ts';
import { type AuditRow, AuditWriter } from './audit.ts';
import { loadSnapshot, RULES_CHANGED_CHANNEL, type RuleSnapshot } from './cache.ts';
import { alertFor, boundedRaw, column, decide, metaAlertFor } from './decide.ts';
import { type AlerterEvent, eventInstant, parseEvent, type PoisonCode } from './event.ts';
import type { AlerterMetrics } from './metrics.ts';
import {
  decidePython,
  pythonAlertFor,
  pythonMetaAlertFor,
  pythonSeverity,
  pythonTimestamp,
} from './parity.ts';
import { pythonOid } from './rules.ts';
import { unhandledSignature } from './template.ts';

export type AlerterConfig = Pick<
  Config,
  | 'ALERTER_BATCH_SIZE'
  | 'ALERTER_HEARTBEAT_INTERVAL'
  | 'ALERTER_JANITOR_TIMEOUT'
  | 'ALERTER_MAX_RETRIES'
  | 'BRPOPLPUSH_TIMEOUT'
  | 'CACHE_RELOAD_INTERVAL'
  | 'UNHANDLED_THRESHOLD'
  | 'UNHANDLED_EXPIRY_SECONDS'
  | 'UNHANDLED_DEFAULT_TEAM'
  | 'UNHANDLED_SIGNATURE'
  | 'UNHANDLED_MAX_SIGNATURES'
  | 'ALERTER_QUEUE_WARN_THRESHOLD'
  | 'ALERTER_QUEUE_SHED_THRESHOLD'
  | 'ALERTER_SHED_MODE'
  | 'ALERTER_DEFER_SLEEP_MS'
  | 'DYNAMIC_CONFIG_ENABLED'
  | 'AUDIT_RETENTION_MONTHS'
  | 'AUDIT_RAW_MESSAGE_MAX_BYTES'
  | 'REQUIRED_MESSAGE_FIELDS'
  | 'COMPAT_MODE'
>;

export interface AlerterOptions {
  config: AlerterConfig;
  log: Logger;
  redis: ScriptedRedis;
  /** Dedicated connection for the blocking take. */
  blocking: Redis;
  /** Dedicated connection for the `mutt:config:updates` subscription. */
  subscriber: Redis;
  pool: pg.Pool;
  keys: Keys;
  pod: string;
  metrics: AlerterMetrics;
  /** Sweep every alerter processing list for dead owners, and run the daily partition task. */
  leader: boolean;
  now?: () => number;
}

/** Steps that settle work already done run even while the alerter is stopping. */
const FINISH = { finish: true } as const;
const DAY_MS = 86_400_000;
/** The signature under which a host's unhandled messages beyond UNHANDLED_MAX_SIGNATURES are counted. */
const OVERFLOW_SIG = 'overflow';
/** Triples per move-4 call (keeps one call's arguments reasonable). */
const SETTLE_CHUNK = 1000;
/**
 * Batches a worker audits at once, besides the one it is deciding. One batch's audit is a COPY and a
 * commit that waits for PostgreSQL's WAL flush; with two, the next COPY runs during that wait (the
 * worker's pool has at least two connections). On the capacity ladder's two cores one batch at a
 * time held one alerter to about 25,000 events/s with CPU to spare; two use it. Each adds a batch to
 * those audited twice after a crash (ALERTER_BATCH_SIZE).
 */
const AUDITS_IN_FLIGHT = 2;
/** The recent-events sample the rule tester reads: events kept, taken per batch, largest kept. */
export const RECENT_EVENTS = { keep: 1000, perBatch: 20, maxBytes: 8192 } as const;

/** A batch parsed, matched and decided, waiting for its audit rows and its settle. */
interface Decided {
  items: string[];
  entries: Entry[];
  /** The entries to count as unhandled (shedding removes some). */
  unhandled: Entry[];
  /** YYYY-MM → an instant in it, for the months the audit rows need. */
  needMonths: Map<string, number>;
  now: Date;
  snap: RuleSnapshot;
  started: number;
  /** The mode the whole batch is decided, audited and settled in (read once, when it was taken). */
  mode: CompatMode;
}

interface Entry {
  raw: string;
  /** move-4 op: '-' remove, 'L2' DLQ, 'L3' back to the ingest queue, 'L4' alert queue. */
  op: '-' | 'L2' | 'L3' | 'L4';
  replacement: string;
  status: 'handled' | 'unhandled' | 'poison' | 'error';
  event?: AlerterEvent;
  row?: AuditRow;
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));
const pgCode = (e: unknown): string => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : '';
};

export class Alerter extends Loop {
  private readonly o: AlerterOptions;
  private readonly now: () => number;
  private readonly queue: ReliableQueue;
  private readonly janitor?: Janitor;
  private readonly audit: AuditWriter;
  readonly dynamic: DynamicConfig;
  readonly compat: CompatTracker;
  private readonly logs = new LogLimiter(60_000);
  private snapshot?: RuleSnapshot;
  private reloadDue = 0;
  private reloadRequested = false;
  private nextSweep = 0;
  private nextMaintenance = 0;
  private listener?: pg.PoolClient;
  private listening?: Promise<void>;
  /** A settle found the processing list not as expected: read it whole with the next take. */
  private resync = false;
  private runningReload?: Promise<boolean>;
  private queuedReload?: Promise<boolean>;

  constructor(o: AlerterOptions) {
    super(o.log);
    this.o = o;
    this.now = o.now ?? Date.now;
    const c = o.config;
    this.queue = new ReliableQueue({
      redis: o.redis,
      blocking: o.blocking,
      queue: o.keys.ingestQueue,
      processing: o.keys.alerterProcessing(o.pod),
      heartbeat: o.keys.alerterHeartbeat(o.pod),
      batchSize: c.ALERTER_BATCH_SIZE,
      blockSeconds: c.BRPOPLPUSH_TIMEOUT,
      heartbeatIntervalSeconds: c.ALERTER_HEARTBEAT_INTERVAL,
      heartbeatTtlSeconds: c.ALERTER_JANITOR_TIMEOUT,
      onHeartbeatError: (err) =>
        this.warnLimited('heartbeat', { err: err.message }, 'writing the heartbeat failed'),
    });
    if (o.leader) {
      this.janitor = new Janitor({
        redis: o.redis,
        pattern: o.keys.alerterProcessingPattern,
        heartbeatOf: (list) => o.keys.alerterHeartbeat(o.keys.podOf(list)),
        queue: o.keys.ingestQueue,
        ttlSeconds: c.ALERTER_JANITOR_TIMEOUT,
        now: this.now,
      });
    }
    this.audit = new AuditWriter({ pool: o.pool, retentionMonths: c.AUDIT_RETENTION_MONTHS, now: this.now });
    this.dynamic = new DynamicConfig({
      redis: o.redis,
      keys: o.keys,
      config: c,
      onInvalid: (key, raw, reason) =>
        this.warnLimited(
          `dynamic:${key}`,
          { key, value: raw.slice(0, 100), reason },
          'invalid dynamic configuration value; using the static setting',
        ),
    });
    this.compat = new CompatTracker({
      read: () => this.dynamic.get('compat_mode'),
      log: this.log,
      component: 'alerter',
      onSwitch: (_from, to) => o.metrics.compatSwitches.inc({ to }),
    });
  }

  /** The rules in use (for tests and the reload log). */
  get rules(): RuleSnapshot | undefined {
    return this.snapshot;
  }

  processingDepth(): Promise<number> {
    return this.o.redis.llen(this.o.keys.alerterProcessing(this.o.pod));
  }

  /**
   * SIGHUP or a change notification: reload the rules now, without waiting for a blocked take to
   * return, so that a writer waiting for this worker's acknowledgement (the admin API) is answered
   * within milliseconds and the next event is decided with the new rules.
   */
  requestReload(): void {
    this.reloadRequested = true;
    if (this.snapshot && !this.closed) void this.reload('notification');
  }

  private warnLimited(key: string, fields: Record<string, unknown>, msg: string): void {
    const suppressed = this.logs.take(key);
    if (suppressed >= 0) this.log.warn({ ...fields, suppressed }, msg);
  }

  protected async main(): Promise<void> {
    const started = await this.retryIfFailed('starting the alerter', async () => {
      await this.queue.start();
      return true;
    });
    if (!started) return;
    await this.retryIfFailed('reading the dynamic configuration', () =>
      this.dynamic.start(this.o.subscriber),
    );
    // Nothing is taken before the first rules are loaded (the schema may still be being migrated).
    while (!this.closed && !this.snapshot) {
      if (!(await this.reload('start'))) await this.sleep(1000);
    }
    if (this.closed) return;
    this.listen();
    const snap = this.snapshot!;
    const mode = this.compat.start();
    this.o.metrics.compatMode.set(mode === 'python2' ? 1 : 0);
    this.log.info(
      {
        rules: snap.matcher.size,
        rejected: snap.rejected.length,
        batch_size: this.o.config.ALERTER_BATCH_SIZE,
        compat_mode: mode,
      },
      'alerter started',
    );
    // Batches in hand: up to AUDITS_IN_FLIGHT being audited at once (their COPYs on separate
    // connections, so that one batch's commit does not wait for the other's) while the next is
    // taken and decided. Settles happen in the order the batches were taken: each batch's finish
    // waits for the one before it.
    const inFlight: Promise<boolean>[] = [];
    const drain = async () => {
      let ok = true;
      while (inFlight.length > 0) if (!(await inFlight.shift()!)) ok = false;
      return ok;
    };
    while (!this.closed) {
      await this.housekeeping();
      if (this.closed) break;
      const pressure = await this.retryIfFailed('reading the alert queue length', () => this.backpressure());
      if (pressure !== 'ok') await drain();
      if (pressure === 'defer') {
        this.o.metrics.shed.inc({ mode: 'defer' });
        await this.sleep(this.dynamic.get('alerter_defer_sleep_ms'));
        continue;
      }
      // The processing list held something this worker did not know of (a batch settle's guard
      // failed: a lost reply to a take, or a janitor's move): once the batch in hand is settled, a
      // plain take reads the whole list again.
      if (this.resync) {
        await drain();
        this.resync = false;
      }
      // With a batch in hand, only new items are moved (never blocking); without, a plain take also
      // returns anything the processing list still holds.
      const items = await this.retryIfFailed('taking events', () =>
        inFlight.length > 0 ? this.queue.takeMore() : this.queue.take(undefined, this.blockSeconds()),
      );
      if (!items || items.length === 0) {
        await drain();
        continue;
      }
      this.o.metrics.batchSize.observe(items.length);
      const decided = this.decide(items);
      if (pressure === 'shed') this.shed(decided);
      // With the most batches in hand, the oldest must be finished first. If it could not be, the
      // batches in hand are finished and the next plain take returns what is left, this batch
      // included, to be decided again.
      if (inFlight.length >= AUDITS_IN_FLIGHT && !(await inFlight.shift()!)) {
        await drain();
        continue;
      }
      const finishing = this.finish(decided, inFlight.at(-1));
      // Awaited by a later shift or drain(); until then a failure must not count as unhandled.
      finishing.catch(() => undefined);
      inFlight.push(finishing);
    }
    await drain();
  }

  protected override cleanupSteps(): [string, () => Promise<unknown>][] {
    return [
      ['returning the events in hand to the ingest queue', () => this.queue.release()],
      ['stopping the dynamic configuration', async () => this.dynamic.stop()],
      ['withdrawing the rule generation', () => this.o.redis.hdel(this.o.keys.alerterGeneration, this.o.pod)],
      [
        'stopping the rule-change listener',
        async () => {
          const l = this.listener;
          this.listener = undefined;
          if (!l) return;
          // Wait for the connection to close, so that the pool's end really ends every connection.
          const ended = new Promise<void>((resolve) => {
            l.once('end', () => resolve());
            setTimeout(resolve, 2000).unref();
          });
          l.release(true);
          await ended;
        },
      ],
    ];
  }

  private blockSeconds(): number {
    let ms = this.o.config.BRPOPLPUSH_TIMEOUT * 1000;
    ms = Math.min(ms, Math.max(0, this.reloadDue - this.now()));
    if (this.janitor) ms = Math.min(ms, Math.max(0, this.nextSweep - this.now()));
    return Math.max(0.05, ms / 1000);
  }

  /**
   * Loads the rules; false (keeping the last good cache) when that fails. Reloads never overlap:
   * one asked for while another runs starts after it (and serves every request made meanwhile).
   */
  reload(why: string): Promise<boolean> {
    if (this.queuedReload) return this.queuedReload;
    const before = this.runningReload;
    const self: { run?: Promise<boolean> } = {};
    self.run = (async () => {
      await (before ?? Promise.resolve(true));
      this.queuedReload = undefined;
      this.runningReload = self.run;
      try {
        return await this.loadRules(why);
      } finally {
        if (this.runningReload === self.run) this.runningReload = undefined;
      }
    })();
    // Marked at once (the body above runs from its first await on), so a request made meanwhile
    // queues behind this reload instead of running beside it.
    if (before) this.queuedReload = self.run;
    else this.runningReload = self.run;
    return self.run;
  }

  private async loadRules(why: string): Promise<boolean> {
    this.reloadRequested = false;
    this.reloadDue = this.now() + this.dynamic.get('cache_reload_interval') * 1000;
    const m = this.o.metrics;
    try {
      const snap = await loadSnapshot(this.o.pool, this.now());
      const previous = this.snapshot;
      // Never go back to an older read (one started before the rules in use were read).
      if (previous && snap.loadedAt < previous.loadedAt && snap.generation < previous.generation) return true;
      this.snapshot = snap;
      m.reloads.inc();
      m.rules.set(snap.matcher.size);
      m.rulesRejected.set(snap.rejected.length);
      m.devHosts.set(snap.devHosts.size);
      m.teams.set(snap.teams.size);
      // The acknowledgement the admin API waits for: this worker decides with this generation now.
      this.o.redis
        .hset(this.o.keys.alerterGeneration, this.o.pod, String(snap.generation))
        .catch((err: unknown) =>
          this.warnLimited('ack', { err: (err as Error).message }, 'reporting the rule generation failed'),
        );
      for (const r of snap.rejected) {
        if (previous?.rejected.some((p) => p.id === r.id && p.reason === r.reason)) continue;
        this.log.error({ rule_id: r.id, reason: r.reason }, 'rule refused; the other rules are in use');
      }
      if (why !== 'interval')
        this.log.info(
          {
            why,
            rules: snap.matcher.size,
            rejected: snap.rejected.length,
            dev_hosts: snap.devHosts.size,
            teams: snap.teams.size,
          },
          'rules loaded',
        );
      return true;
    } catch (err) {
      m.reloadFailures.inc();
      this.warnLimited(
        'reload',
        { why, err: (err as Error).message, keeping: this.snapshot ? 'the last good rules' : 'no rules yet' },
        'loading the rules failed',
      );
      return false;
    }
  }

  /** LISTEN for the rule-change trigger on a pooled connection held for it; re-established when lost. */
  private listen(): void {
    if (this.listening || this.closed) return;
    this.listening = (async () => {
      const client = await this.o.pool.connect();
      this.listener = client;
      client.on('notification', (n) => {
        if (n.channel === RULES_CHANGED_CHANNEL) this.requestReload();
      });
      client.on('error', () => {
        if (this.listener !== client) return; // already released
        this.listener = undefined;
        client.release(true);
      });
      await client.query(`LISTEN ${RULES_CHANGED_CHANNEL}`);
      // Changes made while no connection was listening are picked up by one reload: after a lost
      // connection, and at start, where the first rules were loaded before this LISTEN.
      this.requestReload();
    })()
      .catch((err: unknown) => {
        this.listener?.release(true);
        this.listener = undefined;
        this.warnLimited(
          'listen',
          { err: (err as Error).message },
          'listening for rule changes failed; retrying',
        );
      })
      .finally(() => {
        this.listening = undefined;
      });
  }

  private async housekeeping(): Promise<void> {
    if (!this.listener) this.listen();
    if (this.reloadRequested) await this.reload('notification');
    else if (this.now() >= this.reloadDue) await this.reload('interval');
    if (this.janitor && this.now() >= this.nextSweep) {
      this.nextSweep = this.now() + this.o.config.ALERTER_HEARTBEAT_INTERVAL * 1000;
      const found = await this.retryIfFailed('sweeping dead alerters', () => this.janitor!.sweep());
      for (const r of found ?? []) {
        this.o.metrics.recovered.inc(r.items);
        this.log.warn(
          { list: r.list, items: r.items },
          'returned the events of an alerter whose heartbeat stopped to the ingest queue',
        );
      }
    }
    if (this.now() >= this.nextMaintenance) {
      try {
        if (this.o.leader) {
          const dropped = await this.audit.maintain();
          if (dropped.length > 0)
            this.log.info({ dropped }, 'dropped audit-log partitions past AUDIT_RETENTION_MONTHS');
        } else await this.audit.refreshPartitions();
        this.nextMaintenance = this.now() + DAY_MS;
      } catch (err) {
        this.nextMaintenance = this.now() + 60_000;
        this.warnLimited(
          'maintenance',
          { err: (err as Error).message },
          'audit-log partition maintenance failed; retrying in a minute',
        );
      }
    }
  }

  /** 'shed' / 'defer' when the alert queue is above the shed threshold. */
  private async backpressure(): Promise<'ok' | 'shed' | 'defer'> {
    const depth = await this.o.redis.llen(this.o.keys.alertQueue);
    const shedAt = this.dynamic.get('alerter_queue_shed_threshold');
    if (depth > shedAt) {
      const mode = this.dynamic.get('alerter_shed_mode');
      this.warnLimited(
        'shed',
        { alert_queue: depth, threshold: shedAt, mode },
        mode === 'dlq'
          ? 'alert queue above the shed threshold: shedding the oldest events to the alerter DLQ'
          : 'alert queue above the shed threshold: deferring',
      );
      return mode === 'dlq' ? 'shed' : 'defer';
    }
    const warnAt = this.dynamic.get('alerter_queue_warn_threshold');
    if (depth > warnAt)
      this.warnLimited(
        'queue-warn',
        { alert_queue: depth, threshold: warnAt },
        'alert queue above the warning threshold',
      );
    return 'ok';
  }

  /**
   * dlq mode above the shed threshold: the batch just taken (the oldest events) goes to the alerter
   * DLQ as `shed`, for remediation to replay once the pressure is gone. Events that are poison keep
   * their own reason (they are not shed, and no replay would help them); events already replayed
   * out of a DLQ are processed, never shed a second time (replays are paced below the low-water
   * mark, so they are few).
   */
  private shed(d: Decided): void {
    const at = d.now.toISOString();
    const reason = `alert queue above alerter_queue_shed_threshold (${this.dynamic.get('alerter_queue_shed_threshold')})`;
    let n = 0;
    for (const en of d.entries) {
      const e = en.event;
      if (!e || (en.status !== 'handled' && en.status !== 'unhandled')) continue;
      const replays = e.data._replay_count;
      if (typeof replays === 'number' && replays >= 1) continue;
      en.op = 'L2';
      en.replacement = JSON.stringify({
        ...e.data,
        shedding_reason: reason,
        _dlq_reason: reason,
        _dlq_code: 'shed',
        _failed_at: at,
      });
      en.status = 'poison';
      en.row = undefined;
      n++;
    }
    if (n === 0) return;
    d.unhandled = d.unhandled.filter((en) => en.status === 'unhandled');
    this.o.metrics.shed.inc({ mode: 'dlq' }, n);
    this.o.metrics.dlqWrites.inc({ reason: 'shed' }, n);
  }

  /** Decides, audits and settles one batch. */
  async process(items: string[]): Promise<void> {
    await this.finish(this.decide(items));
  }

  /** Parses, matches and decides a batch (no I/O). */
  private decide(items: string[]): Decided {
    const started = performance.now();
    const snap = this.snapshot!;
    const mode = this.compat.forBatch();
    this.o.metrics.compatMode.set(mode === 'python2' ? 1 : 0);
    if (mode === 'python2') return this.decidePython(items, snap, started);
    const c = this.o.config;
    const now = new Date(this.now());
    // Formatted once for the batch (Date#toISOString formats with snprintf: not free per event).
    const nowIso = now.toISOString();
    const required = c.REQUIRED_MESSAGE_FIELDS;
    const rawMax = c.AUDIT_RAW_MESSAGE_MAX_BYTES;
    const entries: Entry[] = [];
    const unhandled: Entry[] = [];
    const needMonths = new Map<string, number>();
    let monthFrom = 0;
    let monthTo = 0;
    for (const raw of items) {
      const p = parseEvent(raw, required);
      if (!p.ok) {
        entries.push(this.deadLetter(raw, p.data, p.code, p.reason, now));
        continue;
      }
      const e = p.event;
      try {
        const rule = snap.matcher.match({
          message: e.message === '' ? undefined : e.message,
          trapOid: e.trapOid,
          severity: e.severity,
        });
        if (!rule) {
          const entry: Entry = { raw, op: '-', replacement: '', status: 'unhandled', event: e };
          entries.push(entry);
          unhandled.push(entry);
          continue;
        }
        const d = decide(rule, e.hostname, snap.devHosts);
        const t = eventInstant(e.timestamp);
        if (t && !(t.ms >= monthFrom && t.ms < monthTo)) {
          // A month not seen yet in this batch (most batches span one).
          const from = new Date(t.ms);
          from.setUTCDate(1);
          from.setUTCHours(0, 0, 0, 0);
          monthFrom = from.getTime();
          monthTo = new Date(monthFrom).setUTCMonth(from.getUTCMonth() + 1);
          needMonths.set(from.toISOString().slice(0, 7), t.ms);
        }
        entries.push({
          raw,
          op: d.forward ? 'L4' : '-',
          replacement: d.forward ? alertFor(e, d, nowIso) : '',
          status: 'handled',
          event: e,
          row: {
            eventTimestamp: t?.iso ?? nowIso,
            hostname: column(e.hostname, 255),
            ruleId: rule.id,
            handling: column(d.handling, 100),
            forwarded: d.forward,
            raw: boundedRaw(e, rawMax),
            substituted: t === undefined,
          },
        });
      } catch (err) {
        entries.push(this.poison(e, `processing failed: ${asError(err).message}`, now));
      }
    }
    return { items, entries, unhandled, needMonths, now, snap, started, mode };
  }

  /**
   * COMPAT_MODE=python2 (parity.ts): matching on the raw `trap_oid` and `syslog_severity`, Python's
   * handling test, Python-shaped alerts, and audit rows carrying the values as the event gave them,
   * so that PostgreSQL refuses what it refuses a Python alerter (the event is then retried and
   * dead-lettered, as Python does).
   */
  private decidePython(items: string[], snap: RuleSnapshot, started: number): Decided {
    const c = this.o.config;
    const now = new Date(this.now());
    const entries: Entry[] = [];
    const unhandled: Entry[] = [];
    const needMonths = new Map<string, number>();
    for (const raw of items) {
      const p = parseEvent(raw, c.REQUIRED_MESSAGE_FIELDS);
      if (!p.ok) {
        entries.push(this.deadLetter(raw, p.data, p.code, p.reason, now));
        continue;
      }
      const e = p.event;
      try {
        const rule = snap.parityMatcher.match({
          message: e.message === '' ? undefined : e.message,
          trapOid: pythonOid(e.data.trap_oid),
          severity: pythonSeverity(e.data.syslog_severity),
        });
        if (!rule) {
          const entry: Entry = { raw, op: '-', replacement: '', status: 'unhandled', event: e };
          entries.push(entry);
          unhandled.push(entry);
          continue;
        }
        const d = decidePython(rule, e.hostname, snap.devHosts);
        const ts = pythonTimestamp(e.timestamp);
        if (ts === undefined) {
          const what = Array.isArray(e.timestamp) ? 'an array' : typeof e.timestamp;
          entries.push(
            this.poison(
              e,
              `audit row refused: "timestamp" is ${what}, not text PostgreSQL reads as a timestamp with time zone`,
              now,
            ),
          );
          continue;
        }
        // Partitions are still created ahead for the months MUTT can read (they serve every node).
        const t = eventInstant(ts);
        if (t) {
          const month = new Date(t.ms).toISOString().slice(0, 7);
          if (!needMonths.has(month)) needMonths.set(month, t.ms);
        }
        entries.push({
          raw,
          op: d.forward ? 'L4' : '-',
          replacement: d.forward ? pythonAlertFor(e, d) : '',
          status: 'handled',
          event: e,
          row: {
            eventTimestamp: ts,
            hostname: e.hostname,
            ruleId: rule.id,
            handling: d.handling,
            forwarded: d.forward,
            // The item as queued: for an event a Python ingestor queued, the text its alerter writes
            // (NaN included; the column is text), never shortened.
            raw: e.raw.trim(),
            substituted: false,
          },
        });
      } catch (err) {
        entries.push(this.poison(e, `processing failed: ${asError(err).message}`, now));
      }
    }
    return { items, entries, unhandled, needMonths, now, snap, started, mode: 'python2' };
  }

  /**
   * Audits and settles a decided batch: true once it is settled, false when it must be taken again
   * (stopping, or the rules changed under it).
   */
  private async finish(b: Decided, before?: Promise<boolean>): Promise<boolean> {
    const { entries, unhandled, needMonths, now, snap, mode } = b;
    // Months without a partition: created when inside the kept range, else the receive time is used.
    const refused = new Set<string>();
    for (const [month, ms] of needMonths) {
      const ok = await this.retryIfFailed('creating an audit-log partition', () => this.audit.accepts(ms));
      if (ok === undefined) return false; // closing: the batch stays in hand and is returned
      if (!ok) refused.add(month);
    }
    const rows: AuditRow[] = [];
    for (const en of entries) {
      const r = en.row;
      if (!r) continue;
      // Parity mode keeps the event's own timestamp: PostgreSQL refuses a month without a partition,
      // as it does for a Python alerter, and the event is retried.
      if (mode === 'off' && !r.substituted && refused.has(r.eventTimestamp.slice(0, 7))) {
        r.eventTimestamp = now.toISOString();
        r.substituted = true;
      }
      if (r.substituted) this.o.metrics.substituted.inc();
      rows.push(r);
    }

    if (unhandled.length > 0 && !(await this.countUnhandled(unhandled, snap, now, mode))) return false;
    if (rows.length > 0 && !(await this.writeAudit(entries, now))) return false;
    // The batch taken before this one settles first: the whole-batch settle removes the oldest
    // batch in hand. If that one could not be settled (it stays in the processing list, to be taken
    // again), this one, audited meanwhile, is settled item by item and is not audited twice.
    if (before) await before;
    // Counted before the settle (which retries until it succeeds), so that anyone who sees the
    // processing list empty also sees the counters.
    const m = this.o.metrics;
    const counts = { handled: 0, unhandled: 0, poison: 0, error: 0 };
    for (const en of entries) counts[en.status]++;
    for (const [status, n] of Object.entries(counts)) if (n > 0) m.events.inc({ status }, n);
    const audited = entries.filter((en) => en.row).length;
    if (audited > 0) m.auditRows.inc(audited);
    if (!(await this.settle(entries))) return false;
    this.sample(entries);
    const seconds = (performance.now() - b.started) / 1000;
    for (let i = 0; i < b.items.length; i++) m.latency.observe(seconds);
    return true;
  }

  /**
   * Keeps a few events of the batch, handled and unhandled alike, in a bounded list for the rule
   * tester (a dry run against what really arrives). Best effort: never retried, never blocking.
   */
  private sample(entries: Entry[]): void {
    const seen = entries.filter((en) => en.event && en.raw.length <= RECENT_EVENTS.maxBytes);
    if (seen.length === 0) return;
    const step = Math.max(1, Math.floor(seen.length / RECENT_EVENTS.perBatch));
    const picked: string[] = [];
    for (let i = 0; i < seen.length && picked.length < RECENT_EVENTS.perBatch; i += step)
      picked.push(seen[i]!.raw);
    const key = this.o.keys.recentEvents;
    this.o.redis
      .multi()
      .lpush(key, ...picked)
      .ltrim(key, 0, RECENT_EVENTS.keep - 1)
      .exec()
      .catch(() => undefined);
  }

  /** Runs the unhandled counters; a meta-alert rides on the settle of the event that triggered it. */
  private async countUnhandled(
    list: Entry[],
    snap: RuleSnapshot,
    now: Date,
    compat: CompatMode,
  ): Promise<boolean> {
    const threshold = this.dynamic.get('unhandled_threshold');
    const expiry = this.dynamic.get('unhandled_expiry_seconds');
    // Python counts exact messages whatever UNHANDLED_SIGNATURE says.
    const mode = compat === 'python2' ? 'exact' : this.o.config.UNHANDLED_SIGNATURE;
    const sigs = list.map((en) => unhandledSignature(en.event!.message, mode));
    const { keys, redis } = this.o;
    // Parity mode counts as Python does: one counter per message, without the cap (the Python nodes
    // sharing the Redis create theirs anyway).
    const cap = compat === 'python2' ? 0 : this.o.config.UNHANDLED_MAX_SIGNATURES;
    const replies = await this.retryIfFailed('counting unhandled events', () =>
      Promise.all(
        list.map((en, i) => {
          const host = en.event!.hostname;
          return redis.muttUnhandled(
            keys.unhandled(host, sigs[i]!),
            keys.unhandledTriggered(host, sigs[i]!),
            keys.unhandledSignatures(host),
            keys.unhandled(host, OVERFLOW_SIG),
            keys.unhandledTriggered(host, OVERFLOW_SIG),
            threshold,
            expiry,
            cap,
            sigs[i]!,
          );
        }),
      ),
    );
    if (replies === undefined) return false;
    replies.forEach(([f, folded], i) => {
      const en = list[i]!;
      const e = en.event!;
      if (Number(folded) === 1) {
        sigs[i] = OVERFLOW_SIG;
        this.o.metrics.unhandledFolded.inc();
        this.warnLimited(
          'unhandled-folded',
          { hostname: e.hostname, cap, expiry_seconds: expiry },
          'a host sent more distinct unhandled messages than UNHANDLED_MAX_SIGNATURES: further kinds are counted together',
        );
      }
      if (Number(f) !== 1) return;
      en.op = 'L4';
      const team = snap.teams.get(e.hostname) ?? this.o.config.UNHANDLED_DEFAULT_TEAM;
      en.replacement =
        compat === 'python2'
          ? pythonMetaAlertFor(e, { team, threshold, expirySeconds: expiry })
          : metaAlertFor(e, {
              team,
              environment: snap.devHosts.has(e.hostname) ? 'dev' : 'prod',
              threshold,
              expirySeconds: expiry,
              sig: sigs[i]!,
              now,
            });
      this.o.metrics.metaAlerts.inc();
      this.log.warn(
        {
          hostname: e.hostname,
          signature: sigs[i],
          threshold,
          expiry_seconds: expiry,
          correlation_id: e.correlationId,
        },
        'unhandled messages reached the threshold: meta-alert raised',
      );
    });
    return true;
  }

  /**
   * Writes the batch's audit rows. A data error (class 22/23) is isolated row by row and only the
   * rows PostgreSQL refuses become poison; a rule deleted since the cache was loaded (foreign key)
   * reloads the rules and the batch is decided again. False when the batch must not be settled now.
   */
  private async writeAudit(entries: Entry[], now: Date): Promise<boolean> {
    const withRows = entries.filter((en) => en.row);
    const t0 = performance.now();
    try {
      const done = await this.retryIfFailed('writing the audit log', () =>
        this.audit.write(withRows.map((en) => en.row!)),
      );
      if (done === undefined) return false;
      this.o.metrics.dbWriteMs.observe(performance.now() - t0);
      return true;
    } catch (err) {
      const code = pgCode(err);
      if (code === '23503') {
        await this.reload('a matched rule was deleted');
        return false; // the next take returns the same batch, decided with the new rules
      }
      if (!code.startsWith('22') && !code.startsWith('23')) throw err;
      this.warnLimited(
        'audit-isolate',
        { err: (err as Error).message, code },
        'the audit batch was refused; writing its rows one by one',
      );
    }
    for (const en of withRows) {
      try {
        const done = await this.retryIfFailed('writing the audit log', () => this.audit.write([en.row!]));
        if (done === undefined) return false;
      } catch (err) {
        if (isTransient(err)) throw err;
        const p = this.poison(en.event!, `audit row refused by PostgreSQL: ${(err as Error).message}`, now);
        Object.assign(en, { op: p.op, replacement: p.replacement, status: p.status, row: undefined });
      }
    }
    return true;
  }

  /** A failed event: back to the ingest queue with _retry_count + 1, or the DLQ past ALERTER_MAX_RETRIES. */
  private poison(e: AlerterEvent, reason: string, now: Date): Entry {
    const max = this.o.config.ALERTER_MAX_RETRIES;
    if (e.retryCount + 1 > max)
      return this.deadLetter(
        e.raw,
        e.data,
        'retries_exhausted',
        `gave up after ${e.retryCount + 1} attempts (ALERTER_MAX_RETRIES=${max}); last: ${reason}`,
        now,
      );
    this.warnLimited(
      'poison-retry',
      { reason, retry: e.retryCount + 1, correlation_id: e.correlationId },
      'event failed; re-queued',
    );
    return {
      raw: e.raw,
      op: 'L3',
      replacement: JSON.stringify({
        ...e.data,
        _retry_count: e.retryCount + 1,
        _last_error: reason.slice(0, 500),
      }),
      status: 'error',
    };
  }

  private deadLetter(
    raw: string,
    data: Record<string, unknown> | undefined,
    code: PoisonCode,
    reason: string,
    now: Date,
  ): Entry {
    this.o.metrics.dlqWrites.inc({ reason: code });
    this.warnLimited(
      `dlq:${code}`,
      { reason: code, detail: reason.slice(0, 300), correlation_id: data?._correlation_id },
      'event dead-lettered',
    );
    const base = data ? { ...data } : { _raw: raw };
    return {
      raw,
      op: 'L2',
      replacement: JSON.stringify({
        ...base,
        _dlq_reason: reason,
        _dlq_code: code,
        _failed_at: now.toISOString(),
      }),
      status: 'poison',
    };
  }

  /**
   * Empties the processing list and pushes each item's outcome. The list holds exactly this batch
   * (take-2 returns the whole list and a batch is settled before the next take), so one settle-4.lua
   * call does it without sending the items back. When that guard fails (a janitor returned the batch
   * during a heartbeat gap), each item is removed with its push, atomically per item (move-4.lua),
   * and items already gone push nothing.
   */
  private async settle(entries: Entry[]): Promise<boolean> {
    if (entries.length === 0) return true;
    const { redis, keys, pod } = this.o;
    const pairs: string[] = [];
    for (const en of entries) if (en.op !== '-') pairs.push(en.op, en.replacement);
    const whole = await this.retryIfFailed(
      'settling events',
      () =>
        redis.muttSettle(
          keys.alerterProcessing(pod),
          keys.alerterDlq,
          keys.ingestQueue,
          keys.alertQueue,
          entries.length,
          entries[0]!.raw,
          entries[entries.length - 1]!.raw,
          ...pairs,
        ),
      FINISH,
    );
    if (whole === 1) return true;
    this.resync = true;
    let missing = 0;
    for (let i = 0; i < entries.length; i += SETTLE_CHUNK) {
      const ops: string[] = [];
      for (const en of entries.slice(i, i + SETTLE_CHUNK)) ops.push(en.op, en.raw, en.replacement);
      const r = await this.retryIfFailed(
        'settling events',
        () =>
          redis.muttMove(
            keys.alerterProcessing(pod),
            keys.alerterDlq,
            keys.ingestQueue,
            keys.alertQueue,
            -1,
            ...ops,
          ),
        FINISH,
      );
      if (r) missing += r[1];
    }
    if (missing > 0)
      // A janitor returned them to the queue during a long heartbeat gap: they will be processed again.
      this.warnLimited('missing', { missing }, 'events were no longer in the processing list when settled');
    return true;
  }
}
