// Worker-thread bootstrap (bundled as dist/worker.js).
//
//   main thread ── WorkerInit (workerData) ──► entry ── ROLE_RUNNERS[role](ctx) ──► the role's loops
//               ◄── ready / metrics snapshots ──       ◄── stop / reload / metrics requests ──
//
// Each worker opens its own Redis connections and PostgreSQL pool, logs JSON to standard output like
// the main thread, and keeps its own Prometheus registry that the main thread merges for /metrics.
import { parentPort, workerData } from 'node:worker_threads';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { Keys } from '../core/protocol/keys.ts';
import { withScripts } from '../core/protocol/scripts.ts';
import type { WorkerContext } from '../core/worker.ts';
import { deepFreeze } from '../runtime/config/load.ts';
import { createLogger } from '../runtime/logging.ts';
import { createRegistry } from '../runtime/metrics.ts';
import { createPool } from '../runtime/postgres.ts';
import { createRedis } from '../runtime/redis.ts';
import type { FromWorker, ToWorker, WorkerInit } from '../runtime/workers/protocol.ts';
import { ROLE_RUNNERS } from './roles.ts';

const port = parentPort;
if (!port) throw new Error('the worker entry runs only in a worker thread');
const init = workerData as WorkerInit;
const config = deepFreeze(init.config);
const log = createLogger({
  level: config.LOG_LEVEL,
  pod: init.pod,
  format: config.LOG_FORMAT,
  destination: pino.destination({ dest: 1, sync: true }),
}).child({ component: init.role, worker: init.index });
const send = (m: FromWorker) => port.postMessage(m);

const redisClients: Redis[] = [];
const pools: pg.Pool[] = [];
const newRedis = (name: string) => {
  const r = createRedis(config, init.redis, { name: `${init.role}-${init.index}-${name}`, log });
  redisClients.push(r);
  return r;
};
let pool: pg.Pool | undefined;
const ctx: WorkerContext = {
  init,
  config,
  log,
  registry: createRegistry(false),
  keys: new Keys(config),
  redis: withScripts(newRedis('cmd')),
  newRedis,
  pool() {
    if (!init.postgres)
      throw new Error(`the ${init.role} worker needs PostgreSQL, which this node does not use`);
    pool ??= createPool(config, init.postgres, {
      name: `${init.role}-${init.index}`,
      log,
      max: Math.max(2, Math.min(4, config.DB_POOL_MAX_CONN)),
      min: Math.min(config.DB_POOL_MIN_CONN, 2),
    });
    if (!pools.includes(pool)) pools.push(pool);
    return pool;
  },
};

const runner = ROLE_RUNNERS[init.role];
if (!runner) throw new Error(`no runner for worker role "${init.role}"`);
const handle = await runner(ctx);
send({ type: 'ready' });

let stopping = false;
port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'metrics':
      void ctx.registry
        .getMetricsAsJSON()
        .then((snapshot) => send({ type: 'metrics', id: msg.id, snapshot }));
      break;
    case 'reload':
      void Promise.resolve(handle.reload?.()).catch((err: unknown) => log.error({ err }, 'reload failed'));
      break;
    case 'stop':
      if (stopping) return;
      stopping = true;
      void (async () => {
        try {
          await handle.close();
        } catch (err) {
          log.error({ err }, 'stopping the worker failed');
        }
        for (const r of redisClients) {
          try {
            await r.quit();
          } catch {
            r.disconnect();
          }
        }
        for (const p of pools) await p.end().catch(() => {});
        send({ type: 'stopped' });
        port.close();
      })();
      break;
  }
});
