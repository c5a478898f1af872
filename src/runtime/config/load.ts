// Loads the configuration once: env file (systemd syntax) under the process environment, secrets from
// systemd credentials, `<NAME>_FILE` or `<NAME>` (../secrets/local.ts; Vault is read later, at
// start-up, by ./secrets.ts), every variable parsed against the schema, cross-field checks, then one
// deep-frozen object. All problems are collected so an operator sees every mistake in one run.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnvFile } from './envfile.ts';
import {
  ROLES,
  type Role,
  SECRET_NAMES,
  type SecretName,
  schema,
  type VarName,
  type Vars,
} from './schema.ts';
import type { VarSpec } from './spec.ts';
import { parsePgHosts } from '../pg-primary.ts';
import { isTimeZone } from '../timezone.ts';
import { credentialPath, mergeLayers, readLocalSecrets, shadowWarning } from '../secrets/local.ts';

export const DEFAULT_ENV_FILE = '/etc/mutt/mutt.env';
/** sysexits.h EX_CONFIG: what `mutt serve` and `mutt validate` exit with on a configuration error. */
export const EXIT_CONFIG = 78;

export type Source = 'environment' | 'env file' | 'file' | 'credential' | 'vault' | 'default';

export interface Config extends Vars {
  readonly roles: readonly Role[];
  readonly dataDir: string;
  readonly podName: string;
  /** No REDIS_HOST / REDIS_URL / REDIS_SENTINELS: MUTT runs a private redis-server. */
  readonly embeddedRedis: boolean;
  /** No DB_HOST: MUTT runs a private PostgreSQL. */
  readonly embeddedPostgres: boolean;
  readonly envFile: string | undefined;
  /** systemd's $CREDENTIALS_DIRECTORY (LoadCredential=), when set. */
  readonly credentialsDir: string | undefined;
  readonly sources: Readonly<Record<VarName, Source>>;
  /** For secrets read from `<NAME>_FILE`: the file. */
  readonly secretFiles: Readonly<Partial<Record<SecretName, string>>>;
}

