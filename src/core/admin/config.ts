// Dynamic configuration (`mutt:config:<key>` in Redis, PROTOCOL.md): list with where each value
// comes from, read one, set or unset one. A value is checked by the validator the services read it
// with (core/config/dynamic.ts), stored, announced on `mutt:config:updates` (every MUTT and Python
// 2.5 service drops its cached value), and the change is written to config_audit_log
// (table_name `dynamic_config`) when PostgreSQL is at hand.
import { createHash } from 'node:crypto';
import {
  DYNAMIC_KEY_NAMES,
  DYNAMIC_KEYS,
  type DynamicKey,
  isDynamicKey,
  validateDynamic,
} from '../config/dynamic.ts';
import type { Actor, AdminContext } from './context.ts';
import { redisCall, transaction } from './context.ts';
import { auditChange } from './changes.ts';
import { AdminError } from './errors.ts';
import { ConfigSet, parseInput } from './schemas.ts';

export interface DynamicEntry {
  key: DynamicKey;
  /** The value in effect. */
  value: string;
  source: 'redis' | 'static' | 'invalid in redis, static used';
  /** What Redis holds (null: nothing). */
  stored: string | null;
  /** The static variable that gives the fallback. */
  variable: string;
  doc: string;
  expected: string;
}

export function checkDynamicKey(key: string): DynamicKey {
  if (!isDynamicKey(key))
    throw new AdminError('not_found', `unknown key "${key}"; known keys: ${DYNAMIC_KEY_NAMES.join(', ')}`, {
      fields: [{ field: 'key', message: `unknown key; known keys: ${DYNAMIC_KEY_NAMES.join(', ')}` }],
    });
  return key;
}

/** Stable record_id for a key in config_audit_log (an int column): a key's history is its rows. */
export const configRecordId = (key: string): number => recordIdOf(key);
const recordIdOf = (key: string) => createHash('sha1').update(key).digest().readUInt32BE(0) & 0x7fffffff;

export async function listDynamicConfig(
  ctx: AdminContext,
  names: readonly DynamicKey[] = DYNAMIC_KEY_NAMES,
): Promise<DynamicEntry[]> {
  const stored =
    names.length > 0 ? await redisCall(() => ctx.redis.mget(...names.map((k) => ctx.keys.config(k)))) : [];
  return names.map((key, i) => {
    const spec = DYNAMIC_KEYS[key];
    const raw = stored[i] ?? null;
    const f: unknown = spec.fallback(ctx.config);
    const fallback = typeof f === 'number' ? String(f) : typeof f === 'string' ? f : '';
    const v = raw === null ? undefined : validateDynamic(key, raw, ctx.config);
    return {
      key,
      value: v?.ok ? v.value : fallback,
      source: raw === null ? 'static' : v?.ok ? 'redis' : 'invalid in redis, static used',
      stored: raw,
      variable: spec.variable,
      doc: spec.doc,
      expected: spec.expected,
    };
  });
}

export async function getDynamicConfig(ctx: AdminContext, key: string): Promise<DynamicEntry> {
  const [e] = await listDynamicConfig(ctx, [checkDynamicKey(key)]);
  return e!;
}

export interface ConfigChangeResult {
  key: DynamicKey;
  old_value: string | null;
  new_value: string | null;
  /** The change is in config_audit_log (false when PostgreSQL was not at hand; the log has it). */
  audited: boolean;
}

/** Sets (input `{value, reason}`) or, with `value: null` via unsetDynamicConfig, removes a key. */
export async function setDynamicConfig(
  ctx: AdminContext,
  key: string,
  input: unknown,
  actor: Actor,
): Promise<ConfigChangeResult> {
  const k = checkDynamicKey(key);
  const b = parseInput(ConfigSet, input);
  // Checked against this node's static settings too (a shed threshold below ALERTER_BATCH_SIZE).
  const v = validateDynamic(k, String(b.value), ctx.config);
  if (!v.ok) throw new AdminError('invalid', v.error, { fields: [{ field: 'value', message: v.error }] });
  return change(ctx, k, v.value, { ...actor, reason: b.reason ?? actor.reason });
}

export function unsetDynamicConfig(
  ctx: AdminContext,
  key: string,
  actor: Actor,
): Promise<ConfigChangeResult> {
  return change(ctx, checkDynamicKey(key), null, actor);
}

async function change(
  ctx: AdminContext,
  k: DynamicKey,
  value: string | null,
  actor: Actor,
): Promise<ConfigChangeResult> {
  const redisKey = ctx.keys.config(k);
  const old = await redisCall(async () => {
    const m = ctx.redis.multi().get(redisKey);
    if (value === null) m.del(redisKey);
    else m.set(redisKey, value);
    m.publish(ctx.keys.configUpdates, k);
    const r = await m.exec();
    return (r?.[0]?.[1] as string | null | undefined) ?? null;
  });
  let audited = false;
  if (ctx.pool) {
    try {
      await transaction(ctx, 'audit_config_change', (client) =>
        auditChange(client, actor, {
          table: 'dynamic_config',
          operation: value === null ? 'DELETE' : old === null ? 'CREATE' : 'UPDATE',
          recordId: recordIdOf(k),
          oldValues: old === null ? undefined : { key: k, value: old },
          newValues: value === null ? undefined : { key: k, value },
        }),
      );
      audited = true;
    } catch (err) {
      ctx.log?.warn(
        { key: k, err: (err as Error).message },
        'dynamic configuration changed; writing its audit row failed',
      );
    }
  }
  ctx.log?.info(
    {
      key: k,
      old_value: old,
      new_value: value,
      changed_by: actor.changedBy,
      correlation_id: actor.correlationId,
      audited,
    },
    'dynamic configuration changed',
  );
  return { key: k, old_value: old, new_value: value, audited };
}
