// Secrets at start-up and while running. The loader (./load.ts) already took what this host holds
// (systemd credentials, <NAME>_FILE, <NAME>); resolveSecrets() adds Vault above them, checks that the
// secrets the node's roles need are there, generates the API keys of a fresh install (only without
// Vault), and returns the configuration with the values in force plus the layers that keep them up
// to date (Vault versions, SIGHUP re-reads). See docs/SECURITY.md for the order of precedence.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { StartupError } from '../listen.ts';
import type { Logger } from '../logging.ts';
import { type LocalSecrets, readLocalSecrets, type SecretValues } from '../secrets/local.ts';
import { SecretLayers } from '../secrets/store.ts';
import { VaultSecrets, type VaultValues } from '../secrets/vault/index.ts';
import { parseEnvFile } from './envfile.ts';
import { type Config, hasRole, type Source, withValues } from './load.ts';
import { SECRET_NAMES, type SecretName, type VarName } from './schema.ts';

export type { SecretName };

/** API keys MUTT may generate on first start (never when Vault is used). */
export const GENERATED_SECRETS = ['INGEST_API_KEY', 'WEBUI_API_KEY'] as const satisfies readonly SecretName[];

/** A new random API key: 32 bytes, base64url (43 characters). */
export function newApiKey(): string {
  return randomBytes(32).toString('base64url');
}

export function generatedSecretPath(dataDir: string, name: SecretName): string {
  return join(dataDir, 'secrets', name.toLowerCase());
}

