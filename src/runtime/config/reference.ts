// Generates docs/CONFIGURATION.md from the schema (`npm run docs:config`); a test fails when the
// committed file differs, so the reference cannot drift from the code.
import { schema, type VarName } from './schema.ts';
import type { VarSpec } from './spec.ts';

function defaultText(spec: VarSpec<unknown>): string {
  if (spec.defaultText) return spec.defaultText;
  const d = spec.default;
  if (d === undefined) return '(unset)';
  if (Array.isArray(d)) return `\`${d.join(',')}\``;
  return `\`${typeof d === 'string' ? d : JSON.stringify(d)}\``;
}

export interface ReferenceRow {
  group: string;
  name: VarName;
  type: string;
  default: string;
  doc: string;
  secret: boolean;
}

/** Every variable of the schema, in order, as the reference documents it (Markdown in doc/default). */
export function referenceRows(): ReferenceRow[] {
  return (Object.entries(schema) as [VarName, VarSpec<unknown>][]).map(([name, spec]) => ({
    group: spec.group,
    name,
    type: spec.secret ? 'secret' : spec.kind === 'enum' ? spec.expected.replace(/^one of /, '') : spec.kind,
    default: defaultText(spec),
    doc: spec.note ? `${spec.doc} *${spec.note}*` : spec.doc,
    secret: spec.secret === true,
  }));
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function configReference(): string {
  const rows = new Map(referenceRows().map((r) => [r.name, r]));
  const groups = new Map<string, [VarName, VarSpec<unknown>][]>();
  for (const [name, spec] of Object.entries(schema) as [VarName, VarSpec<unknown>][]) {
    const g = groups.get(spec.group) ?? [];
    g.push([name, spec]);
    groups.set(spec.group, g);
  }
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/runtime/config/schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'MUTT is configured with environment variables, under the MUTT 2.x names. They are read once at start-up from the',
    'process environment and from an optional env file in systemd `EnvironmentFile=` syntax: `MUTT_ENV_FILE`, or',
    '`/etc/mutt/mutt.env` when it exists. A variable set in the environment wins over the same variable in the file;',
    'an empty value counts as unset. Every value is validated before anything starts: `mutt validate` prints each',
    'problem on its own line, naming the variable, the value and what is expected, and exits with status 78, as',
    '`mutt serve` does. A name in the env file that MUTT does not know is such a problem (a typo there would',
    'silently do nothing), reported with the closest known name; names for Node.js and the C library (`NODE_*`,',
    '`UV_*`, `TZ`, `LANG`, `LC_*`, `SSL_CERT_*`, proxies) are let through. An env file that holds a secret and is',
    'readable by every user draws a warning naming the file and the `chmod`.',
    '',
    'Secrets (marked *secret*) are never printed or logged. Each can come from HashiCorp Vault (`VAULT_ADDR`: a KV v2',
    'secret whose keys are the variable names), from a systemd credential (`LoadCredential=<NAME>:…` or',
    '`LoadCredentialEncrypted=`, read from `$CREDENTIALS_DIRECTORY/<NAME>`), from a file named in `<NAME>_FILE` (for',
    'example `INGEST_API_KEY_FILE=/etc/mutt/secrets/ingest_api_key`), or from `<NAME>` itself, in that order of',
    'precedence: a secret set in several places takes the first, and a warning names the others. Vault versions and,',
    'on SIGHUP, credentials and files are applied without a restart. See [SECURITY.md](SECURITY.md).',
    '',
  ];
  for (const [group, vars] of groups) {
    out.push(`## ${group}`, '', '| Variable | Type | Default | Description |', '|---|---|---|---|');
    for (const [name] of vars) {
      const r = rows.get(name)!;
      out.push(`| \`${name}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.doc)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function wrap(text: string, width = 98): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.replace(/`/g, '').split(/\s+/)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The example env file (etc/mutt.env, installed as /etc/mutt/mutt.env): every variable commented
 * out with its default, so an operator uncomments what they change.
 */
export function envExample(): string {
  const out: string[] = [
    '# MUTT configuration, read by `mutt serve` and by systemd (EnvironmentFile= syntax).',
    '# Generated from the configuration schema by `npm run docs:config`; every variable is listed,',
    '# commented out, with its default. Uncomment what you change, then run `mutt validate`.',
    '# Secrets: prefer <NAME>_FILE pointing at a file readable only by the mutt user.',
  ];
  let group = '';
  for (const [name, spec] of Object.entries(schema) as [VarName, VarSpec<unknown>][]) {
    if (spec.group !== group) {
      group = spec.group;
      out.push('', `## ${group}`);
    }
    out.push('');
    for (const l of wrap(spec.doc)) out.push(`# ${l}`);
    if (spec.secret) {
      out.push(`#${name}_FILE=/etc/mutt/secrets/${name.toLowerCase()}`);
      continue;
    }
    const d = spec.default;
    const value =
      d === undefined ? '' : Array.isArray(d) ? d.join(',') : typeof d === 'string' ? d : JSON.stringify(d);
    if (d === undefined && spec.defaultText) out.push(`# Default: ${spec.defaultText.replace(/`/g, '')}`);
    out.push(`#${name}=${value}`);
  }
  return `${out.join('\n')}\n`;
}
