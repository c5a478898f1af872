// Dynamic configuration (PROTOCOL.md: `mutt:config:<key>` strings, `mutt:config:updates` carries the
// bare name of a key that changed). Values are validated here, by the CLI before writing and by the
// services when reading; an absent or invalid value falls back to the static variable, so a typo in
// Redis never stops the alerter. Only the keys listed here are known to MUTT.
import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.ts';
import { type Config, shedThresholdProblem } from '../../runtime/config/load.ts';
import { schema } from '../../runtime/config/schema.ts';

type Parse<T> = (s: string) => T | undefined;

const intIn =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parse<number> =>
  (s) => {
    const t = s.trim();
    if (!/^\d+$/.test(t)) return undefined;
    const n = Number(t);
    return n >= min && n <= max ? n : undefined;
  };
/** A fraction strictly between 0 and 1 (an availability objective such as 0.995). */
const fraction: Parse<number> = (s) => {
  const t = s.trim();
  if (!/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && n < 1 ? n : undefined;
};
const oneOf =
  <V extends string>(...values: V[]): Parse<V> =>
  (s) => {
    const t = s.trim().toLowerCase();
    return (values as string[]).includes(t) ? (t as V) : undefined;
  };

interface KeySpec<T> {
  doc: string;
  expected: string;
  parse: Parse<T>;
  fallback: (c: DynamicStatic) => T;
  /** The static variable that gives the fallback. */
  variable: keyof DynamicStatic;
  /** Why a well-formed value still cannot be used with this node's static settings. */
  check?: (v: T, c: DynamicStatic) => string | undefined;
}

export type DynamicStatic = Pick<
  Config,
  | 'CACHE_RELOAD_INTERVAL'
  | 'UNHANDLED_THRESHOLD'
  | 'UNHANDLED_EXPIRY_SECONDS'
  | 'ALERTER_QUEUE_WARN_THRESHOLD'
  | 'ALERTER_QUEUE_SHED_THRESHOLD'
  | 'ALERTER_SHED_MODE'
  | 'ALERTER_DEFER_SLEEP_MS'
  | 'DYNAMIC_CONFIG_ENABLED'
  | 'ALERTER_BATCH_SIZE'
  | 'COMPAT_MODE'
> &
  // The SLO report's variables: services that do not report SLOs (the alerter) need not carry them.
  Partial<Pick<Config, 'SLO_WINDOW_HOURS' | 'SLO_INGEST_SUCCESS_TARGET' | 'SLO_FORWARD_SUCCESS_TARGET'>>;

const spec = <T>(s: KeySpec<T>) => s;

export const DYNAMIC_KEYS = {
  cache_reload_interval: spec({
    doc: 'Seconds between rule-cache reloads',
    expected: 'an integer of seconds >= 1',
    parse: intIn(1, 86_400 * 7),
    fallback: (c) => c.CACHE_RELOAD_INTERVAL,
    variable: 'CACHE_RELOAD_INTERVAL',
  }),
  unhandled_threshold: spec({
    doc: 'Unhandled events of one host and signature before a meta-alert',
    expected: 'an integer >= 1',
    parse: intIn(1),
    fallback: (c) => c.UNHANDLED_THRESHOLD,
    variable: 'UNHANDLED_THRESHOLD',
  }),
  unhandled_expiry_seconds: spec({
    doc: 'Lifetime of an unhandled counter and of the suppression after a meta-alert',
    expected: 'an integer of seconds >= 1',
    parse: intIn(1),
    fallback: (c) => c.UNHANDLED_EXPIRY_SECONDS,
    variable: 'UNHANDLED_EXPIRY_SECONDS',
  }),
  alerter_queue_warn_threshold: spec({
    doc: 'Alert-queue length above which the alerter warns',
    expected: 'an integer >= 1',
    parse: intIn(1),
    fallback: (c) => c.ALERTER_QUEUE_WARN_THRESHOLD,
    variable: 'ALERTER_QUEUE_WARN_THRESHOLD',
  }),
  alerter_queue_shed_threshold: spec({
    doc: 'Alert-queue length above which the alerter defers or sheds',
    expected: 'an integer >= ALERTER_BATCH_SIZE',
    parse: intIn(0),
    fallback: (c) => c.ALERTER_QUEUE_SHED_THRESHOLD,
    variable: 'ALERTER_QUEUE_SHED_THRESHOLD',
    check: (v, c) => shedThresholdProblem(v, c.ALERTER_BATCH_SIZE),
  }),
  alerter_shed_mode: spec({
    doc: 'defer (pause; events wait in the ingest queue) or dlq (shed the oldest ingest events to the alerter DLQ; remediation replays them)',
    expected: 'dlq or defer',
    parse: oneOf('dlq', 'defer'),
    fallback: (c) => c.ALERTER_SHED_MODE,
    variable: 'ALERTER_SHED_MODE',
  }),
  alerter_defer_sleep_ms: spec({
    doc: 'Pause of a deferring alerter, in milliseconds',
    expected: 'an integer of milliseconds from 1 to 60000',
    parse: intIn(1, 60_000),
    fallback: (c) => c.ALERTER_DEFER_SLEEP_MS,
    variable: 'ALERTER_DEFER_SLEEP_MS',
  }),
  compat_mode: spec({
    doc: 'off (MUTT decides as MUTT) or python2 (parity with Python MUTT 2.x nodes on the same Redis)',
    expected: 'off or python2',
    parse: oneOf('off', 'python2'),
    fallback: (c) => c.COMPAT_MODE,
    variable: 'COMPAT_MODE',
  }),
  slo_window_hours: spec({
    doc: 'Window of the SLO report, in hours',
    expected: 'an integer of hours from 1 to 720',
    parse: intIn(1, 720),
    fallback: (c) => c.SLO_WINDOW_HOURS ?? schema.SLO_WINDOW_HOURS.default,
    variable: 'SLO_WINDOW_HOURS',
  }),
  slo_ingest_success_target: spec({
    doc: 'Availability objective of HTTP ingest (share of requests not failed by MUTT)',
    expected: 'a number between 0 and 1, both excluded (0.995 is 99.5%)',
    parse: fraction,
    fallback: (c) => c.SLO_INGEST_SUCCESS_TARGET ?? schema.SLO_INGEST_SUCCESS_TARGET.default,
    variable: 'SLO_INGEST_SUCCESS_TARGET',
  }),
  slo_forward_success_target: spec({
    doc: 'Availability objective of forwarding (share of Moogsoft requests answered 2xx)',
    expected: 'a number between 0 and 1, both excluded (0.99 is 99%)',
    parse: fraction,
    fallback: (c) => c.SLO_FORWARD_SUCCESS_TARGET ?? schema.SLO_FORWARD_SUCCESS_TARGET.default,
    variable: 'SLO_FORWARD_SUCCESS_TARGET',
  }),
};

export type DynamicKey = keyof typeof DYNAMIC_KEYS;
export type DynamicValue<K extends DynamicKey> = ReturnType<(typeof DYNAMIC_KEYS)[K]['fallback']>;
export const DYNAMIC_KEY_NAMES = Object.keys(DYNAMIC_KEYS) as DynamicKey[];

export const isDynamicKey = (k: string): k is DynamicKey => Object.hasOwn(DYNAMIC_KEYS, k);

/** A stored or proposed value as its key's type, or why it cannot be used. */
function parseDynamic(
  key: DynamicKey,
  value: string,
  config?: DynamicStatic,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const s = DYNAMIC_KEYS[key] as KeySpec<unknown>;
  const v = s.parse(value);
  if (v === undefined) return { ok: false, error: `${key}: "${value}" is not ${s.expected}` };
  const problem = config && s.check?.(v, config);
  if (problem) return { ok: false, error: `${key}: "${value}": ${problem}` };
  return { ok: true, value: v };
}

/**
 * Checks a value for a key; the error names the key and what it expects. With the node's static
 * configuration, values that do not fit it (a shed threshold below the batch size) are refused too.
 */
export function validateDynamic(
  key: string,
  value: string,
  config?: DynamicStatic,
): { ok: true; value: string } | { ok: false; error: string } {
  if (!isDynamicKey(key))
    return { ok: false, error: `unknown key "${key}"; known keys: ${DYNAMIC_KEY_NAMES.join(', ')}` };
  const r = parseDynamic(key, value, config);
  if (!r.ok) return r;
  const v = r.value;
  return { ok: true, value: typeof v === 'number' ? String(v) : typeof v === 'string' ? v : value };
}

export interface DynamicConfigOptions {
  redis: Redis;
  keys: Keys;
  config: DynamicStatic;
  /** Called with a key whose stored text is invalid (the static value is used), and why. */
  onInvalid?: (key: DynamicKey, raw: string, reason: string) => void;
}

/**
 * The values a service reads on every batch, held in memory: loaded at start, refreshed for a key
 * when `mutt:config:updates` names it, and every `refreshMs` in case a message was missed.
 */
export class DynamicConfig {
  private readonly o: DynamicConfigOptions;
  private readonly values = new Map<DynamicKey, unknown>();
  private subscriber?: Redis;
  private timer?: NodeJS.Timeout;

  constructor(o: DynamicConfigOptions) {
    this.o = o;
  }

  get<K extends DynamicKey>(key: K): DynamicValue<K> {
    if (this.values.has(key)) return this.values.get(key) as DynamicValue<K>;
    return DYNAMIC_KEYS[key].fallback(this.o.config) as DynamicValue<K>;
  }

  /** Reads every key (all at once). */
  async refresh(): Promise<void> {
    if (!this.o.config.DYNAMIC_CONFIG_ENABLED) return;
    const raw = await this.o.redis.mget(...DYNAMIC_KEY_NAMES.map((k) => this.o.keys.config(k)));
    DYNAMIC_KEY_NAMES.forEach((k, i) => this.apply(k, raw[i] ?? null));
  }

  private apply(key: DynamicKey, raw: string | null): void {
    if (raw === null) {
      this.values.delete(key);
      return;
    }
    const r = parseDynamic(key, raw, this.o.config);
    if (!r.ok) {
      this.values.delete(key);
      this.o.onInvalid?.(key, raw, r.error);
    } else this.values.set(key, r.value);
  }

  /** Loads the values, subscribes to changes on `subscriber` (a dedicated connection), refreshes periodically. */
  async start(subscriber: Redis, refreshMs = 30_000): Promise<void> {
    if (!this.o.config.DYNAMIC_CONFIG_ENABLED) return;
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, key: string) => {
      if (channel !== this.o.keys.configUpdates || !isDynamicKey(key.trim())) return;
      const k = key.trim() as DynamicKey;
      this.o.redis
        .get(this.o.keys.config(k))
        .then((v) => this.apply(k, v))
        .catch(() => {});
    });
    await subscriber.subscribe(this.o.keys.configUpdates);
    await this.refresh().catch(() => {});
    this.timer = setInterval(() => {
      this.refresh().catch(() => {});
    }, refreshMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