/** Reads the generated key, or creates it (random, mode 0600) and says where it is. */
export function generatedSecret(dataDir: string, name: SecretName, log: Logger): string {
  const file = generatedSecretPath(dataDir, name);
  mkdirSync(join(dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = newApiKey();
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    log.warn(
      { variable: name, file },
      `${name} is not set: generated one in ${file} ("mutt keys show" prints it)`,
    );
    return value;
  } catch (err) {
    // Another process created it first.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}

/** Secrets the node's roles cannot run without, and what needs each. */
export function requiredSecrets(
  c: Pick<
    Config,
    'roles' | 'SERVER_PORT_INGESTOR' | 'SERVER_PORT_WEBUI' | 'MOOG_WEBHOOK_URL' | 'MOOG_AUTH_MODE'
  >,
): { name: SecretName; why: string }[] {
  const out: { name: SecretName; why: string }[] = [];
  if (hasRole(c, 'listeners') && c.SERVER_PORT_INGESTOR > 0)
    out.push({ name: 'INGEST_API_KEY', why: 'HTTP ingest (SERVER_PORT_INGESTOR)' });
  if (hasRole(c, 'webui') && c.SERVER_PORT_WEBUI > 0)
    out.push({ name: 'WEBUI_API_KEY', why: 'the admin server (SERVER_PORT_WEBUI)' });
  if (
    (hasRole(c, 'forwarder') || hasRole(c, 'remediation')) &&
    c.MOOG_WEBHOOK_URL !== undefined &&
    c.MOOG_AUTH_MODE !== undefined &&
    c.MOOG_AUTH_MODE !== 'none'
  )
    out.push({ name: 'MOOG_API_KEY', why: `MOOG_AUTH_MODE="${c.MOOG_AUTH_MODE}"` });
  return out;
}

/** The secrets this host holds, read again (SIGHUP): credentials, <NAME>_FILE, env file, environment. */
export function readLocalLayers(
  config: Pick<Config, 'envFile' | 'credentialsDir'>,
  env: Record<string, string | undefined> = process.env,
): LocalSecrets {
  let fileValues: Record<string, string> = {};
  if (config.envFile) {
    try {
      fileValues = parseEnvFile(readFileSync(config.envFile, 'utf8'), config.envFile).values;
    } catch {
      // Unreadable now: the environment alone.
    }
  }
  const lookup = (name: string) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    const f = fileValues[name];
    return f !== undefined && f !== '' ? f : undefined;
  };
  return readLocalSecrets(lookup, config.credentialsDir);
}

function secretsOf(values: VaultValues): SecretValues {
  const out: SecretValues = {};
  for (const n of SECRET_NAMES) if (values[n] !== undefined) out[n] = values[n];
  return out;
}

export interface ResolveOptions {
  log: Logger;
  registry: Registry;
  /** The environment the configuration was loaded from (for SIGHUP re-reads). */
  env?: Record<string, string | undefined>;
  /** Generate missing API keys under the data directory (`mutt serve` without Vault). */
  generate?: boolean;
  signal?: AbortSignal;
}

export interface ResolvedSecrets {
  /** The configuration with the secrets in force at start-up (and DB_USER from Vault). */
  config: Config;
  /** Every source of every secret; `layers.store` holds the values in force. */
  layers: SecretLayers;
  /** Started (logged in, secret read) when VAULT_ADDR is set; call watch() to follow it. */
  vault?: VaultSecrets;
  /** SIGHUP: read the local sources again (Vault is asked for its latest version too). */
  reload(): SecretName[];
}

/**
 * Adds Vault to the secrets of the loaded configuration, checks the required ones, and generates
 * missing API keys when asked (never with Vault). Throws a StartupError naming what is missing.
 */
export async function resolveSecrets(config: Config, o: ResolveOptions): Promise<ResolvedSecrets> {
  const env = o.env ?? process.env;
  // The local sources as the configuration found them (a SIGHUP reads them again from `env`).
  const local = localLayersOf(config);
  // The layers exist once Vault has been read; its later versions are applied to them.
  const ref: { layers?: SecretLayers } = {};
  let vault: VaultSecrets | undefined;
  let vaultValues: VaultValues = {};
  const required = requiredSecrets(config);
  const missing = (effective: (n: SecretName) => string | undefined) =>
    required.filter((r) => effective(r.name) === undefined);

  if (config.VAULT_ADDR) {
    vault = new VaultSecrets(config, {
      log: o.log.child({ component: 'vault' }),
      registry: o.registry,
      validate: (values) => {
        const merged = { ...local.environment, ...local.file, ...local.credential, ...secretsOf(values) };
        const gone = missing((n) => merged[n]);
        return gone.length > 0
          ? `it has no ${gone.map((g) => g.name).join(', ')} (needed by ${gone.map((g) => g.why).join(', ')})`
          : undefined;
      },
      onChange: (values) => {
        if (values.DB_USER !== undefined && values.DB_USER !== vaultValues.DB_USER)
          o.log.warn('DB_USER changed in Vault: it takes effect when MUTT restarts');
        vaultValues = values;
        const changed = ref.layers!.set('vault', secretsOf(values));
        if (changed.length > 0) o.log.info({ secrets: changed }, 'secrets changed: applied in every thread');
      },
    });
    const r = await vault.start(o.signal);
    vaultValues = r.values;
  }
  const layers = new SecretLayers({ vault: secretsOf(vaultValues), ...pickLocal(local) });
  ref.layers = layers;
  for (const w of layers.shadowWarnings()) if (vault) o.log.warn(w);

  const gone = missing((n) => layers.store.get(n));
  if (vault && gone.length > 0) {
    await vault.stop();
    const g = gone[0]!;
    throw new StartupError(
      `${g.name} is not in the Vault secret VAULT_SECRETS_PATH="${config.VAULT_SECRETS_PATH}" (version ${vault.currentVersion}), nor in a systemd credential, ${g.name}_FILE or ${g.name}: ${g.why} needs it` +
        (gone.length > 1
          ? ` (missing too: ${gone
              .slice(1)
              .map((x) => x.name)
              .join(', ')})`
          : ''),
    );
  }
  if (!vault && o.generate) {
    const generated: SecretValues = {};
    for (const name of GENERATED_SECRETS)
      if (layers.store.get(name) === undefined)
        generated[name] = generatedSecret(config.dataDir, name, o.log);
    layers.set('generated', generated);
  }
  // The Moogsoft key, once every source has been read.
  if (vault && config.MOOG_WEBHOOK_URL !== undefined) {
    const mode =
      config.MOOG_AUTH_MODE ?? (layers.store.get('MOOG_API_KEY') !== undefined ? 'bearer' : 'none');
    if (mode !== 'none' && layers.store.get('MOOG_API_KEY') === undefined) {
      await vault.stop();
      throw new StartupError(
        `MOOG_AUTH_MODE="${mode}": needs MOOG_API_KEY, which is not in the Vault secret VAULT_SECRETS_PATH="${config.VAULT_SECRETS_PATH}" nor set on this host`,
      );
    }
  }

  const sources: Record<string, Source> = { ...config.sources };
  for (const n of SECRET_NAMES) {
    const l = layers.source(n);
    if (l === 'vault') sources[n] = 'vault';
  }
  const extra: Record<string, unknown> = { ...layers.store.snapshot() };
  if (vaultValues.DB_USER !== undefined) {
    extra.DB_USER = vaultValues.DB_USER;
    sources.DB_USER = 'vault';
  }
  const resolved = withValues(config, {
    ...extra,
    sources: sources as Record<VarName, Source>,
  });
  return {
    config: resolved,
    layers,
    vault,
    reload() {
      const again = readLocalLayers(config, env);
      for (const p of again.problems)
        o.log.error(`re-reading the secrets: ${p} (the previous value stays in use)`);
      // A file that cannot be read now keeps its previous value.
      const keep = (next: SecretValues, prev: SecretValues, names: Partial<Record<SecretName, string>>) => {
        const out = { ...next };
        for (const n of SECRET_NAMES)
          if (names[n] !== undefined && out[n] === undefined && prev[n] !== undefined) out[n] = prev[n];
        return out;
      };
      const changed = layers.setMany({
        credential: again.credential,
        file: keep(again.file, local.file, again.files),
        environment: again.environment,
      });
      local.credential = again.credential;
      local.file = keep(again.file, local.file, again.files);
      vault?.refresh();
      if (changed.length > 0) o.log.info({ secrets: changed }, 'secrets changed: applied in every thread');
      return changed;
    },
  };
}

/** The secrets of a loaded configuration, by the layer each came from. */
function localLayersOf(config: Config): LocalSecrets {
  const out: LocalSecrets = { credential: {}, file: {}, environment: {}, files: {}, problems: [] };
  for (const n of SECRET_NAMES) {
    const v = config[n];
    if (v === undefined) continue;
    const src = config.sources[n];
    if (src === 'credential') out.credential[n] = v;
    else if (src === 'file') out.file[n] = v;
    else if (src === 'environment' || src === 'env file') out.environment[n] = v;
  }
  return out;
}

function pickLocal(l: LocalSecrets): Pick<LocalSecrets, 'credential' | 'file' | 'environment'> {
  return { credential: l.credential, file: l.file, environment: l.environment };
}
