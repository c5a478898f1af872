// `mutt serve`: the one process.
//
//   embedded redis-server / postgres (only when no external server is configured)
//        │
//   Redis clients ── Enqueuer ◄── HTTP ingest (Hono, SERVER_PORT_INGESTOR)  /health /metrics
//                                 (without the listeners role: only /health and /metrics)
//   worker threads (alerter, forwarder, remediation) under the supervisor, metrics merged
//   PostgreSQL pool ── migrations + audit partitions (background, retried until PostgreSQL answers)
//
// Start-up: the listeners (and the HTTP port with /health) open only once Redis answers, so the first
// clients after a restart are never turned away with a 503; until then the logs say what MUTT waits
// for, and a connection to a port is refused (not ready). Then the node claims its name in Redis (one
// running process per POD_NAME; a restart after a crash takes it over at once) so that its workers
// take back the processing lists of the process it replaces. PostgreSQL is not waited for: ingest
// needs only Redis, and the alerter holds its batches until PostgreSQL answers. Behind Redis Sentinels
// the Sentinels are asked first (REDIS_SENTINEL_STARTUP_TIMEOUT): none answering, or no master of that
// name, stops start-up with a message naming the setting (runtime/redis-sentinel.ts). Stop is ordered and
// idempotent: stop accepting, let in-flight requests finish and their events reach Redis, close
// connections, free the node name, then stop the embedded servers.
//
// Secrets (docs/SECURITY.md): read before anything connects (Vault when VAULT_ADDR is set, above
// systemd credentials, <NAME>_FILE and variables). The main thread follows Vault (token renewal, new
// versions of the KV secret) and re-reads the local sources on SIGHUP; every change reaches the
// ingest key check, the main thread's connections and, by message, every worker thread.
// SIGHUP also reloads the TLS certificates of the ingest, admin and syslog TLS listeners.
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { Histogram, type Registry } from 'prom-client';
import { NodeLease, NodeNameTaken } from '../core/node-lease.ts';
import { compatStatus, staticCompatStatus } from '../core/config/compat.ts';
import { Keys } from '../core/protocol/keys.ts';
import { registerQueueAgeMetrics } from '../core/queue/age.ts';
import { SloRecorder, SloService } from '../core/slo.ts';
import { type ScriptedRedis, withScripts } from '../core/protocol/scripts.ts';
import { Enqueuer } from '../listeners/enqueue.ts';
import { LISTENERS } from '../listeners/index.ts';
import type { RunningListener } from '../listeners/types.ts';
import { createIngest } from '../listeners/webhook/index.ts';
import { apiKeyRing } from '../core/security.ts';
import { createWebApp } from '../web/app.ts';
import { mountUi } from '../web/ui/index.tsx';
import { cachedSloPanel } from '../web/ui/slo.ts';
import { type Config, hasRole, needsPostgres } from '../runtime/config/load.ts';
import { type ResolvedSecrets, resolveSecrets } from '../runtime/config/secrets.ts';
import { prepareDataDir } from '../runtime/datadir.ts';
import type { HealthReport } from '../runtime/health.ts';
import { StartupError } from '../runtime/listen.ts';
import type { Logger } from '../runtime/logging.ts';
import { createRegistry, renderMetrics } from '../runtime/metrics.ts';
import { registerDependencyMetrics } from '../runtime/dependency-metrics.ts';
import { auditPartitionsPresent, ensurePartitions, migrate } from '../runtime/migrate.ts';
import {
  createPool,
  dbPasswords,
  describePg,
  explainPgError,
  type PgEndpoint,
  pgEndpointFromConfig,
  pingPostgres,
  waitForPostgres,
} from '../runtime/postgres.ts';
import {
  createRedis,
  describeEndpoint,
  endpointFromConfig,
  type RedisEndpoint,
  redisPasswords,
  redisProblem,
} from '../runtime/redis.ts';
import { checkSentinels } from '../runtime/redis-sentinel.ts';
import type { PasswordPair } from '../runtime/secrets/rotation.ts';
import { requireBinaries } from '../runtime/services/binaries.ts';
import { type PostgresServerHandle, startPostgres } from '../runtime/services/postgres-server.ts';
import { type RedisServerHandle, startRedisServer } from '../runtime/services/redis-server.ts';
import { sdNotify } from '../runtime/notify.ts';
import { abortableSleep } from '../runtime/sleep.ts';
import { httpServerCertificate, type ServerCertificate } from '../runtime/tls.ts';
import { type FetchHandler, startWebServer, type WebServer } from '../runtime/web-server.ts';
import { VERSION } from '../runtime/version.ts';
import { isTransient } from '../runtime/workers/loop.ts';
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
  /** The enqueuer's own connection (REDIS_MIN_REPLICAS_ACK). */
  private enqueueRedis?: ScriptedRedis;
  private pool?: pg.Pool;
  private dbState: { ok: boolean; error?: string } = { ok: false, error: 'not connected yet' };
  private registry?: Registry;
  private secrets?: ResolvedSecrets;
  private redisPass?: PasswordPair;
  private dbPass?: PasswordPair;
  private enqueuer?: Enqueuer;
  private readonly webServers: WebServer[] = [];
  private readonly certificates: ServerCertificate[] = [];
  private timers: NodeJS.Timeout[] = [];
  private readonly listeners: RunningListener[] = [];
  private supervisor?: WorkerSupervisor;
  private lease?: NodeLease;
  /** The workers' start, when Redis refused MUTT at start-up (they start once it accepts it). */
  private deferredStart?: Promise<void>;
  /** Called when the daemon cannot go on after start() returned (a node name held by another process). */
  onFatal?: (err: Error) => void;
  private sloRecorder?: SloRecorder;
  private stopping?: Promise<void>;
  private readonly startedAt = Date.now();
  keys?: Keys;
  info?: DaemonInfo;

  private readonly env: Record<string, string | undefined>;

  /** `env`: the environment the configuration was loaded from (secrets are re-read from it on SIGHUP). */
  constructor(config: Config, log: Logger, env: Record<string, string | undefined> = process.env) {
    this.config = config;
    this.log = log;
    this.env = env;
  }

  async start(): Promise<DaemonInfo> {
    const log = this.log;
    prepareDataDir(this.config.dataDir, {
      embeddedPostgres: this.config.embeddedPostgres && needsPostgres(this.config),
    });
    this.registry = createRegistry(true);
    this.secrets = await resolveSecrets(this.config, {
      log,
      registry: this.registry,
      env: this.env,
      generate: true,
      signal: this.abort.signal,
    });
    this.config = this.secrets.config;
    const c = this.config;
    const store = this.secrets.layers.store;
    this.redisPass = redisPasswords(c, log, store, this.registry);
    this.dbPass = dbPasswords(c, log, store, this.registry);
    // Every thread follows the secrets in force.
    store.onChange(() => this.supervisor?.updateSecrets(store.snapshot()));
    this.secrets.vault?.watch();
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
    // Behind Sentinels, a configuration that cannot work (a wrong password, an unknown master name,
    // no Sentinel answering) stops start-up with a message saying so (runtime/redis-sentinel.ts).
    if (redisEndpoint.kind === 'sentinel')
      await checkSentinels(c, redisEndpoint, log.child({ component: 'redis' }), {
        passwords: this.redisPass?.candidates(),
        signal: this.abort.signal,
      });
    this.keys = new Keys(c);
    this.redis = withScripts(
      createRedis(c, redisEndpoint, { name: 'main', log, failFast: true, passwords: this.redisPass }),
    );

    let pgEndpoint: PgEndpoint | undefined;
    if (usePg) {
      pgEndpoint = pgEndpointFromConfig(
        c,
        this.pgServer ? { host: this.pgServer.host, port: this.pgServer.port } : undefined,
      );
      this.pool = createPool(c, pgEndpoint, {
        name: 'main',
        log,
        max: Math.min(4, c.DB_POOL_MAX_CONN),
        passwords: this.dbPass,
        registry: this.registry,
      });
      void this.prepareDatabase(describePg(pgEndpoint, c.DB_NAME));
    }
    const pool = this.pool;
    registerDependencyMetrics(this.registry, {
      redis: () => pingRedis(this.redis),
      postgres: pool && (() => pingPostgres(pool)),
      auditPartitions: pool && (async () => (this.dbState.ok ? auditPartitionsPresent(pool) : undefined)),
    });
    registerQueueAgeMetrics(this.registry, this.redis, [
      { queue: 'ingest', key: this.keys.ingestQueue, kind: 'event' },
      { queue: 'alert', key: this.keys.alertQueue, kind: 'alert' },
    ]);

    const info: DaemonInfo = {
      redis: describeEndpoint(redisEndpoint),
      postgres: pgEndpoint ? describePg(pgEndpoint, c.DB_NAME) : undefined,
    };
    // Redis answering (or refusing MUTT's password or certificate, which waiting will not mend: the
    // listeners then open so that /health says why) before anything opens.
    const redisState = await this.waitForRedis(info.redis, true);
    if (redisState === 'ready') await this.claimNodeName();
    else
      log.error(
        { redis: info.redis, problem: redisProblem(this.redis) },
        'Redis refuses MUTT: the listeners open so that /health says why (ingest answers 503); the workers start once Redis accepts MUTT',
      );
    if (hasRole(c, 'listeners')) {
      this.enqueuer = this.createEnqueuer(redisEndpoint);
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
    if (redisState === 'ready') await this.startWorkers(pgEndpoint, redisEndpoint);
    else this.deferredStart = this.startWorkersOnceRedisAccepts(info.redis, pgEndpoint, redisEndpoint);
    if (hasRole(c, 'webui') && c.SERVER_PORT_WEBUI > 0) info.webuiPort = await this.startWebui();
    if (hasRole(c, 'alerter') || hasRole(c, 'forwarder')) await this.logCompatMode();
    this.info = info;
    log.info(
      { version: VERSION, roles: c.roles, pod: c.podName, ...info, data_dir: c.dataDir },
      'MUTT is running',
    );
    return info;
  }

  /**
   * The listeners' one path into Redis. With REDIS_MIN_REPLICAS_ACK it has a connection of its own:
   * WAIT confirms the writes of the connection it is sent on, and blocks that connection meanwhile.
   */
  private createEnqueuer(endpoint: RedisEndpoint): Enqueuer {
    const c = this.config;
    if (c.REDIS_MIN_REPLICAS_ACK === 0)
      return new Enqueuer({ redis: this.redis!, keys: this.keys!, cap: c.MAX_INGEST_QUEUE_SIZE });
    this.enqueueRedis = withScripts(
      createRedis(c, endpoint, { name: 'enqueue', log: this.log, failFast: true, passwords: this.redisPass }),
    );
    const waits = new Histogram({
      name: 'mutt_redis_replica_wait_seconds',
      help: 'Time Redis replicas took to confirm a batch of events (REDIS_MIN_REPLICAS_ACK), by outcome: confirmed, or timeout (not confirmed within REDIS_MIN_REPLICAS_ACK_TIMEOUT_MS)',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry!],
    });
    return new Enqueuer({
      redis: this.enqueueRedis,
      keys: this.keys!,
      cap: c.MAX_INGEST_QUEUE_SIZE,
      replicas: { count: c.REDIS_MIN_REPLICAS_ACK, timeoutMs: c.REDIS_MIN_REPLICAS_ACK_TIMEOUT_MS },
      onReplicaWait: (w) =>
        waits.observe({ outcome: w.confirmed >= w.wanted ? 'confirmed' : 'timeout' }, w.seconds),
    });
  }

  /**
   * Resolves 'ready' once Redis answers a PING (the client reconnects by itself meanwhile), or, with
   * `refusedToo`, 'refused' as soon as Redis refuses MUTT's password or certificate.
   */
  private async waitForRedis(where: string, refusedToo = false): Promise<'ready' | 'refused'> {
    const redis = this.redis!;
    const signal = this.abort.signal;
    let said = false;
    for (;;) {
      if (redis.status === 'ready') {
        try {
          await withTimeout(redis.ping(), 2000);
          return 'ready';
        } catch {
          // lost again: go on waiting
        }
      }
      if (refusedToo && redisProblem(redis)) return 'refused';
      if (!said) {
        said = true;
        this.log.info({ redis: where }, 'waiting for Redis before opening the listeners');
        void sdNotify({ STATUS: `waiting for Redis (${where}) before opening the listeners` });
      }
      await abortableSleep(200, signal);
    }
  }

  /** Redis refused MUTT at start: once it accepts it, claim the node name and start the workers. */
  private async startWorkersOnceRedisAccepts(
    where: string,
    pgEndpoint: PgEndpoint | undefined,
    redisEndpoint: RedisEndpoint,
  ): Promise<void> {
    try {
      await this.waitForRedis(where);
      await this.claimNodeName();
      await this.startWorkers(pgEndpoint, redisEndpoint);
      this.log.info({ redis: where }, 'Redis accepts MUTT now: the workers are started');
    } catch (err) {
      if (this.abort.signal.aborted) return;
      this.onFatal?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Holds this node's name for as long as the process runs (see src/core/node-lease.ts). */
  private async claimNodeName(): Promise<void> {
    const c = this.config;
    this.lease = new NodeLease({
      redis: this.redis!,
      keys: this.keys!,
      pod: c.podName,
      explicit: c.sources.POD_NAME !== 'default',
      log: this.log,
      version: VERSION,
    });
    for (;;) {
      try {
        const r = await this.lease.acquire(this.abort.signal);
        if (r.tookOverFrom)
          this.log.info(
            { pod: c.podName, previous_pid: r.tookOverFrom.pid, previous_since: r.tookOverFrom.since },
            "took over this node's name from its previous process, which is gone: its unfinished work is taken back now",
          );
        return;
      } catch (err) {
        if (err instanceof NodeNameTaken) {
          this.lease = undefined;
          throw new StartupError(err.message);
        }
        if (!isTransient(err)) throw err;
        // Redis went away between its answer and the claim: wait for it again.
        await abortableSleep(200, this.abort.signal);
        await this.waitForRedis('Redis');
      }
    }
  }

  /** True once stop() was called (start-up may then end early). */
  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** A node in parity mode says once, at start, what it gives up (docs/COMPATIBILITY.md). */
  private async logCompatMode(): Promise<void> {
    const c = this.config;
    // Redis may still be coming up: the static setting then, and the workers log a later switch.
    let timer: NodeJS.Timeout | undefined;
    const s = await Promise.race([
      compatStatus(c, this.redis!, this.keys!),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), 2000);
      }),
    ])
      .catch(() => staticCompatStatus(c))
      .finally(() => clearTimeout(timer));
    if (s.invalid) this.log.warn({ err: s.invalid }, 'invalid compat_mode in Redis; COMPAT_MODE applies');
    if (s.mode !== 'python2') return;
    this.log.warn(
      { compat_mode: s.mode, source: s.source, gives_up: s.givesUp },
      `COMPAT_MODE=python2: the alerter and forwarder decide as Python MUTT 2.x does; given up: ${s.givesUp.join('; ')}`,
    );
  }

  private async startIngest(): Promise<number> {
    const c = this.config;
    const { app, metrics } = createIngest({
      config: c,
      enqueuer: this.enqueuer,
      redis: this.redis!,
      keys: this.keys!,
      registry: this.registry!,
      log: this.log.child({ component: 'ingest' }),
      secrets: this.secrets!.layers.store,
      health: () => this.health(),
      metricsText: () => this.metricsText(),
    });
    // The fleet's SLO report counts this node's ingest requests from Redis (src/core/slo.ts).
    this.sloRecorder = new SloRecorder({
      redis: this.redis!,
      keys: this.keys!,
      component: 'ingestor',
      counter: metrics.requests,
      log: this.log.child({ component: 'slo' }),
    });
    this.sloRecorder.start();
    return (await this.serveWeb('ingest', app.fetch, c.SERVER_PORT_INGESTOR, 'SERVER_PORT_INGESTOR')).port;
  }

  /** A node without listeners still answers /health and /metrics on SERVER_PORT_INGESTOR. */
  private async startOps(): Promise<number> {
    const app = createOpsApp({ health: () => this.health(), metricsText: () => this.metricsText() });
    return (
      await this.serveWeb('ingest', app.fetch, this.config.SERVER_PORT_INGESTOR, 'SERVER_PORT_INGESTOR')
    ).port;
  }

  /**
   * Serves a web app on its port: HTTPS when the listener's certificate is configured
   * (SERVER_TLS_CERT/SERVER_TLS_KEY for `ingest`, WEBUI_TLS_CERT/WEBUI_TLS_KEY for `webui`), with the
   * certificate reloaded on SIGHUP; the server is closed by stop() before the listeners.
   */
  async serveWeb(
    listener: 'ingest' | 'webui',
    fetch: FetchHandler,
    port: number,
    variable: string,
  ): Promise<WebServer> {
    const tls = httpServerCertificate(this.config, listener, {
      log: this.log.child({ component: listener }),
      registry: this.registry!,
    });
    if (tls) this.certificates.push(tls);
    const web = await startWebServer({ fetch, port, host: this.config.MUTT_LISTEN_ADDRESS, variable, tls });
    this.webServers.push(web);
    return web;
  }

  /**
   * The admin API (and UI) on SERVER_PORT_WEBUI (HTTPS with WEBUI_TLS_CERT/WEBUI_TLS_KEY); rule writes
   * wait for this node's alerter workers. The keys follow rotations (Vault, SIGHUP).
   */
  private async startWebui(): Promise<number> {
    const c = this.config;
    const store = this.secrets!.layers.store;
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
      apiKeys: apiKeyRing(this.secrets!.layers.store, 'WEBUI_API_KEY', 'WEBUI_API_KEY_PREVIOUS'),
      registry: this.registry!,
      log: this.log.child({ component: 'webui' }),
      health: () => this.health(),
      metricsText: () => this.metricsText(),
      mount: (web, ctx) =>
        mountUi(web, ctx, {
          apiKey: store.get('WEBUI_API_KEY'),
          previousApiKey: store.get('WEBUI_API_KEY_PREVIOUS'),
          watchKeys: (apply) =>
            store.onChange((changed) => {
              if (changed.includes('WEBUI_API_KEY') || changed.includes('WEBUI_API_KEY_PREVIOUS'))
                apply(store.get('WEBUI_API_KEY'), store.get('WEBUI_API_KEY_PREVIOUS'));
            }),
          log: this.log.child({ component: 'webui' }),
          health: () => this.health(),
          registry: this.registry!,
          slo: cachedSloPanel(
            new SloService({
              redis: this.redis!,
              keys: this.keys!,
              config: c,
              registry: this.registry!,
              log: this.log.child({ component: 'slo' }),
            }),
          ),
        }),
    });
    const web = await this.serveWeb('webui', app.fetch, c.SERVER_PORT_WEBUI, 'SERVER_PORT_WEBUI');
    web.server.requestTimeout = 120_000;
    return web.port;
  }

  private metricsText(): Promise<{ contentType: string; body: string }> {
    return renderMetrics(this.registry!, () => this.supervisor?.collect() ?? Promise.resolve([]));
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
        secrets: this.secrets!.layers.store.snapshot(),
      }),
    });
    await this.supervisor.start(plan);
  }

  /**
   * SIGHUP: reload what can be reloaded: TLS certificates (ingest, admin, syslog), secrets from
   * systemd credentials and <NAME>_FILE (and the latest Vault version), rules in every alerter worker.
   */
  reload(): void {
    this.log.info('reloading');
    for (const cert of this.certificates) cert.reload();
    for (const l of this.listeners) l.reload?.();
    this.secrets?.reload();
    this.supervisor?.reload();
  }

  /** Waits for PostgreSQL, migrates, and keeps audit partitions created ahead. */
  private async prepareDatabase(what: string): Promise<void> {
    const pool = this.pool!;
    const log = this.log.child({ component: 'database' });
    for (let attempt = 1; !this.abort.signal.aborted; attempt++) {
      try {
        await waitForPostgres(pool, what, log, this.abort.signal, (err) => this.explainPg(err));
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
        this.dbState = { ok: false, error: this.explainPg(err) };
        const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
        log.error({ err: (err as Error).message, retry_in_ms: delay }, 'preparing the database failed');
        await abortableSleep(delay, this.abort.signal).catch(() => {});
      }
    }
  }

  private explainPg(err: unknown): string {
    return explainPgError(err, this.config, this.config.DB_HOST ?? 'localhost');
  }

  async health(): Promise<HealthReport> {
    const redisCheck = pingRedis(this.redis);
    const pgCheck = this.pool
      ? pingPostgres(this.pool, 2000, (err) => this.explainPg(err))
      : Promise.resolve(undefined);
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
      redis: r.ok ? 'ok' : `error: ${redisProblem(this.redis) ?? r.error}`,
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
    await step('http', () => Promise.all(this.webServers.map((w) => w.close(10_000))));
    await step('slo counts', () => this.sloRecorder?.stop());
    for (const l of this.listeners) await step(l.name, () => l.stop());
    await step('enqueue', () => this.enqueuer && withTimeout(this.enqueuer.drain(), 10_000));
    await step('deferred start', () => this.deferredStart);
    await step('workers', () => this.supervisor?.stop(30_000));
    await step('node name', () => this.lease && withTimeout(this.lease.release(), 2000));
    await step('vault', () => this.secrets?.vault?.stop());
    await step('redis', () => this.redis && quitRedis(this.redis));
    await step('redis (enqueue)', () => this.enqueueRedis && quitRedis(this.enqueueRedis));
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

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
