// A MUTT node (`mutt serve`, the bundled daemon) for the high-availability tests: the environment that
// points it at a Redis topology and a PostgreSQL, the ports it listens on, and its /metrics.
import { freePort, freeUdpPort } from './ports.ts';
import type { TestServices } from './services.ts';

export interface NodePorts {
  http: number;
  tcp: number;
  snmp: number;
}

export async function nodePorts(): Promise<NodePorts> {
  return { http: await freePort(), tcp: await freePort(), snmp: await freeUdpPort() };
}

/** Settings that make a node react in a test's time scale (seconds, not minutes). */
export const HA_FAST: Record<string, string> = {
  BRPOPLPUSH_TIMEOUT: '1',
  ALERTER_HEARTBEAT_INTERVAL: '1',
  ALERTER_JANITOR_TIMEOUT: '5',
  MOOG_HEARTBEAT_INTERVAL: '1',
  MOOG_JANITOR_TIMEOUT: '5',
  MOOG_RETRY_BASE_DELAY: '0.2',
  MOOG_RETRY_MAX_DELAY: '1',
  MOOG_BATCH_LINGER_MS: '20',
  MOOG_RATE_LIMIT: '100000',
  LOG_LEVEL: 'INFO',
};

/**
 * The environment of a node on the file's database and key prefix, with `redis` replacing the
 * harness Redis (e.g. REDIS_SENTINELS) and `db` the harness PostgreSQL (e.g. a DB_HOST list).
 */
export function nodeEnv(
  svc: TestServices,
  o: {
    ports?: Partial<NodePorts>;
    redis?: Record<string, string>;
    db?: Record<string, string>;
    extra?: Record<string, string>;
  },
): Record<string, string> {
  const env: Record<string, string> = { ...svc.env, ...HA_FAST };
  if (o.redis) {
    delete env.REDIS_HOST;
    delete env.REDIS_PORT;
    Object.assign(env, o.redis);
  }
  if (o.db) Object.assign(env, o.db);
  if (o.ports?.http !== undefined) env.SERVER_PORT_INGESTOR = String(o.ports.http);
  if (o.ports?.tcp !== undefined) env.SYSLOG_TCP_PORT = String(o.ports.tcp);
  if (o.ports?.snmp !== undefined) env.SNMP_TRAP_PORT = String(o.ports.snmp);
  return { ...env, ...o.extra };
}

/** One sample (summed over label sets matching `labels`) from a node's /metrics. */
export async function nodeMetric(
  port: number,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
