// Remediation (PROTOCOL.md, "Remediation"): every REMEDIATION_INTERVAL it probes Moogsoft and, when
// Moogsoft is healthy and the shared breaker is not open, moves up to REMEDIATION_BATCH_SIZE of the
// oldest alerts from `mutt:dlq:moog` back to `mutt:alert_queue` (retry count reset, replay count + 1).
// Items replayed MAX_POISON_RETRIES times, and items no replay can deliver (not JSON, not an alert),
// go to `mutt:dlq:dead` instead. The alerter DLQ is replayed only on an operator's request
// (`mutt dlq replay --queue alerter`).
import type { Keys } from '../core/protocol/keys.ts';
import type { ScriptedRedis } from '../core/protocol/scripts.ts';
import type { Config } from '../runtime/config/load.ts';
import { type Logger, LogLimiter } from '../runtime/logging.ts';
import { Loop } from '../runtime/workers/loop.ts';
import type { CircuitBreaker } from './breaker.ts';
import { replayDlq } from '../core/queue/dlq.ts';
import type { RemediationMetrics } from './metrics.ts';
import type { Sink } from './sinks/types.ts';

export type RemediationConfig = Pick<
  Config,
  'REMEDIATION_INTERVAL' | 'REMEDIATION_BATCH_SIZE' | 'MAX_POISON_RETRIES'
>;

export interface RemediationOptions {
  config: RemediationConfig;
  log: Logger;
  redis: ScriptedRedis;
  keys: Keys;
  sink: Sink;
  /** The shared breaker, read only (undefined for a local sink). */
  breaker?: CircuitBreaker;
  metrics: RemediationMetrics;
  now?: () => Date;
}

export type PassResult = 'replayed' | 'empty' | 'unhealthy' | 'breaker_open';

export class Remediation extends Loop {
  private readonly o: RemediationOptions;
  private readonly logs = new LogLimiter(60_000);

  constructor(o: RemediationOptions) {
    super(o.log);
    this.o = o;
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
    while (!this.closed) {
      try {
        const r = await this.retryIfFailed('remediation pass', () => this.pass());
        if (r) this.o.metrics.runs.inc({ result: r });
      } catch (err) {
        // A pass that fails for an unexpected reason is logged and tried again at the next interval.
        this.o.metrics.runs.inc({ result: 'error' });
        this.log.error({ err }, 'remediation pass failed');
      }
      await this.sleep(this.o.config.REMEDIATION_INTERVAL * 1000);
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
}
