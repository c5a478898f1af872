// `mutt config list|get|set`: the dynamic configuration in Redis (`mutt:config:<key>`, PROTOCOL.md),
// over the admin configuration service (src/core/admin/config.ts) that the admin API calls too.
// Values are validated before they are written, then announced on `mutt:config:updates` so every
// MUTT (and Python MUTT 2.5) service drops its cached value at once; the change is audited in
// config_audit_log when PostgreSQL is reachable. `set --unset` removes a key, and the services fall
// back to the static variable.
import {
  type DynamicEntry,
  getDynamicConfig,
  listDynamicConfig,
  setDynamicConfig,
  unsetDynamicConfig,
} from '../../core/admin/index.ts';
import { DYNAMIC_KEY_NAMES, DYNAMIC_KEYS, isDynamicKey } from '../../core/config/dynamic.ts';
import { CliError, cliActor, withAdmin } from '../context.ts';
import { EXIT } from '../exit.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);

/** An unknown key is a wrong command line (EX_USAGE), before anything is connected. */
function checkKey(key: string): void {
  if (!isDynamicKey(key))
    throw new CliError(`unknown key "${key}"; known keys: ${DYNAMIC_KEY_NAMES.join(', ')}`, EXIT.USAGE);
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
  checkKey(key);
  await withAdmin(async (ctx) => {
    const r = await getDynamicConfig(ctx, key);
    if (o.json) out(JSON.stringify(jsonRow(r)));
    else out(r.value);
  });
}

export async function configSetCommand(
  key: string,
  value: string | undefined,
  o: { unset?: boolean; reason?: string; json?: boolean },
): Promise<void> {
  checkKey(key);
  if (isDynamicKey(key) && !o.unset && value === undefined)
    throw new CliError(`a value is required (or --unset): ${DYNAMIC_KEYS[key].expected}`, EXIT.USAGE);
  await withAdmin(
    async (ctx) => {
      const r = o.unset
        ? await unsetDynamicConfig(ctx, key, cliActor(o.reason))
        : await setDynamicConfig(ctx, key, { value: value!, reason: o.reason }, cliActor());
      if (o.json) {
        out(
          JSON.stringify({
            key: r.key,
            value: r.new_value,
            source: r.new_value === null ? 'static' : 'redis',
          }),
        );
        return;
      }
      out(r.new_value === null ? `${r.key} unset (the static value applies)` : `${r.key} = ${r.new_value}`);
    },
    { postgres: true },
  );
}
