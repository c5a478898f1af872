// The `alerter` worker role (mapped in src/app/roles.ts): each worker thread runs one
// Alerter loop with its own Redis connections (commands, the blocking take, the configuration
// subscription) and a small PostgreSQL pool. Worker 0 also runs the janitor and the daily partition
// task. SIGHUP reloads the rules.
import { Alerter } from './alerter.ts';
import type { RoleRunner } from '../worker.ts';
import { createAlerterMetrics } from './metrics.ts';

export const runAlerter: RoleRunner = async (ctx) => {
  const { config, keys } = ctx;
  const ref: { alerter?: Alerter } = {};
  const metrics = createAlerterMetrics(ctx.registry, {
    alertQueueDepth: () => ctx.redis.llen(keys.alertQueue),
    dlqDepth: () => ctx.redis.llen(keys.alerterDlq),
    processingDepth: async () => ref.alerter?.processingDepth(),
  });
  const alerter = new Alerter({
    config,
    log: ctx.log,
    redis: ctx.redis,
    blocking: ctx.newRedis('blocking'),
    subscriber: ctx.newRedis('config-updates'),
    pool: ctx.pool(),
    keys,
    pod: ctx.init.pod,
    metrics,
    leader: ctx.init.index === 0,
  });
  ref.alerter = alerter;
  alerter.run().catch((err: unknown) => {
    ctx.log.error({ err }, 'alerter loop failed; the worker restarts');
    setImmediate(() => {
      throw err;
    });
  });
  return {
    close: () => alerter.close(),
    reload: () => {
      ctx.log.info('SIGHUP: reloading the rules');
      alerter.requestReload();
    },
  };
};