export interface LoadResult {
  config?: Config;
  problems: string[];
  warnings: string[];
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadOptions {
  /** Env file used when MUTT_ENV_FILE is unset and the file exists. */
  defaultEnvFile?: string;
  /** Effective user id, for the data-directory default. */
  uid?: number;
}

function show(name: string, raw: string, isSecret: boolean): string {
  return isSecret ? `${name}=<hidden>` : `${name}="${raw}"`;
}

export function defaultDataDir(env: Record<string, string | undefined>, uid: number): string {
  // Under systemd, StateDirectory=mutt sets STATE_DIRECTORY=/var/lib/mutt for the mutt user.
  const state = env.STATE_DIRECTORY?.split(':')[0];
  if (state) return state;
  if (uid === 0) return '/var/lib/mutt';
  const xdg =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME.length > 0
      ? env.XDG_STATE_HOME
      : join(homedir(), '.local', 'state');
  return join(xdg, 'mutt');
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  opts: LoadOptions = {},
): LoadResult {
  const problems: string[] = [];
  const warnings: string[] = [];

  // 1. The env file sits under the process environment: a variable set by the caller wins.
  let envFile: string | undefined;
  let fileValues: Record<string, string> = {};
  const explicit = env.MUTT_ENV_FILE;
  const candidate = explicit && explicit.length > 0 ? explicit : (opts.defaultEnvFile ?? DEFAULT_ENV_FILE);
  if (explicit || existsSync(candidate)) {
    try {
      const parsed = parseEnvFile(readFileSync(candidate, 'utf8'), candidate);
      fileValues = parsed.values;
      problems.push(...parsed.problems);
      envFile = resolve(candidate);
      const held = SECRET_NAMES.filter((n) => (fileValues[n] ?? '') !== '');
      if (held.length > 0) {
        const w = worldReadable(envFile, held.join(', '));
        if (w) warnings.push(w);
      }
    } catch (err) {
      problems.push(
        `MUTT_ENV_FILE="${candidate}": cannot read the env file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
  }
  const lookup = (name: string): { raw: string; source: Source } | undefined => {
    const v = env[name];
    if (v !== undefined && v !== '') return { raw: v, source: 'environment' };
    const f = fileValues[name];
    if (f !== undefined && f !== '') return { raw: f, source: 'env file' };
    return undefined;
  };

  // 2. Every declared variable; secrets by precedence (credential, <NAME>_FILE, <NAME>).
  const credentialsDir = env.CREDENTIALS_DIRECTORY || undefined;
  const local = readLocalSecrets((n) => lookup(n)?.raw, credentialsDir);
  problems.push(...local.problems);
  const merged = mergeLayers(local);
  for (const sh of merged.shadowed) warnings.push(shadowWarning(sh));
  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const secretFiles: Partial<Record<SecretName, string>> = {};
  for (const [name, spec] of Object.entries(schema) as [VarName, VarSpec<unknown>][]) {
    let found = lookup(name);
    if (spec.secret) {
      const secretName = name as SecretName;
      const layer = merged.sources[secretName];
      const value = merged.values[secretName];
      found =
        layer === undefined || value === undefined
          ? undefined
          : layer === 'environment'
            ? found
            : { raw: value, source: layer === 'credential' ? 'credential' : 'file' };
      if (layer === 'file' && local.files[secretName] !== undefined) {
        const file = local.files[secretName];
        const w = worldReadable(file, name);
        if (w) warnings.push(w);
        secretFiles[secretName] = resolve(file);
      }
    }
    if (!found) {
      values[name] = spec.default;
      sources[name] = 'default';
      continue;
    }
    const parsed = spec.parse(found.raw.trim());
    if (parsed.ok) {
      values[name] = parsed.value;
      sources[name] = found.source;
    } else {
      problems.push(`${show(name, found.raw, spec.secret === true)}: expected ${parsed.expected}`);
      values[name] = spec.default;
      sources[name] = 'default';
    }
  }
  const v = values as unknown as Vars;

  // 3. Unknown names. Every name in the env file is meant for MUTT (or for Node.js and the C library,
  // which systemd passes the same file to), so an unknown one is a typo that would silently do
  // nothing: a problem, with the closest known name. In the process environment, which holds
  // everything else too, only unknown MUTT_* names are reported, as warnings.
  const knownNames = [...Object.keys(schema), 'MUTT_ENV_FILE', ...SECRET_NAMES.map((s) => `${s}_FILE`)];
  const known = new Set<string>(knownNames);
  for (const name of Object.keys(fileValues)) {
    if (known.has(name) || PASS_THROUGH.test(name)) continue;
    problems.push(`${envFile ?? candidate}: ${name}: unknown variable${didYouMean(name, knownNames)}`);
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('MUTT_') && !known.has(name) && !(name in fileValues))
      warnings.push(`${name}: unknown variable (ignored)${didYouMean(name, knownNames)}`);
  }

  // 4. Cross-field checks.
  /** A file the variable names must be readable by MUTT's user. */
  const readable = (name: VarName, p: string | undefined) => {
    if (p === undefined) return;
    try {
      accessSync(p, constants.R_OK);
    } catch (err) {
      problems.push(`${name}="${p}": cannot read the file (${(err as NodeJS.ErrnoException).code})`);
    }
  };
  const set = (n: VarName) => sources[n] !== 'default';
  if (set('REDIS_URL') && set('REDIS_HOST'))
    problems.push('REDIS_URL and REDIS_HOST are both set: use one of them');
  if (v.REDIS_SENTINELS.length > 0 && (set('REDIS_URL') || set('REDIS_HOST'))) {
    problems.push(
      'REDIS_SENTINELS is set together with REDIS_URL or REDIS_HOST: Sentinel discovers the master itself',
    );
  }
  for (const [ca, tls] of [
    ['REDIS_CA_CERT_PATH', 'REDIS_TLS_ENABLED'],
    ['DB_TLS_CA_CERT_PATH', 'DB_TLS_ENABLED'],
  ] as const) {
    const p = v[ca];
    if (p === undefined) continue;
    if (!v[tls]) warnings.push(`${ca} is set but ${tls} is false: the CA certificate is not used`);
    else if (!existsSync(p)) problems.push(`${ca}="${p}": file not found`);
  }
  if (v.DB_HOST !== undefined) {
    const hosts = parsePgHosts(v.DB_HOST, v.DB_PORT);
    if (typeof hosts === 'string')
      problems.push(
        `DB_HOST="${v.DB_HOST}": ${hosts} (expected a host, an address, a socket directory, or a comma-separated list of host or host:port)`,
      );
  }
  if (
    v.REDIS_MIN_REPLICAS_ACK > 0 &&
    !set('REDIS_URL') &&
    !set('REDIS_HOST') &&
    v.REDIS_SENTINELS.length === 0
  ) {
    problems.push(
      `REDIS_MIN_REPLICAS_ACK="${v.REDIS_MIN_REPLICAS_ACK}": the embedded Redis has no replicas, so nothing could be acknowledged; set REDIS_SENTINELS (or REDIS_HOST) to a Redis with replicas, or leave it at 0`,
    );
  }
  if (v.DB_POOL_MIN_CONN > v.DB_POOL_MAX_CONN) {
    problems.push(
      `DB_POOL_MIN_CONN="${v.DB_POOL_MIN_CONN}": expected at most DB_POOL_MAX_CONN (${v.DB_POOL_MAX_CONN})`,
    );
  }
  if (v.MOOG_RETRY_BASE_DELAY > v.MOOG_RETRY_MAX_DELAY) {
    problems.push(
      `MOOG_RETRY_BASE_DELAY="${v.MOOG_RETRY_BASE_DELAY}": expected at most MOOG_RETRY_MAX_DELAY (${v.MOOG_RETRY_MAX_DELAY})`,
    );
  }
  if (v.MOOG_WEBHOOK_URL !== undefined) {
    const mode = v.MOOG_AUTH_MODE ?? (v.MOOG_API_KEY !== undefined ? 'bearer' : 'none');
    // With Vault the key may come from there: checked once Vault has been read (./secrets.ts).
    if (mode !== 'none' && v.MOOG_API_KEY === undefined && v.VAULT_ADDR === undefined)
      problems.push(`MOOG_AUTH_MODE="${mode}": needs MOOG_API_KEY (or MOOG_API_KEY_FILE)`);
    if (mode === 'basic' && v.MOOG_USERNAME === undefined)
      problems.push('MOOG_AUTH_MODE="basic": needs MOOG_USERNAME');
    const https = v.MOOG_WEBHOOK_URL.startsWith('https:');
    if (mode !== 'none' && !https)
      warnings.push('MOOG_WEBHOOK_URL is not https: the Moogsoft credential travels in clear text');
    if (v.MOOG_CA_FILE !== undefined && !existsSync(v.MOOG_CA_FILE))
      problems.push(`MOOG_CA_FILE="${v.MOOG_CA_FILE}": file not found`);
    if (!v.MOOG_TLS_VERIFY && https)
      warnings.push('MOOG_TLS_VERIFY is false: the Moogsoft certificate is not checked');
  } else if (v.MOOG_HEALTH_URL !== undefined) {
    warnings.push('MOOG_HEALTH_URL is set but MOOG_WEBHOOK_URL is not: alerts go to the local file sink');
  }
  const shedProblem = shedThresholdProblem(v.ALERTER_QUEUE_SHED_THRESHOLD, v.ALERTER_BATCH_SIZE);
  if (shedProblem)
    problems.push(`ALERTER_QUEUE_SHED_THRESHOLD="${v.ALERTER_QUEUE_SHED_THRESHOLD}": ${shedProblem}`);
  else if (v.ALERTER_QUEUE_WARN_THRESHOLD > v.ALERTER_QUEUE_SHED_THRESHOLD)
    warnings.push(
      `ALERTER_QUEUE_WARN_THRESHOLD="${v.ALERTER_QUEUE_WARN_THRESHOLD}" is above ALERTER_QUEUE_SHED_THRESHOLD (${v.ALERTER_QUEUE_SHED_THRESHOLD}): the alerter defers or sheds before it warns`,
    );
  if (v.CIRCUIT_BREAKER_INITIAL_TIMEOUT > v.CIRCUIT_BREAKER_TIMEOUT)
    problems.push(
      `CIRCUIT_BREAKER_INITIAL_TIMEOUT="${v.CIRCUIT_BREAKER_INITIAL_TIMEOUT}": expected at most CIRCUIT_BREAKER_TIMEOUT (${v.CIRCUIT_BREAKER_TIMEOUT}), the longest wait between probes`,
    );
  for (const [ttl, beat] of [
    ['ALERTER_JANITOR_TIMEOUT', 'ALERTER_HEARTBEAT_INTERVAL'],
    ['MOOG_JANITOR_TIMEOUT', 'MOOG_HEARTBEAT_INTERVAL'],
  ] as const) {
    if (v[ttl] <= v[beat]) {
      problems.push(
        `${ttl}="${v[ttl]}": expected more than ${beat} (${v[beat]}), or heartbeats expire between beats`,
      );
    }
  }
  const tcpPorts: [VarName, number][] = (
    ['SERVER_PORT_INGESTOR', 'SERVER_PORT_WEBUI', 'SYSLOG_TCP_PORT', 'SYSLOG_TLS_PORT'] as const
  ).map((n) => [n, v[n]]);
  const udpPorts: [VarName, number][] = (['SYSLOG_UDP_PORT', 'SNMP_TRAP_PORT'] as const).map((n) => [
    n,
    v[n],
  ]);
  for (const group of [tcpPorts, udpPorts]) {
    for (let a = 0; a < group.length; a++) {
      for (let b = a + 1; b < group.length; b++) {
        const [na, pa] = group[a]!;
        const [nb, pb] = group[b]!;
        if (pa !== 0 && pa === pb) problems.push(`${nb}="${pb}": the same port as ${na}`);
      }
    }
  }
  if (v.SYSLOG_TLS_PORT !== 0) {
    const cert = v.SYSLOG_TLS_CERT;
    const key = v.SYSLOG_TLS_KEY;
    if ((cert === undefined) !== (key === undefined))
      problems.push(
        `${cert === undefined ? 'SYSLOG_TLS_KEY' : 'SYSLOG_TLS_CERT'} is set without ${cert === undefined ? 'SYSLOG_TLS_CERT' : 'SYSLOG_TLS_KEY'}: the TLS listener needs both`,
      );
    else if (cert === undefined && set('SYSLOG_TLS_PORT'))
      warnings.push(
        `SYSLOG_TLS_PORT="${v.SYSLOG_TLS_PORT}" is set but SYSLOG_TLS_CERT and SYSLOG_TLS_KEY are not: the syslog TLS listener is off`,
      );
    for (const name of ['SYSLOG_TLS_CERT', 'SYSLOG_TLS_KEY', 'SYSLOG_TLS_CA'] as const)
      readable(name, v[name]);
  }
  if (!isTimeZone(v.SYSLOG_DEFAULT_TIMEZONE))
    problems.push(
      `SYSLOG_DEFAULT_TIMEZONE="${v.SYSLOG_DEFAULT_TIMEZONE}": not a time zone this system knows (expected an IANA name such as UTC or Europe/Paris)`,
    );
  if (v.VAULT_ADDR !== undefined) {
    if (v.VAULT_ROLE_ID === undefined)
      problems.push(`VAULT_ADDR is set but VAULT_ROLE_ID is not: MUTT logs in to Vault with AppRole`);
    if (!credentialPath(credentialsDir, 'VAULT_SECRET_ID')) {
      const p = checkPrivateFile('VAULT_SECRET_ID_FILE', v.VAULT_SECRET_ID_FILE);
      if (p) problems.push(p);
    }
    readable('VAULT_CACERT', v.VAULT_CACERT);
    if (v.VAULT_ADDR.startsWith('http:') && !/^http:\/\/(127\.|\[::1\]|localhost[:/])/.test(v.VAULT_ADDR))
      warnings.push('VAULT_ADDR is not https: the Vault token and every secret travel in clear text');
  }
  for (const [cert, key] of [
    ['REDIS_TLS_CERT_PATH', 'REDIS_TLS_KEY_PATH'],
    ['DB_TLS_CERT_PATH', 'DB_TLS_KEY_PATH'],
    ['SERVER_TLS_CERT', 'SERVER_TLS_KEY'],
    ['WEBUI_TLS_CERT', 'WEBUI_TLS_KEY'],
  ] as const) {
    if ((v[cert] === undefined) !== (v[key] === undefined))
      problems.push(
        v[cert] === undefined ? `${key} is set without ${cert}` : `${cert} is set without ${key}`,
      );
    for (const name of [cert, key]) readable(name, v[name]);
  }
  for (const [cert, tls] of [
    ['REDIS_TLS_CERT_PATH', 'REDIS_TLS_ENABLED'],
    ['DB_TLS_CERT_PATH', 'DB_TLS_ENABLED'],
  ] as const) {
    if (v[cert] !== undefined && !v[tls])
      warnings.push(`${cert} is set but ${tls} is false: the client certificate is not used`);
  }

  // 5. Derived settings.
  const roles: Role[] = v.MUTT_ROLES.includes('all')
    ? [...ROLES]
    : ROLES.filter((r) => v.MUTT_ROLES.includes(r));
  const uid = opts.uid ?? process.getuid?.() ?? 1000;
  const dataDir = resolve(v.MUTT_DATA_DIR ?? defaultDataDir(env, uid));
  const podName = v.POD_NAME ?? defaultPodName();

  if (problems.length > 0) return { problems, warnings };
  const config: Config = {
    ...v,
    roles,
    dataDir,
    podName,
    embeddedRedis: !set('REDIS_URL') && !set('REDIS_HOST') && v.REDIS_SENTINELS.length === 0,
    embeddedPostgres: !set('DB_HOST'),
    envFile,
    credentialsDir,
    sources: sources as Record<VarName, Source>,
    secretFiles,
  };
  return { config: deepFreeze(config), problems, warnings };
}

/**
 * The default node identity: the host name (characters a pod id cannot hold replaced), the same for
 * every restart of MUTT on this host, so a restarted node takes back its own processing lists.
 */
export function defaultPodName(host = hostname()): string {
  const name = host.replace(/[:\s]/g, '_');
  return name.length > 0 ? name : 'mutt';
}

/**
 * Why an alert-queue shed threshold cannot be used (undefined when it can). Shared by the static
 * variable and the dynamic key `alerter_queue_shed_threshold`.
 */
export function shedThresholdProblem(threshold: number, batchSize: number): string | undefined {
  if (threshold === 0)
    return `expected at least ALERTER_BATCH_SIZE (${batchSize}); 0 would defer or shed every batch, whatever the alert queue holds`;
  if (threshold < batchSize)
    return `expected at least ALERTER_BATCH_SIZE (${batchSize}): one batch can add that many alerts, so a lower threshold defers or sheds after every batch`;
  return undefined;
}

/**
 * Env-file names that are not MUTT's but mean something to the runtime under it: Node.js (NODE_*,
 * UV_*), OpenTelemetry, the C library and OpenSSL (TZ, LANG, LC_*, SSL_CERT_*), proxies.
 */
const PASS_THROUGH =
  /^(NODE_|UV_|OTEL_|LC_)|^(TZ|LANG|LANGUAGE|PATH|HOME|SSL_CERT_FILE|SSL_CERT_DIR|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/;

/** `; did you mean X?` for the closest known name, or '' when none is close. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const upper = name.toUpperCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = c === upper ? 0 : editDistance(upper, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3));
  return best !== undefined && bestDistance <= limit ? `; did you mean ${best}?` : '';
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]!.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]!.push(d);
    }
  }
  return rows[a.length]![b.length]!;
}

/** A warning when `file`, which holds `what`, can be read by every user of the host. */
function worldReadable(file: string, what: string): string | undefined {
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o004) === 0) return undefined;
    return `${file} is readable by every user of this host (mode 0${mode.toString(8)}) and holds ${what}: run "chmod o-rwx ${file}" (the package installs it as 0640 root:mutt)`;
  } catch {
    return undefined;
  }
}

/**
 * A file holding a credential that opens everything else (the Vault secret ID): it must exist and
 * must not be readable by every user. Returns the problem, naming the variable and the remedy.
 */
export function checkPrivateFile(variable: string, file: string): string | undefined {
  try {
    const st = statSync(file);
    if (!st.isFile()) return `${variable}="${file}": not a regular file`;
    if ((st.mode & 0o004) !== 0)
      return `${variable}="${file}": readable by every user (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); run "chmod 600 ${file}" (owner mutt)`;
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return code === 'ENOENT'
      ? `${variable}="${file}": file not found; write the AppRole secret ID there ("vault write -f auth/approle/role/<role>/secret-id"), mode 0600, or give it as the systemd credential VAULT_SECRET_ID`
      : `${variable}="${file}": cannot read the file (${code})`;
  }
}

/** Loads the configuration or throws a ConfigError listing every problem. */
export function loadConfigOrThrow(env?: Record<string, string | undefined>, opts?: LoadOptions): Config {
  const r = loadConfig(env, opts);
  if (!r.config) throw new ConfigError(r.problems);
  return r.config;
}

/** Whether the node's roles use PostgreSQL at all. */
export function needsPostgres(c: Pick<Config, 'roles'>): boolean {
  return hasRole(c, 'alerter') || hasRole(c, 'webui');
}

export function hasRole(config: Pick<Config, 'roles'>, role: Role): boolean {
  return config.roles.includes(role);
}

/** Returns a copy with extra values (secrets resolved later at start-up), frozen again. */
export function withValues(config: Config, extra: Partial<Config>): Config {
  return deepFreeze({ ...config, ...extra });
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const value of Object.values(o)) deepFreeze(value);
  }
  return o;
}
