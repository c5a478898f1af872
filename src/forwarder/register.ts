// The `forwarder` and `remediation` worker roles (mapped in src/app/roles.ts): each
// worker thread builds its sink from the configuration and runs one loop until the supervisor stops it.
import { LogLimiter } from '../runtime/logging.ts';
import type { RoleRunner, WorkerContext } from '../core/worker.ts';
import { CircuitBreaker } from './breaker.ts';
import { dlqKey } from './dlq.ts';
import { Forwarder } from './forwarder.ts';
import { createForwarderMetrics, createRemediationMetrics } from './metrics.ts';
import { Remediation } from './remediation.ts';
import { createSink } from './sinks/index.ts';

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
    keys: ctx.keys,
    pod: ctx.init.pod,
    sink,
    metrics,
    janitor: ctx.init.index === 0,
  });
  ref.forwarder = forwarder;
  supervise(ctx, forwarder.run());
  return { close: () => forwarder.close() };
};

export const runRemediation: RoleRunner = async (ctx) => {
  const { config, keys } = ctx;
  const sink = createSink(config);
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
