// Loads the configuration once: env file (systemd syntax) under the process environment, secrets from
// `<NAME>` or `<NAME>_FILE`, every variable parsed against the schema, cross-field checks, then one
// deep-frozen object. All problems are collected so an operator sees every mistake in one run.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnvFile } from './envfile.ts';
import { ROLES, type Role, SECRET_NAMES, schema, type VarName, type Vars } from './schema.ts';
import type { VarSpec } from './spec.ts';
import { isTimeZone } from '../timezone.ts';

export const DEFAULT_ENV_FILE = '/etc/mutt/mutt.env';
/** sysexits.h EX_CONFIG: what `mutt serve` and `mutt validate` exit with on a configuration error. */
export const EXIT_CONFIG = 78;

export type Source = 'environment' | 'env file' | 'file' | 'default';

export interface Config extends Vars {
  readonly roles: readonly Role[];
  readonly dataDir: string;
  readonly podName: string;
  /** No REDIS_HOST / REDIS_URL / REDIS_SENTINELS: MUTT runs a private redis-server. */
  readonly embeddedRedis: boolean;
  /** No DB_HOST: MUTT runs a private PostgreSQL. */
  readonly embeddedPostgres: boolean;
  readonly envFile: string | undefined;
  readonly sources: Readonly<Record<VarName, Source>>;
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
  if (uid === 0) return '/var/lib/mutt';
  const state =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME.length > 0
      ? env.XDG_STATE_HOME
      : join(homedir(), '.local', 'state');
  return join(state, 'mutt');
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

  // 2. Every declared variable.
  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const [name, spec] of Object.entries(schema) as [VarName, VarSpec<unknown>][]) {
    let found = lookup(name);
    if (spec.secret) {
      const fileVar = `${name}_FILE`;
      const fromFile = lookup(fileVar);
      if (found && fromFile) {
        problems.push(`${name} and ${fileVar} are both set: use one of them`);
        found = undefined;
      } else if (fromFile) {
        try {
          const content = readFileSync(fromFile.raw, 'utf8').replace(/\r?\n$/, '');
          if (content.length === 0) problems.push(`${fileVar}="${fromFile.raw}": the file is empty`);
          else found = { raw: content, source: 'file' };
        } catch (err) {
          problems.push(
            `${fileVar}="${fromFile.raw}": cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
          );
        }
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

  // 3. Unknown MUTT_* names are almost always typos.
  const known = new Set<string>([
    ...Object.keys(schema),
    'MUTT_ENV_FILE',
    ...SECRET_NAMES.map((s) => `${s}_FILE`),
  ]);
  for (const name of new Set([...Object.keys(env), ...Object.keys(fileValues)])) {
    if (name.startsWith('MUTT_') && !known.has(name)) warnings.push(`${name}: unknown variable (ignored)`);
  }

  // 4. Cross-field checks.
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
    if (mode !== 'none' && v.MOOG_API_KEY === undefined)
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
    for (const name of ['SYSLOG_TLS_CERT', 'SYSLOG_TLS_KEY', 'SYSLOG_TLS_CA'] as const) {
      const p = v[name];
      if (p === undefined) continue;
      try {
        accessSync(p, constants.R_OK);
      } catch (err) {
        problems.push(`${name}="${p}": cannot read the file (${(err as NodeJS.ErrnoException).code})`);
      }
    }
  }
  if (!isTimeZone(v.SYSLOG_DEFAULT_TIMEZONE))
    problems.push(
      `SYSLOG_DEFAULT_TIMEZONE="${v.SYSLOG_DEFAULT_TIMEZONE}": not a time zone this system knows (expected an IANA name such as UTC or Europe/Paris)`,
    );
  if (v.VAULT_ADDR !== undefined) {
    problems.push(
      `VAULT_ADDR="${v.VAULT_ADDR}": this MUTT version reads secrets from variables and <NAME>_FILE files only; unset VAULT_ADDR and supply the secrets that way`,
    );
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
    sources: sources as Record<VarName, Source>,
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
export function withValues(config: Config, extra: Partial<Vars>): Config {
  return deepFreeze({ ...config, ...extra });
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const value of Object.values(o)) deepFreeze(value);
  }
  return o;
}
