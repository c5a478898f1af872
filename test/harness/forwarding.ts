// Helpers for tests that run real `mutt` processes with the forwarder and remediation roles against
// the harness Redis and the mock Moogsoft: a key prefix per scenario, alerts on the queue, metrics
// read from /metrics, and polling with a deadline.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Keys } from '../../src/core/protocol/keys.ts';
import { loadConfigOrThrow } from '../../src/runtime/config/load.ts';
import { freePort } from './ports.ts';
import type { TestServices } from './services.ts';

export interface Scenario {
  env: Record<string, string>;
  keys: Keys;
  /** The /health and /metrics port of the first process started with `env`. */
  port: number;
}

/** Settings that make a forwarder react in a test's time scale (seconds, not minutes). */
export const FAST: Record<string, string> = {
  MUTT_ROLES: 'forwarder',
  BRPOPLPUSH_TIMEOUT: '1',
  MOOG_HEARTBEAT_INTERVAL: '1',
  MOOG_JANITOR_TIMEOUT: '3',
  MOOG_RETRY_BASE_DELAY: '0.1',
  MOOG_RETRY_MAX_DELAY: '1',
  MOOG_BATCH_LINGER_MS: '20',
  MOOG_WEBHOOK_TIMEOUT: '5',
  CIRCUIT_BREAKER_TIMEOUT: '2',
  REMEDIATION_INTERVAL: '1',
  LOG_LEVEL: 'INFO',
};

/** An isolated key namespace (under the file's prefix, so its cleanup removes it) and a port. */
export async function scenario(svc: TestServices, extra: Record<string, string> = {}): Promise<Scenario> {
  const prefix = `${svc.prefix}:${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const env = { ...svc.env, ...FAST, MUTT_KEY_PREFIX: prefix, SERVER_PORT_INGESTOR: String(port), ...extra };
  return { env, keys: new Keys(loadConfigOrThrow(env, { defaultEnvFile: '/dev/null' })), port };
}

/** LPUSHes alerts (objects or raw strings) in order: the first is taken first. */
export async function pushAlerts(
  redis: Redis,
  keys: Keys,
  alerts: (Record<string, unknown> | string)[],
): Promise<void> {
  const items = alerts.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
  for (let i = 0; i < items.length; i += 1000)
    await redis.lpush(keys.alertQueue, ...items.slice(i, i + 1000));
}

/** Polls an async condition until it holds. */
export async function until(
  pred: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > end) throw new Error(`${what} not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The value of one sample of /metrics (0 when absent). Labels must be given in exposition order. */
export async function metric(port: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const re = new RegExp(
    `^${name}${labels ? `\\{${labels.replace(/[{}]/g, '')}\\}` : '(?:\\{\\})?'} (\\S+)$`,
    'm',
  );
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Every forwarder processing and retry list of the scenario, with their lengths. */
export async function processingLists(redis: Redis, keys: Keys): Promise<Record<string, number>> {
  const lists = await redis.keys(keys.moogProcessingPattern);
  const out: Record<string, number> = {};
  for (const l of lists) out[l] = await redis.llen(l);
  return out;
}

/** Where the alerts of a scenario are now (for "nothing lost" accounting). */
export async function census(redis: Redis, keys: Keys) {
  const lists = await processingLists(redis, keys);
  return {
    queue: await redis.llen(keys.alertQueue),
    dlq: await redis.llen(keys.moogDlq),
    dead: await redis.llen(keys.deadLetter),
    inHand: Object.values(lists).reduce((a, b) => a + b, 0),
  };
}
