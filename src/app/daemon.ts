// `mutt serve`: the one process.
//
//   embedded redis-server / postgres (only when no external server is configured)
//        │
//   Redis clients ── Enqueuer ◄── HTTP ingest (Hono, SERVER_PORT_INGESTOR)  /health /metrics
//                                 (without the listeners role: only /health and /metrics)
//   worker threads (alerter, forwarder, remediation) under the supervisor, metrics merged
//   PostgreSQL pool ── migrations + audit partitions (background, retried until PostgreSQL answers)
//
// Start-up never blocks on a dependency that is down: listeners bind at once and answer 503 until
// Redis is reachable, /health says what is missing, and the logs say what MUTT waits for. Stop is
// ordered and idempotent: stop accepting, let in-flight requests finish and their events reach Redis,
// close connections, then stop the embedded servers.
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { Keys } from '../core/protocol/keys.ts';
import { type ScriptedRedis, withScripts } from '../core/protocol/scripts.ts';
import { Enqueuer } from '../listeners/enqueue.ts';
import { LISTENERS } from '../listeners/index.ts';
import type { RunningListener } from '../listeners/types.ts';
import { createIngest } from '../listeners/webhook/index.ts';
import { createWebApp } from '../web/app.ts';
import { mountUi } from '../web/ui/index.tsx';
import { type Config, hasRole, needsPostgres } from '../runtime/config/load.ts';
import { GeneratedSecrets, resolveSecrets } from '../runtime/config/secrets.ts';
import { prepareDataDir } from '../runtime/datadir.ts';
import type { HealthReport } from '../runtime/health.ts';
import { listenTcp } from '../runtime/listen.ts';
import type { Logger } from '../runtime/logging.ts';
import { createRegistry, renderMetrics } from '../runtime/metrics.ts';
import { ensurePartitions, migrate } from '../runtime/migrate.ts';
import {
  createPool,
  describePg,
  type PgEndpoint,
  pgEndpointFromConfig,
  pingPostgres,
  waitForPostgres,
} from '../runtime/postgres.ts';
import { createRedis, describeEndpoint, endpointFromConfig, type RedisEndpoint } from '../runtime/redis.ts';
import { requireBinaries } from '../runtime/services/binaries.ts';
import { type PostgresServerHandle, startPostgres } from '../runtime/services/postgres-server.ts';
import { type RedisServerHandle, startRedisServer } from '../runtime/services/redis-server.ts';
import { abortableSleep } from '../runtime/sleep.ts';
import { VERSION } from '../runtime/version.ts';
import { WORKER_ROLES, type WorkerRole } from '../runtime/workers/protocol.ts';
import { WorkerSupervisor } from '../runtime/workers/supervisor.ts';
import { createOpsApp } from './ops-app.ts';
import { ROLE_RUNNERS } from './roles.ts';

export { VERSION };

export interface DaemonInfo {
  ingestPort?: number;
  webuiPort?: number;
  redis: string;
  postgres?: string;
  [listener: string]: unknown;
}

export class Daemon {
  private config: Config;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private redisServer?: RedisServerHandle;
  private pgServer?: PostgresServerHandle;
  private redis?: ScriptedRedis;
  private pool?: pg.Pool;
  private dbState: { ok: boolean; error?: string } = { ok: false, error: 'not connected yet' };
  private registry?: Registry;
  private enqueuer?: Enqueuer;
  private httpServer?: Server;
  private webServer?: Server;
  private timers: NodeJS.Timeout[] = [];
  private readonly listeners: RunningListener[] = [];
  private supervisor?: WorkerSupervisor;
  private stopping?: Promise<void>;
  private readonly startedAt = Date.now();
  keys?: Keys;
  info?: DaemonInfo;

  constructor(config: Config, log: Logger) {
    this.config = config;
    this.log = log;
  }

