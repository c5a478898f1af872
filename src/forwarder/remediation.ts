// Remediation (PROTOCOL.md, "Remediation"), one worker per node, two duties:
//
// 1. Every REMEDIATION_INTERVAL it probes Moogsoft and, when Moogsoft is healthy and the shared breaker
//    is not open, moves up to REMEDIATION_BATCH_SIZE of the oldest alerts from `mutt:dlq:moog` back to
//    `mutt:alert_queue` (retry count reset, replay count + 1). Items replayed MAX_POISON_RETRIES times,
//    and items no replay can deliver (not JSON, not an alert), go to `mutt:dlq:dead` instead.
//
// 2. Every second, it heals what the alerter shed under backpressure (ALERTER_SHED_MODE=dlq): once the
//    alert and ingest queues together hold less than the low-water mark (half the shed threshold) and
//    the shared breaker is closed (while it is not, forwarders hold alerts in their retry lists), it
//    replays shed events from `mutt:dlq:alerter` into the ingest queue, oldest first, never more than
//    the room left below the mark, so the replay cannot push the alert queue over the threshold (and
//    the alerter never sheds a replayed event again). One node at a time does it (a lock that expires
//    before the next tick). Other alerter DLQ items — poison: not JSON, missing fields, retries spent —
//    stay for an operator (`mutt dlq replay --queue alerter`), with their reason.
import { parseEvent } from '../core/alerter/event.ts';
import { DynamicConfig, type DynamicStatic } from '../core/config/dynamic.ts';
import type { Keys } from '../core/protocol/keys.ts';
import type { ScriptedRedis } from '../core/protocol/scripts.ts';
import type { Config } from '../runtime/config/load.ts';
import { type Logger, LogLimiter } from '../runtime/logging.ts';
import { Loop } from '../runtime/workers/loop.ts';
import type { CircuitBreaker } from './breaker.ts';
import { type DlqEntry, isShed, lowWaterMark, replayDlq, replayHeadroom } from '../core/queue/dlq.ts';
import type { RemediationMetrics } from './metrics.ts';
import type { Sink } from './sinks/types.ts';

export type RemediationConfig = Pick<
  Config,
  'REMEDIATION_INTERVAL' | 'REMEDIATION_BATCH_SIZE' | 'MAX_POISON_RETRIES' | 'REQUIRED_MESSAGE_FIELDS'
> &
  DynamicStatic;

export interface RemediationOptions {
  config: RemediationConfig;
  log: Logger;
  redis: ScriptedRedis;
  keys: Keys;
  sink: Sink;
  /** The shared breaker, read only (undefined for a local sink). */
  breaker?: CircuitBreaker;
  metrics: RemediationMetrics;
  /** This worker's identity (holder of the shed-replay lock). */
  pod?: string;
  now?: () => Date;
}

export type PassResult = 'replayed' | 'empty' | 'unhealthy' | 'breaker_open';

/** How often shed events are looked at (and at most how much time one healing step covers). */
const HEAL_TICK_MS = 1000;
/** After a look found no shed event, the alerter DLQ is read again only when it grows, or after this. */
const HEAL_RESCAN_MS = 60_000;

export class Remediation extends Loop {
  private readonly o: RemediationOptions;
  private readonly logs = new LogLimiter(60_000);
  private readonly healLogs = new LogLimiter(10_000);
  private readonly dynamic: DynamicConfig;
  /** Shed events replayed since the last log line. */
  private healedSinceLog = 0;
  /** Alerter DLQ length when a look last found no shed event, and until when that holds. */
  private noShedAt?: { length: number; until: number };

  constructor(o: RemediationOptions) {
    super(o.log);
    this.o = o;
    this.dynamic = new DynamicConfig({ redis: o.redis, keys: o.keys, config: o.config });
  }

  protected async main(): Promise<void> {
    this.log.info(
      {
        interval_seconds: this.o.config.REMEDIATION_INTERVAL,
        batch_size: this.o.config.REMEDIATION_BATCH_SIZE,
        sink: this.o.sink.name,
      },
      'remediation started',
    );
    let nextPass = 0;
    while (!this.closed) {
      if (Date.now() >= nextPass) {
        nextPass = Date.now() + this.o.config.REMEDIATION_INTERVAL * 1000;
        try {
          const r = await this.retryIfFailed('remediation pass', () => this.pass());
          if (r) this.o.metrics.runs.inc({ result: r });
        } catch (err) {
          // A pass that fails for an unexpected reason is logged and tried again at the next interval.
          this.o.metrics.runs.inc({ result: 'error' });
          this.log.error({ err }, 'remediation pass failed');
        }
      }
      try {
        await this.retryIfFailed('replaying shed events', () => this.heal());
      } catch (err) {
        this.log.error({ err }, 'replaying shed events failed');
      }
      await this.sleep(Math.max(0, Math.min(HEAL_TICK_MS, nextPass - Date.now())));
    }
  }

  protected override cleanupSteps(): [string, () => Promise<unknown>][] {
    return [['closing the sink', () => this.o.sink.close()]];
  }

