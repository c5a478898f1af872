// `mutt config list|get|set`: the dynamic configuration in Redis (`mutt:config:<key>`, PROTOCOL.md),
// over the admin configuration service (src/core/admin/config.ts) that the admin API calls too.
// Values are validated before they are written, then announced on `mutt:config:updates` so every
// MUTT (and Python MUTT 2.5) service drops its cached value at once; the change is audited in
// config_audit_log when PostgreSQL is reachable. `set --unset` removes a key, and the services fall
// back to the static variable.
import {
  AdminError,
  type AdminContext,
  type DynamicEntry,
  getDynamicConfig,
  listDynamicConfig,
  setDynamicConfig,
  unsetDynamicConfig,
} from '../../core/admin/index.ts';
import { DYNAMIC_KEYS, isDynamicKey } from '../../core/config/dynamic.ts';
import { needsPostgres } from '../../runtime/config/load.ts';
import { adminContext, CliError, cliActor, loadConfigOrExit } from '../context.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);

async function withAdmin<T>(fn: (ctx: AdminContext) => Promise<T>, postgres = false): Promise<T> {
  const config = loadConfigOrExit();
  const ctx = await adminContext(config, { postgres: postgres && needsPostgres(config) });
  try {
    return await fn(ctx);
  } catch (err) {
    if (err instanceof AdminError && (err.code === 'invalid' || err.code === 'not_found'))
      throw new CliError(err.message, 2);
    throw err;
  } finally {
    await ctx.close();
  }
}

const jsonRow = (r: DynamicEntry) => ({
  key: r.key,
  value: r.value,
  source: r.source,
  stored: r.stored,
  variable: r.variable,
  doc: r.doc,
});

export async function configListCommand(o: { json?: boolean }): Promise<void> {
  await withAdmin(async (ctx) => {
    const r = await listDynamicConfig(ctx);
    const config = ctx.config;
    if (o.json) {
      out(JSON.stringify({ dynamic_config_enabled: config.DYNAMIC_CONFIG_ENABLED, keys: r.map(jsonRow) }));
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
  await withAdmin(async (ctx) => {
    const r = await getDynamicConfig(ctx, key);
    if (o.json) out(JSON.stringify(jsonRow(r)));
    else out(r.value);
  });
}

export async function configSetCommand(
  key: string,
  value: string | undefined,
  o: { unset?: boolean; reason?: string },
): Promise<void> {
  if (isDynamicKey(key) && !o.unset && value === undefined)
    throw new CliError(`a value is required (or --unset): ${DYNAMIC_KEYS[key].expected}`, 2);
  await withAdmin(async (ctx) => {
    const r = o.unset
      ? await unsetDynamicConfig(ctx, key, cliActor(o.reason))
      : await setDynamicConfig(ctx, key, { value: value!, reason: o.reason }, cliActor());
    out(r.new_value === null ? `${r.key} unset (the static value applies)` : `${r.key} = ${r.new_value}`);
  }, true);
}
