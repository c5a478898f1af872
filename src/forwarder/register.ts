// The `forwarder` and `remediation` worker roles (mapped in src/app/roles.ts): each
// worker thread builds its sink from the configuration and runs one loop until the supervisor stops it.
import { LogLimiter } from '../runtime/logging.ts';
import { MoogJournal } from '../core/journal.ts';
import { SloRecorder } from '../core/slo.ts';
import type { RoleRunner, WorkerContext } from '../core/worker.ts';
import { CircuitBreaker } from './breaker.ts';
import { dlqKey } from '../core/queue/dlq.ts';
import { Forwarder } from './forwarder.ts';
import { createForwarderMetrics, createRemediationMetrics } from './metrics.ts';
import { Remediation } from './remediation.ts';
import { createSink } from './sinks/index.ts';
import type { Sink } from './sinks/types.ts';

/** A MOOG_API_KEY rotated in Vault (or re-read on SIGHUP) reaches the sink without a restart. */
function followCredential(ctx: WorkerContext, sink: Sink): void {
  if (!sink.setCredential) return;
  ctx.secrets.onChange((changed) => {
    if (!changed.includes('MOOG_API_KEY')) return;
    sink.setCredential!(ctx.secrets.get('MOOG_API_KEY'));
    ctx.log.info('MOOG_API_KEY changed: the next Moogsoft requests use the new key');
  });
}

/** A loop that fails for a reason it cannot wait out ends the thread; the supervisor restarts it. */
function supervise(ctx: WorkerContext, run: Promise<void>): void {
  run.catch((err: unknown) => {
    ctx.log.error({ err }, `${ctx.init.role} loop failed; the worker restarts`);
    setImmediate(() => {
      throw err;
    });
  });
}

export const runForwarder: RoleRunner = async (ctx) => {
  const { config, log } = ctx;
  const written = new LogLimiter(10_000);
  const sink = createSink(config, {
    onFileWritten(count, first) {
      const suppressed = written.take('file');
      if (suppressed >= 0)
        log.info(
          {
            alerts: count,
            file: sink.target,
            hostname: first.hostname,
            description: first.message.slice(0, 200),
            batches_not_logged: suppressed,
          },
          'alerts written to the local file sink (MOOG_WEBHOOK_URL is not set)',
        );
    },
  });
  followCredential(ctx, sink);
  // The gauges read the forwarder built just below (they are collected only on a scrape).
  const ref: { forwarder?: Forwarder } = {};
  const metrics = createForwarderMetrics(ctx.registry, {
    dlqDepth: () => ctx.redis.llen(ctx.keys.moogDlq),
    processingDepth: async () => ref.forwarder?.processingDepth(),
    retryDepth: async () => ref.forwarder?.retryDepth(),
    breakerState: async () => ref.forwarder?.breakerValue(),
  });
  const forwarder = new Forwarder({
    config,
    log,
    redis: ctx.redis,
    blocking: ctx.newRedis('blocking'),
    subscriber: ctx.newRedis('config-updates'),
    keys: ctx.keys,
    pod: ctx.init.pod,
    sink,
    metrics,
    janitor: ctx.init.index === 0,
    journal: new MoogJournal({
      redis: ctx.redis,
      key: ctx.keys.moogJournal,
      pod: ctx.init.pod,
      maxEntries: config.MOOG_JOURNAL_SIZE,
      log,
    }),
  });
  ref.forwarder = forwarder;
  // The fleet's SLO report counts this thread's Moogsoft requests from Redis (src/core/slo.ts).
  const slo = new SloRecorder({
    redis: ctx.redis,
    keys: ctx.keys,
    component: 'forwarder',
    counter: metrics.requests,
    log,
  });
  slo.start();
  supervise(ctx, forwarder.run());
  return {
    close: async () => {
      await forwarder.close();
      await slo.stop();
    },
  };
};

export const runRemediation: RoleRunner = async (ctx) => {
  const { config, keys } = ctx;
  const sink = createSink(config);
  followCredential(ctx, sink);
  const breaker = sink.guarded
    ? new CircuitBreaker({
        redis: ctx.redis,
        keys,
        threshold: config.CIRCUIT_BREAKER_THRESHOLD,
        initialTimeoutMs: config.CIRCUIT_BREAKER_INITIAL_TIMEOUT * 1000,
        maxTimeoutMs: config.CIRCUIT_BREAKER_TIMEOUT * 1000,
        probeLeaseMs: 1,
        holder: ctx.init.pod,
      })
    : undefined;
  const metrics = createRemediationMetrics(ctx.registry, (q) => ctx.redis.llen(dlqKey(keys, q)));
  const remediation = new Remediation({
    config,
    log: ctx.log,
    redis: ctx.redis,
    keys,
    sink,
    breaker,
    metrics,
    pod: ctx.init.pod,
  });
  supervise(ctx, remediation.run());
  return { close: () => remediation.close() };
};