  async start(): Promise<DaemonInfo> {
    const log = this.log;
    prepareDataDir(this.config.dataDir, {
      embeddedPostgres: this.config.embeddedPostgres && needsPostgres(this.config),
    });
    this.config = await resolveSecrets(this.config, [new GeneratedSecrets(this.config.dataDir, log)]);
    const c = this.config;
    const usePg = needsPostgres(c);

    // Embedded servers first: everything else connects to them.
    const bins = requireBinaries({ redis: c.embeddedRedis, postgres: usePg && c.embeddedPostgres });
    if (bins.redisServer) {
      this.redisServer = await startRedisServer({
        binary: bins.redisServer,
        dir: join(c.dataDir, 'redis'),
        log: log.child({ component: 'redis-server' }),
      });
    }
    if (bins.pgBinDir) {
      this.pgServer = await startPostgres({
        binDir: bins.pgBinDir,
        dir: join(c.dataDir, 'postgres'),
        superuser: c.DB_USER,
        database: c.DB_NAME,
        log: log.child({ component: 'postgres' }),
      });
    }

    const redisEndpoint: RedisEndpoint = endpointFromConfig(c, this.redisServer?.socketPath);
    this.keys = new Keys(c);
    this.redis = withScripts(createRedis(c, redisEndpoint, { name: 'main', log, failFast: true }));
    this.registry = createRegistry(true);

    let pgEndpoint: PgEndpoint | undefined;
    if (usePg) {
      pgEndpoint = pgEndpointFromConfig(
        c,
        this.pgServer ? { host: this.pgServer.host, port: this.pgServer.port } : undefined,
      );
      this.pool = createPool(c, pgEndpoint, { name: 'main', log, max: Math.min(4, c.DB_POOL_MAX_CONN) });
      void this.prepareDatabase(describePg(pgEndpoint, c.DB_NAME));
    }

    const info: DaemonInfo = {
      redis: describeEndpoint(redisEndpoint),
      postgres: pgEndpoint ? describePg(pgEndpoint, c.DB_NAME) : undefined,
    };
    if (hasRole(c, 'listeners')) {
      this.enqueuer = new Enqueuer({ redis: this.redis, keys: this.keys, cap: c.MAX_INGEST_QUEUE_SIZE });
      if (c.SERVER_PORT_INGESTOR > 0) info.ingestPort = await this.startIngest();
      for (const factory of LISTENERS) {
        const l = await factory({
          config: c,
          enqueuer: this.enqueuer,
          registry: this.registry,
          log: log.child({ component: 'listener' }),
          keys: this.keys,
          redis: this.redis,
        });
        if (l) {
          this.listeners.push(l);
          Object.assign(info, l.info);
        }
      }
    } else if (c.SERVER_PORT_INGESTOR > 0) {
      info.ingestPort = await this.startOps();
    }
    await this.startWorkers(pgEndpoint, redisEndpoint);
    if (hasRole(c, 'webui') && c.SERVER_PORT_WEBUI > 0) info.webuiPort = await this.startWebui();
    this.info = info;
    log.info(
      { version: VERSION, roles: c.roles, pod: c.podName, ...info, data_dir: c.dataDir },
      'MUTT is running',
    );
    return info;
  }

  private async startIngest(): Promise<number> {
    const c = this.config;
    const { app } = createIngest({
      config: c,
      enqueuer: this.enqueuer,
      redis: this.redis!,
      keys: this.keys!,
      registry: this.registry!,
      log: this.log.child({ component: 'ingest' }),
      health: () => this.health(),
      metricsText: () => this.metricsText(),
    });
    return this.serveHttp(app.fetch);
  }

  /** A node without listeners still answers /health and /metrics on SERVER_PORT_INGESTOR. */
  private startOps(): Promise<number> {
    const app = createOpsApp({ health: () => this.health(), metricsText: () => this.metricsText() });
    return this.serveHttp(app.fetch);
  }

  /** The admin API (and UI) on SERVER_PORT_WEBUI; rule writes wait for this node's alerter workers. */
  private startWebui(): Promise<number> {
    const c = this.config;
    const app = createWebApp({
      ctx: {
        config: c,
        keys: this.keys!,
        redis: this.redis!,
        pool: this.pool,
        log: this.log.child({ component: 'admin' }),
        alerterPods: () => this.supervisor?.pods('alerter') ?? [],
        node: { roles: c.roles, startedAt: this.startedAt, pod: c.podName },
      },
      apiKey: c.WEBUI_API_KEY,
      previousApiKey: c.WEBUI_API_KEY_PREVIOUS,
      registry: this.registry!,
      log: this.log.child({ component: 'webui' }),
      health: () => this.health(),
      metricsText: () => this.metricsText(),
      mount: (web, ctx) =>
        mountUi(web, ctx, {
          apiKey: c.WEBUI_API_KEY,
          previousApiKey: c.WEBUI_API_KEY_PREVIOUS,
          log: this.log.child({ component: 'webui' }),
          health: () => this.health(),
          registry: this.registry!,
          // The SLO panel: pass the SLO report here when this node computes one.
          slo: undefined,
        }),
    });
    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    server.requestTimeout = 120_000;
    this.webServer = server;
    return listenTcp(server, {
      port: c.SERVER_PORT_WEBUI,
      host: c.MUTT_LISTEN_ADDRESS,
      variable: 'SERVER_PORT_WEBUI',
    });
  }

  private metricsText(): Promise<{ contentType: string; body: string }> {
    return renderMetrics(this.registry!, () => this.supervisor?.collect() ?? Promise.resolve([]));
  }

  private serveHttp(fetch: Parameters<typeof createAdaptorServer>[0]['fetch']): Promise<number> {
    const c = this.config;
    const server = createAdaptorServer({ fetch }) as Server;
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.requestTimeout = 30_000;
    this.httpServer = server;
    return listenTcp(server, {
      port: c.SERVER_PORT_INGESTOR,
      host: c.MUTT_LISTEN_ADDRESS,
      variable: 'SERVER_PORT_INGESTOR',
    });
  }

