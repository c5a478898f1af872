// Secrets held on this host: systemd credentials ($CREDENTIALS_DIRECTORY/<NAME>, from the unit's
// LoadCredential= or LoadCredentialEncrypted=), `<NAME>_FILE` files, and `<NAME>` variables. Vault
// sits above them (./vault/). One order of precedence, highest first:
//
//     Vault  >  systemd credential  >  <NAME>_FILE  >  <NAME>  (>  a key MUTT generated, without Vault)
//
// A secret found in more than one place takes the highest; the others are named in a warning (never
// their values) so an operator migrating from one source to another sees what is shadowed.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_NAMES, type SecretName } from '../config/schema.ts';

export type SecretLayer = 'vault' | 'credential' | 'file' | 'environment' | 'generated';
/** Highest precedence first. */
export const LAYERS: readonly SecretLayer[] = ['vault', 'credential', 'file', 'environment', 'generated'];

export type SecretValues = Partial<Record<SecretName, string>>;

/** Values found in each layer, and where they were found (for warnings and `mutt validate`). */
export interface LocalSecrets {
  credential: SecretValues;
  file: SecretValues;
  environment: SecretValues;
  /** `<NAME>_FILE` paths as given. */
  files: Partial<Record<SecretName, string>>;
  problems: string[];
}

/** Reads a secret file: the content without one trailing newline. */
export function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

/** `$CREDENTIALS_DIRECTORY/<name>` when the directory is set and holds it. */
export function credentialPath(dir: string | undefined, name: string): string | undefined {
  if (!dir) return undefined;
  const p = join(dir, name);
  try {
    return statSync(p).isFile() ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads every secret variable from the credentials directory, `<NAME>_FILE` and `<NAME>`.
 * `lookup` returns a variable from the environment or the env file.
 */
export function readLocalSecrets(
  lookup: (name: string) => string | undefined,
  credentialsDir: string | undefined,
): LocalSecrets {
  const out: LocalSecrets = { credential: {}, file: {}, environment: {}, files: {}, problems: [] };
  for (const name of SECRET_NAMES) {
    const direct = lookup(name);
    if (direct !== undefined && direct !== '') out.environment[name] = direct;
    const fileVar = `${name}_FILE`;
    const file = lookup(fileVar);
    if (file !== undefined && file !== '') {
      out.files[name] = file;
      try {
        const content = readSecretFile(file);
        if (content.length === 0) out.problems.push(`${fileVar}="${file}": the file is empty`);
        else out.file[name] = content;
      } catch (err) {
        out.problems.push(
          `${fileVar}="${file}": cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        );
      }
    }
    const cred = credentialPath(credentialsDir, name);
    if (cred) {
      try {
        const content = readSecretFile(cred);
        if (content.length === 0)
          out.problems.push(`systemd credential ${name} (${cred}): the file is empty`);
        else out.credential[name] = content;
      } catch (err) {
        out.problems.push(
          `systemd credential ${name} (${cred}): cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        );
      }
    }
  }
  return out;
}

/** Merges layers by precedence; `shadowed` lists each secret set in more than one layer. */
export function mergeLayers(layers: Partial<Record<SecretLayer, SecretValues>>): {
  values: SecretValues;
  sources: Partial<Record<SecretName, SecretLayer>>;
  shadowed: { name: SecretName; used: SecretLayer; ignored: SecretLayer[] }[];
} {
  const values: SecretValues = {};
  const sources: Partial<Record<SecretName, SecretLayer>> = {};
  const shadowed: { name: SecretName; used: SecretLayer; ignored: SecretLayer[] }[] = [];
  for (const name of SECRET_NAMES) {
    const present = LAYERS.filter((l) => layers[l]?.[name] !== undefined);
    const top = present[0];
    if (top === undefined) continue;
    values[name] = layers[top]![name];
    sources[name] = top;
    if (present.length > 1) shadowed.push({ name, used: top, ignored: present.slice(1) });
  }
  return { values, sources, shadowed };
}

/** How an operator names where a secret came from. */
export function layerText(layer: SecretLayer, name: string): string {
  switch (layer) {
    case 'vault':
      return 'Vault';
    case 'credential':
      return `the systemd credential ${name}`;
    case 'file':
      return `${name}_FILE`;
    case 'environment':
      return name;
    case 'generated':
      return 'the key MUTT generated';
  }
}

export function shadowWarning(s: { name: SecretName; used: SecretLayer; ignored: SecretLayer[] }): string {
  return `${s.name} is set in ${[s.used, ...s.ignored].map((l) => layerText(l, s.name)).join(' and in ')}: the value from ${layerText(s.used, s.name)} is used (precedence: Vault, systemd credential, <NAME>_FILE, <NAME>)`;
}
