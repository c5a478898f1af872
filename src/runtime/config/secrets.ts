// Secrets providers. The loader already took secrets from `<NAME>` or `<NAME>_FILE`; providers fill
// the ones still unset, in order. Vault plugs in here as another provider. The generated provider
// gives a fresh install working API keys (random, mode 0600 under MUTT_DATA_DIR) instead of none.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logging.ts';
import { type Config, withValues } from './load.ts';
import { SECRET_NAMES, type SecretName } from './schema.ts';

export type { SecretName };

export interface SecretsProvider {
  readonly name: string;
  get(name: SecretName): Promise<string | undefined>;
}

/** API keys MUTT may generate on first start. */
export const GENERATED_SECRETS = ['INGEST_API_KEY', 'WEBUI_API_KEY'] as const satisfies readonly SecretName[];

/** A new random API key: 32 bytes, base64url (43 characters). */
export function newApiKey(): string {
  return randomBytes(32).toString('base64url');
}

export function generatedSecretPath(dataDir: string, name: SecretName): string {
  return join(dataDir, 'secrets', name.toLowerCase());
}

export class GeneratedSecrets implements SecretsProvider {
  readonly name = 'generated';
  private readonly dataDir: string;
  private readonly log: Logger;

  constructor(dataDir: string, log: Logger) {
    this.dataDir = dataDir;
    this.log = log;
  }

  async get(name: SecretName): Promise<string | undefined> {
    if (!(GENERATED_SECRETS as readonly string[]).includes(name)) return undefined;
    const file = generatedSecretPath(this.dataDir, name);
    mkdirSync(join(this.dataDir, 'secrets'), { recursive: true, mode: 0o700 });
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const value = newApiKey();
    try {
      writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
      this.log.warn(
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
}

/** Fills unset secrets from the providers, in order; returns the (re-frozen) configuration. */
export async function resolveSecrets(config: Config, providers: readonly SecretsProvider[]): Promise<Config> {
  const extra: Partial<Record<SecretName, string>> = {};
  for (const name of SECRET_NAMES) {
    if (config[name] !== undefined) continue;
    for (const p of providers) {
      const v = await p.get(name);
      if (v !== undefined && v.length > 0) {
        extra[name] = v;
        break;
      }
    }
  }
  return Object.keys(extra).length > 0 ? withValues(config, extra) : config;
}