  /** Worker threads for the node's alerter, forwarder and remediation roles. */
  private async startWorkers(
    pgEndpoint: PgEndpoint | undefined,
    redisEndpoint: RedisEndpoint,
  ): Promise<void> {
    const c = this.config;
    const counts: Record<WorkerRole, number> = {
      alerter: c.ALERTER_WORKERS,
      forwarder: c.FORWARDER_WORKERS,
      remediation: 1,
    };
    const plan = WORKER_ROLES.filter((r) => hasRole(c, r) && ROLE_RUNNERS[r] && counts[r] > 0).map(
      (role) => ({
        role,
        count: counts[role],
      }),
    );
    if (plan.length === 0) return;
    this.supervisor = new WorkerSupervisor({
      log: this.log.child({ component: 'supervisor' }),
      workerUrl: new URL('./worker.js', import.meta.url),
      registry: this.registry!,
      makeInit: (role, index) => ({
        role,
        index,
        pod: `${c.podName}-${index}`,
        config: c,
        redis: redisEndpoint,
        postgres: pgEndpoint,
      }),
    });
    await this.supervisor.start(plan);
  }

  /** SIGHUP: reload what can be reloaded (rules in every alerter worker). */
  reload(): void {
    this.log.info('reloading');
    this.supervisor?.reload();
  }

  /** Waits for PostgreSQL, migrates, and keeps audit partitions created ahead. */
  private async prepareDatabase(what: string): Promise<void> {
    const pool = this.pool!;
    const log = this.log.child({ component: 'database' });
    for (let attempt = 1; !this.abort.signal.aborted; attempt++) {
      try {
        await waitForPostgres(pool, what, log, this.abort.signal);
        const r = await migrate(pool, log);
        this.dbState = { ok: true };
        log.info({ applied: r.applied, partitions: r.partitions }, 'database schema is up to date');
        const t = setInterval(
          () => {
            ensurePartitions(pool).catch((err) =>
              log.warn({ err: (err as Error).message }, 'creating audit partitions failed'),
            );
          },
          6 * 3600 * 1000,
        );
        t.unref();
        this.timers.push(t);
        return;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.dbState = { ok: false, error: (err as Error).message };
        const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
        log.error({ err: (err as Error).message, retry_in_ms: delay }, 'preparing the database failed');
        await abortableSleep(delay, this.abort.signal).catch(() => {});
      }
    }
  }

  async health(): Promise<HealthReport> {
    const redisCheck = pingRedis(this.redis);
    const pgCheck = this.pool ? pingPostgres(this.pool) : Promise.resolve(undefined);
    const [r, p] = await Promise.all([redisCheck, pgCheck]);
    const pgState = p === undefined ? undefined : !p.ok ? p : this.dbState;
    const workers = this.supervisor?.status() ?? {};
    const workersOk = Object.values(workers).every((w) => w.running > 0);
    const healthy = r.ok && (pgState === undefined || pgState.ok) && workersOk;
    return {
      status: healthy ? 'healthy' : 'unhealthy',
      service: 'mutt',
      version: VERSION,
      pod: this.config.podName,
      roles: this.config.roles,
      redis: r.ok ? 'ok' : `error: ${r.error}`,
      postgres: pgState === undefined ? 'not used' : pgState.ok ? 'ok' : `error: ${pgState.error}`,
      workers,
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
    };
  }

  /** Ordered, idempotent shutdown. */
  stop(reason = 'stop'): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    const log = this.log;
    log.info({ reason }, 'MUTT is stopping');
    this.abort.abort(new Error('stopping'));
    for (const t of this.timers) clearInterval(t);
    const step = async (name: string, fn: () => Promise<unknown> | undefined) => {
      try {
        await fn();
      } catch (err) {
        log.warn({ step: name, err: (err as Error).message }, 'shutdown step failed');
      }
    };
    await step('http', () => closeHttp(this.httpServer, 10_000));
    await step('webui', () => closeHttp(this.webServer, 5_000));
    for (const l of this.listeners) await step(l.name, () => l.stop());
    await step('enqueue', () => this.enqueuer && withTimeout(this.enqueuer.drain(), 10_000));
    await step('workers', () => this.supervisor?.stop(30_000));
    await step('redis', () => this.redis && quitRedis(this.redis));
    await step('postgres pool', () => this.pool?.end());
    await step('postgres server', () => this.pgServer?.stop());
    await step('redis server', () => this.redisServer?.stop());
    log.info('MUTT stopped');
  }
}

async function pingRedis(redis: Redis | undefined): Promise<{ ok: boolean; error?: string }> {
  if (!redis) return { ok: false, error: 'not connected' };
  try {
    await withTimeout(redis.ping(), 2000);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

async function quitRedis(redis: Redis): Promise<void> {
  try {
    await withTimeout(redis.quit(), 2000);
  } catch {
    redis.disconnect();
  }
}

function closeHttp(server: Server | undefined, graceMs: number): Promise<void> | undefined {
  if (!server?.listening) return undefined;
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
