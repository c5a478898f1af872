// Helpers for alerter tests: an in-process Alerter on the harness Redis and the file's database, rules
// written with SQL as an operator would, events pushed the way listeners and Python clients push them,
// and a census that accounts for every event (audited, dead-lettered, or still queued / in hand).
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Registry } from 'prom-client';
import { Alerter } from '../../src/core/alerter/alerter.ts';
import { type AlerterMetrics, createAlerterMetrics } from '../../src/core/alerter/metrics.ts';
import { Keys } from '../../src/core/protocol/keys.ts';
import { type ScriptedRedis, withScripts } from '../../src/core/protocol/scripts.ts';
import type { Config } from '../../src/runtime/config/load.ts';
import { createLogger } from '../../src/runtime/logging.ts';
import type { LogLine } from './mutt-process.ts';
import type { TestServices } from './services.ts';
import { until } from './forwarding.ts';

export interface RuleSpec {
  match_string?: string | null;
  trap_oid?: string | null;
  syslog_severity?: number | null;
  match_type?: 'contains' | 'regex' | 'oid_prefix';
  priority?: number;
  prod_handling?: string;
  dev_handling?: string;
  team_assignment?: string;
  is_active?: boolean;
}

/** Inserts a rule as an operator would with psql; returns its id. */
export async function addRule(pool: pg.Pool | pg.Client, r: RuleSpec): Promise<number> {
  const res = await pool.query<{ id: number }>(
    `INSERT INTO alert_rules (match_string, trap_oid, syslog_severity, match_type, priority, prod_handling, dev_handling, team_assignment, is_active)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      r.match_string ?? null,
      r.trap_oid ?? null,
      r.syslog_severity ?? null,
      r.match_type ?? 'contains',
      r.priority ?? 100,
      r.prod_handling ?? 'Page_and_ticket',
      r.dev_handling ?? 'Ignore',
      r.team_assignment ?? 'NETO',
      r.is_active ?? true,
    ],
  );
  return res.rows[0]!.id;
}

export async function resetTables(pool: pg.Pool): Promise<void> {
  await pool.query(
    'TRUNCATE event_audit_log, alert_rules, development_hosts, device_teams RESTART IDENTITY CASCADE',
  );
}

let seq = 0;
/** An event as MUTT's listeners write it. */
export function event(over: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return {
    hostname: 'core-sw1',
    timestamp: new Date().toISOString(),
    message: `%LINK-3-UPDOWN: Interface Gi0/${seq % 48}, changed state to down`,
    syslog_severity: 3,
    source: 'syslog',
    _correlation_id: `ev-${process.pid}-${seq}`,
    ...over,
  };
}

export async function pushEvents(
  redis: Redis,
  keys: Keys,
  events: (Record<string, unknown> | string)[],
): Promise<void> {
  const items = events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  for (let i = 0; i < items.length; i += 1000)
    await redis.lpush(keys.ingestQueue, ...items.slice(i, i + 1000));
}

export interface Census {
  queue: number;
  inHand: number;
  dlq: number;
  alerts: number;
}

/** One atomic read (a Lua script) so an event moving between lists is never missed or counted twice. */
const CENSUS_LUA = `local h = 0
for _, k in ipairs(redis.call('KEYS', ARGV[1])) do h = h + redis.call('LLEN', k) end
return { redis.call('LLEN', KEYS[1]), h, redis.call('LLEN', KEYS[2]), redis.call('LLEN', KEYS[3]) }`;

export async function census(redis: Redis, keys: Keys): Promise<Census> {
  const [queue, inHand, dlq, alerts] = (await redis.eval(
    CENSUS_LUA,
    3,
    keys.ingestQueue,
    keys.alerterDlq,
    keys.alertQueue,
    keys.alerterProcessingPattern,
  )) as number[];
  return { queue: queue!, inHand: inHand!, dlq: dlq!, alerts: alerts! };
}

/** Polling with a deadline, shared with the forwarder tests. */
export { until };

export const drained = (redis: Redis, keys: Keys, timeoutMs = 30_000) =>
  until(
    async () => {
      const c = await census(redis, keys);
      return c.queue === 0 && c.inHand === 0;
    },
    timeoutMs,
    'ingest queue and processing lists empty',
  );

export interface RunningAlerter {
  alerter: Alerter;
  keys: Keys;
  redis: ScriptedRedis;
  pool: pg.Pool;
  config: Config;
  metrics: AlerterMetrics;
  registry: Registry;
  lines: LogLine[];
  stop(): Promise<void>;
}

/** An isolated key namespace under the file's prefix (its cleanup removes it). */
export function subPrefixEnv(svc: TestServices): Record<string, string> {
  return { MUTT_KEY_PREFIX: `${svc.prefix}:${randomBytes(3).toString('hex')}` };
}

export async function startAlerter(
  svc: TestServices,
  env: Record<string, string>,
  o: { pod?: string; leader?: boolean; redisPort?: number; pgPort?: number; wait?: boolean } = {},
): Promise<RunningAlerter> {
  const config = svc.config({
    BRPOPLPUSH_TIMEOUT: '1',
    ALERTER_HEARTBEAT_INTERVAL: '1',
    ALERTER_JANITOR_TIMEOUT: '3',
    ...env,
  });
  const keys = new Keys(config);
  const lines: LogLine[] = [];
  const log = createLogger({
    level: 'INFO',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
        cb();
      },
    }),
  });
  const redisOpts = {
    host: svc.services.redis.host,
    port: o.redisPort ?? svc.services.redis.port,
    maxRetriesPerRequest: null,
  };
  const redis = withScripts(new Redis(redisOpts));
  const blocking = new Redis(redisOpts);
  const subscriber = new Redis(redisOpts);
  // Outage tests restart Redis: connection errors are expected and retried.
  for (const r of [redis, blocking, subscriber]) r.on('error', () => {});
  const pool = new pg.Pool({
    host: svc.services.postgres.host,
    port: o.pgPort ?? svc.services.postgres.port,
    user: svc.services.postgres.user,
    database: svc.database,
    max: 4,
    connectionTimeoutMillis: 2000,
  });
  pool.on('error', () => {});
  const registry = new Registry();
  const ref: { alerter?: Alerter } = {};
  const metrics = createAlerterMetrics(registry, {
    alertQueueDepth: () => redis.llen(keys.alertQueue),
    dlqDepth: () => redis.llen(keys.alerterDlq),
    processingDepth: async () => ref.alerter?.processingDepth(),
  });
  const alerter = new Alerter({
    config,
    log,
    redis,
    blocking,
    subscriber,
    pool,
    keys,
    pod: o.pod ?? `t${randomBytes(3).toString('hex')}`,
    metrics,
    leader: o.leader ?? true,
  });
  ref.alerter = alerter;
  const run = alerter.run();
  run.catch((err: unknown) =>
    lines.push({ level: 'fatal', msg: 'alerter loop failed', err: String((err as Error).stack) }),
  );
  const a = alerter;
  if (o.wait !== false)
    await until(() => lines.some((l) => l.msg === 'alerter started'), 30_000, 'alerter started');
  return {
    alerter: a,
    keys,
    redis,
    pool,
    config,
    metrics,
    registry,
    lines,
    async stop() {
      await a.close();
      redis.disconnect();
      blocking.disconnect();
      subscriber.disconnect();
      await pool.end();
    },
  };
}

export async function auditRows(pool: pg.Pool): Promise<
  {
    hostname: string;
    matched_rule_id: number;
    handling_decision: string;
    forwarded_to_moog: boolean;
    raw_message: string;
    event_timestamp: Date;
    event_timestamp_substituted: boolean | null;
  }[]
> {
  return (
    await pool.query(
      'SELECT hostname, matched_rule_id, handling_decision, forwarded_to_moog, raw_message, event_timestamp, event_timestamp_substituted FROM event_audit_log ORDER BY id',
    )
  ).rows;
}

/** The value of a metric in a registry (summing label sets that match). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  if (!m) return 0;
  return m.values
    .filter((v) =>
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
    )
    .filter((v) => !('metricName' in v) || v.metricName === name)
    .reduce((n, v) => n + v.value, 0);
}
