// `mutt config list|get|set`: the dynamic configuration in Redis (`mutt:config:<key>`, PROTOCOL.md).
// Values are validated before they are written, then announced on `mutt:config:updates` so every
// MUTT (and Python MUTT 2.5) service drops its cached value at once. `set --unset` (or `unset`)
// removes a key, and the services fall back to the static variable.
import { Keys } from '../../core/protocol/keys.ts';
import {
  DYNAMIC_KEY_NAMES,
  DYNAMIC_KEYS,
  type DynamicKey,
  isDynamicKey,
  validateDynamic,
} from '../../core/config/dynamic.ts';
import type { Config } from '../../runtime/config/load.ts';
import { CliError, cliLogger, connectRedis, loadConfigOrExit } from '../context.ts';
import type { Redis } from 'ioredis';

const out = (s: string) => process.stdout.write(`${s}\n`);

async function withRedis<T>(fn: (redis: Redis, keys: Keys, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  const redis = await connectRedis(config, cliLogger(config));
  try {
    return await fn(redis, new Keys(config), config);
  } finally {
    redis.disconnect();
  }
}

interface Row {
  key: DynamicKey;
  value: string;
  source: 'redis' | 'static' | 'invalid in redis, static used';
  stored: string | null;
  variable: string;
  doc: string;
}

async function rows(redis: Redis, keys: Keys, config: Config, names: DynamicKey[]): Promise<Row[]> {
  const stored = names.length > 0 ? await redis.mget(...names.map((k) => keys.config(k))) : [];
  return names.map((key, i) => {
    const spec = DYNAMIC_KEYS[key];
    const raw = stored[i] ?? null;
    const f: unknown = spec.fallback(config);
    const fallback = typeof f === 'number' ? String(f) : typeof f === 'string' ? f : '';
    const v = raw === null ? undefined : validateDynamic(key, raw, config);
    return {
      key,
      value: v?.ok ? v.value : fallback,
      source: raw === null ? 'static' : v?.ok ? 'redis' : 'invalid in redis, static used',
      stored: raw,
      variable: spec.variable,
      doc: spec.doc,
    };
  });
}

function checkKey(key: string): DynamicKey {
  if (!isDynamicKey(key))
    throw new CliError(`unknown key "${key}"; known keys: ${DYNAMIC_KEY_NAMES.join(', ')}`, 2);
  return key;
}

export async function configListCommand(o: { json?: boolean }): Promise<void> {
  await withRedis(async (redis, keys, config) => {
    const r = await rows(redis, keys, config, DYNAMIC_KEY_NAMES);
    if (o.json) {
      out(JSON.stringify({ dynamic_config_enabled: config.DYNAMIC_CONFIG_ENABLED, keys: r }));
      return;
    }
    if (!config.DYNAMIC_CONFIG_ENABLED)
      out('note: DYNAMIC_CONFIG_ENABLED=false on this node: its services use the static values');
    const w = Math.max(...r.map((x) => x.key.length));
    const vw = Math.max(5, ...r.map((x) => x.value.length));
    out(`${'key'.padEnd(w)}  ${'value'.padEnd(vw)}  source`);
    for (const x of r) {
      const src =
        x.source === 'static'
          ? `static (${x.variable})`
          : x.source === 'redis'
            ? 'redis'
            : `${x.source}: "${x.stored}"`;
      out(`${x.key.padEnd(w)}  ${x.value.padEnd(vw)}  ${src}`);
    }
  });
}

export async function configGetCommand(key: string, o: { json?: boolean }): Promise<void> {
  const k = checkKey(key);
  await withRedis(async (redis, keys, config) => {
    const [r] = await rows(redis, keys, config, [k]);
    if (o.json) out(JSON.stringify(r));
    else out(r!.value);
  });
}

export async function configSetCommand(
  key: string,
  value: string | undefined,
  o: { unset?: boolean },
): Promise<void> {
  const k = checkKey(key);
  if (!o.unset && value === undefined)
    throw new CliError(`a value is required (or --unset): ${DYNAMIC_KEYS[k].expected}`, 2);
  let clean: string | undefined;
  if (!o.unset) {
    // Checked against this node's static settings too (a shed threshold below ALERTER_BATCH_SIZE).
    const v = validateDynamic(k, value!, loadConfigOrExit());
    if (!v.ok) throw new CliError(v.error, 2);
    clean = v.value;
  }
  await withRedis(async (redis, keys) => {
    const m = redis.multi();
    if (clean === undefined) m.del(keys.config(k));
    else m.set(keys.config(k), clean);
    m.publish(keys.configUpdates, k);
    await m.exec();
    out(clean === undefined ? `${k} unset (the static value applies)` : `${k} = ${clean}`);
  });
}