  /** One pass: health probe, then a batch replay when healthy. */
  async pass(): Promise<PassResult> {
    const { redis, keys, sink, metrics, config: c } = this.o;
    if (this.o.breaker) {
      const b = await this.o.breaker.peek();
      if (b.state === 'OPEN') {
        metrics.health.set(0);
        return 'breaker_open';
      }
    }
    const probe = await sink.probe();
    metrics.healthChecks.inc({ result: probe.healthy ? 'healthy' : probe.reason });
    metrics.health.set(probe.healthy ? 1 : 0);
    const depth = await redis.llen(keys.moogDlq);
    if (!probe.healthy) {
      const suppressed = this.logs.take(`unhealthy:${probe.reason}`);
      if (suppressed >= 0)
        this.log.warn(
          { sink: sink.name, reason: probe.reason, status: probe.status, dlq_depth: depth, suppressed },
          'Moogsoft health probe failed; the DLQ is not replayed',
        );
      return 'unhealthy';
    }
    if (depth === 0) return 'empty';
    const r = await replayDlq(redis, keys, 'moog', {
      limit: c.REMEDIATION_BATCH_SIZE,
      maxPoison: c.MAX_POISON_RETRIES,
      now: this.o.now,
    });
    metrics.replayed.inc(r.replayed);
    metrics.poison.inc(r.dead);
    this.log.info(
      { replayed: r.replayed, dead: r.dead, remaining: Math.max(0, depth - r.matched) },
      'replayed alerts from the Moogsoft DLQ',
    );
    return 'replayed';
  }

  /** A shed event that the alerter can take again (poison stays for an operator). */
  private readonly replayable = (e: DlqEntry): boolean =>
    isShed(e) && parseEvent(e.raw, this.o.config.REQUIRED_MESSAGE_FIELDS).ok;

  /**
   * One healing step: replays shed events into the ingest queue, at most the room below the
   * low-water mark. Returns how many it replayed.
   */
  async heal(): Promise<number> {
    const { redis, keys, metrics } = this.o;
    const length = await redis.llen(keys.alerterDlq);
    const quiet = this.noShedAt;
    if (length === 0 || (quiet && length <= quiet.length && Date.now() < quiet.until)) return 0;
    await this.dynamic.refresh();
    const threshold = this.dynamic.get('alerter_queue_shed_threshold');
    const lowWater = lowWaterMark(threshold);
    const room = await replayHeadroom(redis, keys, lowWater);
    if (room.headroom === 0) {
      const suppressed = this.logs.take('heal-waiting');
      if (suppressed >= 0)
        this.log.info(
          {
            alert_queue: room.alertQueue,
            ingest_queue: room.ingestQueue,
            low_water: lowWater,
            alerter_dlq: length,
          },
          'shed events wait in the alerter DLQ until the alert and ingest queues are below the low-water mark',
        );
      return 0;
    }
    // While Moogsoft's breaker is not closed, alerts cannot leave: the forwarders hold what they
    // took in their retry lists, so a short alert queue does not mean room. Replaying then would
    // only move events from one holding place to another.
    if (this.o.breaker) {
      const b = await this.o.breaker.peek();
      if (b.state !== 'CLOSED') {
        const suppressed = this.logs.take('heal-breaker');
        if (suppressed >= 0)
          this.log.info(
            { breaker: b.state, alerter_dlq: length },
            "shed events wait in the alerter DLQ while Moogsoft's circuit breaker is not closed",
          );
        return 0;
      }
    }
    // One node at a time, so two nodes cannot both fill the same room.
    const locked = await redis.set(
      keys.shedReplayLock,
      this.o.pod ?? 'remediation',
      'PX',
      HEAL_TICK_MS - 100,
      'NX',
    );
    if (locked !== 'OK') return 0;
    const r = await replayDlq(redis, keys, 'alerter', {
      select: this.replayable,
      limit: room.headroom,
      maxPoison: this.o.config.MAX_POISON_RETRIES,
      now: this.o.now,
    });
    if (r.matched === 0) {
      this.noShedAt = { length, until: Date.now() + HEAL_RESCAN_MS };
      if (this.healedSinceLog > 0) this.logHealed(length, lowWater, true);
      return 0;
    }
    this.noShedAt = undefined;
    metrics.shedReplayed.inc(r.replayed);
    metrics.poison.inc(r.dead);
    this.healedSinceLog += r.replayed;
    const done = r.matched < room.headroom;
    if (done) this.logHealed(length - r.matched, lowWater, true);
    else if (this.healLogs.take('healed') >= 0) this.logHealed(length - r.matched, lowWater, false);
    return r.replayed;
  }

  private logHealed(remaining: number, lowWater: number, done: boolean): void {
    this.log.info(
      { replayed: this.healedSinceLog, alerter_dlq: remaining, low_water: lowWater },
      done
        ? 'replayed the shed events from the alerter DLQ to the ingest queue'
        : 'replaying shed events from the alerter DLQ to the ingest queue, below the low-water mark',
    );
    this.healedSinceLog = 0;
  }
}
