// Worker-thread bootstrap (bundled as dist/worker.js).
//
//   main thread ── WorkerInit (workerData) ──► entry ── ROLE_RUNNERS[role](ctx) ──► the role's loops
//               ◄── ready / metrics snapshots ──       ◄── stop / reload / metrics requests ──
//                                                      ◄── secrets (every value, after a change) ──
//
// Secrets: the main thread alone talks to Vault and reads the secret files; it posts every change to
// each thread, whose SecretStore applies it. Redis connections and PostgreSQL pools take the new
// passwords at their next connection, the roles subscribe for the rest (the Moogsoft key).
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
import { SECRET_NAMES } from '../runtime/config/schema.ts';
import { createLogger } from '../runtime/logging.ts';
import { createRegistry } from '../runtime/metrics.ts';
import { createPool, dbPasswords } from '../runtime/postgres.ts';
import { createRedis, redisPasswords } from '../runtime/redis.ts';
import { SecretStore } from '../runtime/secrets/store.ts';
import type { FromWorker, ToWorker, WorkerInit } from '../runtime/workers/protocol.ts';
import { ROLE_RUNNERS } from './roles.ts';

const port = parentPort;
if (!port) throw new Error('the worker entry runs only in a worker thread');
const init = workerData as WorkerInit;
// The secrets in force now (a thread restarted after a rotation gets the new values).
const config = deepFreeze({
  ...init.config,
  ...Object.fromEntries(SECRET_NAMES.map((n) => [n, init.secrets[n]])),
}) as WorkerInit['config'];
const log = createLogger({
  level: config.LOG_LEVEL,
  pod: init.pod,
  format: config.LOG_FORMAT,
  destination: pino.destination({ dest: 1, sync: true }),
}).child({ component: init.role, worker: init.index });
const send = (m: FromWorker) => port.postMessage(m);

const registry = createRegistry(false);
const secrets = new SecretStore(init.secrets);
const redisPass = redisPasswords(config, log, secrets, registry);
const dbPass = dbPasswords(config, log, secrets, registry);
const redisClients: Redis[] = [];
const pools: pg.Pool[] = [];
const newRedis = (name: string) => {
  const r = createRedis(config, init.redis, {
    name: `${init.role}-${init.index}-${name}`,
    log,
    passwords: redisPass,
  });
  redisClients.push(r);
  return r;
};
let pool: pg.Pool | undefined;
const ctx: WorkerContext = {
  init,
  config,
  log,
  registry,
  secrets,
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
      passwords: dbPass,
      registry: ctx.registry,
    });
    if (!pools.includes(pool)) pools.push(pool);
    return pool;
  },
};

// Secrets may change while the role starts: apply them at once, before the role is ready.
port.on('message', (msg: ToWorker) => {
  if (msg.type === 'secrets') secrets.replace(msg.values);
});

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
