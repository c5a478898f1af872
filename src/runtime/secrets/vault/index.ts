// MUTT's secrets from HashiCorp Vault, the way Python MUTT 2.x keeps them: AppRole login
// (VAULT_ROLE_ID + the secret ID in VAULT_SECRET_ID_FILE or the VAULT_SECRET_ID credential), one KV v2
// secret (VAULT_SECRETS_PATH, keys named like the variables), a token renewed when its TTL falls
// below VAULT_TOKEN_RENEW_THRESHOLD (checked every VAULT_RENEW_CHECK_INTERVAL).
//
//   start():  login ─► read KV ─► values          (retried until VAULT_STARTUP_TIMEOUT when Vault is
//                                                  unreachable or sealed; a refused login, a missing
//                                                  path or a denied read stops at once, naming it)
//   watch():  every VAULT_RENEW_CHECK_INTERVAL   lookup-self → renew-self below the threshold;
//                                                  renewal refused or max TTL reached → login again
//             every VAULT_SECRET_CHECK_INTERVAL  KV metadata current_version changed → read, apply
//
// One watcher per process, on the main thread: one token, one login per renewal cycle (a secret ID
// limited by secret_id_num_uses is not spent by every worker), and every thread switches to a new
// version together (the daemon posts the values to the workers). A Vault outage never stops a
// running MUTT: it keeps the secrets it has, retries with capped backoff, and says so in the logs and
// in mutt_vault_up / mutt_vault_token_renew_failures_total.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../../config/load.ts';
import { SECRET_NAMES } from '../../config/schema.ts';
import { StartupError } from '../../listen.ts';
import { type Logger, LogLimiter } from '../../logging.ts';
import { abortableSleep } from '../../sleep.ts';
import { describeTlsError } from '../../tls.ts';
import { credentialPath, readSecretFile } from '../local.ts';
import { splitKvPath, VaultClient, VaultError } from './client.ts';

export { VaultClient, VaultError, splitKvPath } from './client.ts';

/** Keys MUTT takes from the KV secret: every secret variable, and DB_USER (Python MUTT's layout). */
export const VAULT_KEYS = [...SECRET_NAMES, 'DB_USER'] as const;
export type VaultKey = (typeof VAULT_KEYS)[number];
export type VaultValues = Partial<Record<VaultKey, string>>;

/** sysexits.h EX_UNAVAILABLE: Vault could not be reached in time. */
const EXIT_UNAVAILABLE = 69;

export type VaultConfig = Pick<
  Config,
  | 'VAULT_ADDR'
  | 'VAULT_ROLE_ID'
  | 'VAULT_SECRET_ID_FILE'
  | 'VAULT_SECRETS_PATH'
  | 'VAULT_NAMESPACE'
  | 'VAULT_CACERT'
  | 'VAULT_APPROLE_MOUNT'
  | 'VAULT_TOKEN_RENEW_THRESHOLD'
  | 'VAULT_RENEW_CHECK_INTERVAL'
  | 'VAULT_SECRET_CHECK_INTERVAL'
  | 'VAULT_STARTUP_TIMEOUT'
  | 'credentialsDir'
>;

export interface VaultMetrics {
  up: Gauge;
  ttl: Gauge;
  renewFailures: Counter;
  reads: Counter<'result'>;
  logins: Counter<'result'>;
}

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** `ttlLeft`: seconds left on the token now (the gauge counts down between checks). */
export function createVaultMetrics(registry: Registry, ttlLeft?: () => number | undefined): VaultMetrics {
  return {
    up: metric(
      registry,
      'mutt_vault_up',
      () =>
        new Gauge({
          name: 'mutt_vault_up',
          help: '1 when the last call to Vault succeeded, 0 when it failed (MUTT keeps the secrets it has)',
          registers: [registry],
        }),
    ),
    ttl: metric(
      registry,
      'mutt_vault_token_ttl_seconds',
      () =>
        new Gauge({
          name: 'mutt_vault_token_ttl_seconds',
          help: 'Seconds left on the Vault token (counting down from the last login, lookup or renewal)',
          registers: [registry],
          collect() {
            const left = ttlLeft?.();
            if (left !== undefined) this.set(left);
          },
        }),
    ),
    renewFailures: metric(
      registry,
      'mutt_vault_token_renew_failures_total',
      () =>
        new Counter({
          name: 'mutt_vault_token_renew_failures_total',
          help: 'Failed attempts to keep the Vault token alive: Vault did not answer the check or the renewal, or refused it and the re-login failed too',
          registers: [registry],
        }),
    ),
    reads: metric(
      registry,
      'mutt_vault_secret_reads_total',
      () =>
        new Counter({
          name: 'mutt_vault_secret_reads_total',
          help: 'Reads of the KV secret at VAULT_SECRETS_PATH by result (success, failure)',
          labelNames: ['result'],
          registers: [registry],
        }),
    ),
    logins: metric(
      registry,
      'mutt_vault_logins_total',
      () =>
        new Counter({
          name: 'mutt_vault_logins_total',
          help: 'AppRole logins by result (success, failure)',
          labelNames: ['result'],
          registers: [registry],
        }),
    ),
  };
}

export interface VaultSecretsOptions {
  log: Logger;
  registry: Registry;
  /** Called with every new version of the KV secret (already checked by `validate`). */
  onChange?: (values: VaultValues, version: number) => void;
  /** Refuses a version (returns the problem) before it is applied. */
  validate?: (values: VaultValues) => string | undefined;
}

export class VaultSecrets {
  private readonly c: VaultConfig;
  private readonly o: VaultSecretsOptions;
  readonly client: VaultClient;
  readonly metrics: VaultMetrics;
  private readonly kv: { mount: string; path: string };
  private readonly abort = new AbortController();
  private readonly limiter = new LogLimiter(60_000);
  private version = 0;
  private useMetadata = true;
  private loggedIn = false;
  private loops: Promise<void>[] = [];
  /** When the token expires (ms), from the last login, lookup or renewal. */
  private tokenExpiresAt?: number;
  private watching = false;
  private wake?: () => void;

  constructor(c: VaultConfig, o: VaultSecretsOptions) {
    if (!c.VAULT_ADDR) throw new Error('VAULT_ADDR is not set');
    this.c = c;
    this.o = o;
    this.client = new VaultClient({
      addr: c.VAULT_ADDR,
      namespace: c.VAULT_NAMESPACE,
      caFile: c.VAULT_CACERT,
    });
    this.metrics = createVaultMetrics(o.registry, () =>
      this.tokenExpiresAt === undefined
        ? undefined
        : Math.max(0, Math.floor((this.tokenExpiresAt - Date.now()) / 1000)),
    );
    this.kv = splitKvPath(c.VAULT_SECRETS_PATH);
  }

  /** The KV version last applied. */
  get currentVersion(): number {
    return this.version;
  }

  private readonly ms = 1000;

  /** Where the secret ID comes from, for messages. */
  secretIdSource(): string {
    const cred = credentialPath(this.c.credentialsDir, 'VAULT_SECRET_ID');
    return cred
      ? `the systemd credential VAULT_SECRET_ID`
      : `VAULT_SECRET_ID_FILE="${this.c.VAULT_SECRET_ID_FILE}"`;
  }

  /** Read at every login, so a new secret ID in the file is used without a restart. */
  private readSecretId(): string {
    const cred = credentialPath(this.c.credentialsDir, 'VAULT_SECRET_ID');
    const file = cred ?? this.c.VAULT_SECRET_ID_FILE;
    let id: string;
    try {
      id = readSecretFile(file).trim();
    } catch (err) {
      throw new VaultError(
        'invalid',
        `${this.secretIdSource()}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    if (id.length === 0) throw new VaultError('invalid', `${this.secretIdSource()}: the file is empty`);
    return id;
  }

  private describe(err: unknown): string {
    const e = err as VaultError;
    const tls = describeTlsError(e.cause ?? e, {
      service: 'Vault',
      host: new URL(this.c.VAULT_ADDR!).hostname,
      caVar: 'VAULT_CACERT',
      ca: this.c.VAULT_CACERT,
      certVar: 'VAULT_CACERT',
    });
    return tls ?? e.message ?? String(err);
  }

  private setTtl(seconds: number): void {
    this.metrics.ttl.set(seconds);
    // A token without expiry (ttl 0) keeps the gauge at 0.
    this.tokenExpiresAt = seconds > 0 ? Date.now() + seconds * 1000 : undefined;
  }

  /** Whether the last call succeeded; transitions are always logged (repeats are rate-limited). */
  private up = true;

  private ok(): void {
    this.metrics.up.set(1);
    if (!this.up && this.watching) this.o.log.info({ vault: this.client.address }, 'Vault answers again');
    this.up = true;
  }

  private failed(err?: unknown): void {
    this.metrics.up.set(0);
    if (this.up && this.watching && err !== undefined)
      this.o.log.warn(
        { vault: this.client.address, reason: this.describe(err) },
        'Vault stopped answering: MUTT keeps running on the secrets it has and retries with backoff',
      );
    this.up = false;
  }

  async login(): Promise<void> {
    try {
      const r = await this.client.login(
        this.c.VAULT_APPROLE_MOUNT,
        this.c.VAULT_ROLE_ID ?? '',
        this.readSecretId(),
      );
      this.metrics.logins.inc({ result: 'success' });
      this.setTtl(r.leaseDuration);
      this.loggedIn = true;
      this.ok();
      this.o.log.info(
        { vault: this.client.address, ttl_seconds: r.leaseDuration, renewable: r.renewable },
        'logged in to Vault (AppRole)',
      );
    } catch (err) {
      this.metrics.logins.inc({ result: 'failure' });
      this.failed();
      throw err;
    }
  }

  /** Reads the KV secret; returns its values (only the keys MUTT knows) and version. */
  async read(): Promise<{ values: VaultValues; version: number; ignored: string[] }> {
    let s;
    try {
      s = await this.client.readKv(this.kv.mount, this.kv.path);
      this.metrics.reads.inc({ result: 'success' });
      this.ok();
    } catch (err) {
      this.metrics.reads.inc({ result: 'failure' });
      this.failed();
      throw err;
    }
    const values: VaultValues = {};
    const ignored: string[] = [];
    for (const [k, v] of Object.entries(s.data)) {
      if (!(VAULT_KEYS as readonly string[]).includes(k)) {
        ignored.push(k);
        continue;
      }
      if (v === null || v === undefined || v === '') continue;
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
        throw new VaultError(
          'server',
          `"${this.c.VAULT_SECRETS_PATH}" key ${k}: expected a string, found ${Array.isArray(v) ? 'a list' : 'an object'}`,
        );
      values[k as VaultKey] = String(v);
    }
    return { values, version: s.version, ignored };
  }

  /**
   * Start-up: logs in and reads the secret, retrying an unreachable or sealed Vault for
   * VAULT_STARTUP_TIMEOUT seconds. Throws a StartupError naming the reason.
   */
  async start(signal?: AbortSignal): Promise<{ values: VaultValues; version: number }> {
    const deadline = Date.now() + this.c.VAULT_STARTUP_TIMEOUT * this.ms;
    const where = `Vault at ${this.client.address}`;
    for (let attempt = 1; ; attempt++) {
      try {
        if (!this.loggedIn) await this.login();
        const r = await this.read();
        this.version = r.version;
        this.o.log.info(
          {
            vault: this.client.address,
            path: this.c.VAULT_SECRETS_PATH,
            version: r.version,
            keys: Object.keys(r.values).sort(),
            ...(r.ignored.length > 0 ? { ignored_keys: r.ignored.sort() } : {}),
          },
          'read the MUTT secrets from Vault',
        );
        return { values: r.values, version: r.version };
      } catch (err) {
        if (!(err instanceof VaultError)) throw err;
        switch (err.kind) {
          case 'invalid':
            throw new StartupError(
              err.status === 400
                ? `${where} refused the AppRole login (${err.message.replace(/^POST \S+: 400 /, '')}): check VAULT_ROLE_ID and the secret ID in ${this.secretIdSource()} (a secret ID expires with secret_id_ttl or secret_id_num_uses; make a new one with "vault write -f auth/approle/role/<role>/secret-id")`
                : err.message,
            );
          case 'denied':
            if (!this.loggedIn)
              throw new StartupError(
                `${where} denied the AppRole login (${err.message}): check VAULT_APPROLE_MOUNT and VAULT_NAMESPACE`,
              );
            throw new StartupError(
              `${where} denied reading VAULT_SECRETS_PATH="${this.c.VAULT_SECRETS_PATH}" (${err.message}): the AppRole's policy needs "read" on ${this.kv.mount}/data/${this.kv.path}`,
            );
          case 'not_found':
            throw new StartupError(
              this.loggedIn
                ? `VAULT_SECRETS_PATH="${this.c.VAULT_SECRETS_PATH}": no such secret in ${where} (KV v2 mount "${this.kv.mount}", path "${this.kv.path}"): create it with "vault kv put ${this.c.VAULT_SECRETS_PATH} …"`
                : `${where}: no AppRole auth method at "auth/${this.c.VAULT_APPROLE_MOUNT}" (VAULT_APPROLE_MOUNT): ${err.message}`,
            );
          default: {
            const reason = this.describe(err);
            const left = deadline - Date.now();
            if (left <= 0 || signal?.aborted)
              throw new StartupError(
                `${where} is ${err.kind === 'sealed' ? 'sealed' : 'unreachable'} (${reason}); gave up after VAULT_STARTUP_TIMEOUT=${this.c.VAULT_STARTUP_TIMEOUT} s: start-up stopped`,
                EXIT_UNAVAILABLE,
              );
            const delay = Math.min(left, Math.min(5, 0.5 * 2 ** Math.min(attempt - 1, 4)) * this.ms);
            this.o.log.warn(
              { vault: this.client.address, attempt, retry_in_ms: Math.round(delay), reason },
              err.kind === 'sealed' ? 'Vault is sealed: waiting for it' : 'waiting for Vault',
            );
            await abortableSleep(delay, signal);
          }
        }
      }
    }
  }

  /** Starts the renewal and version-check loops (after start()). */
  watch(): void {
    this.watching = true;
    this.loops.push(this.tokenLoop(), this.secretLoop());
  }

  /** SIGHUP: log in again (a new secret ID in the file) and read the secret now. */
  refresh(): void {
    this.loggedIn = false;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('stopping'));
    this.wake?.();
    await Promise.allSettled(this.loops);
  }

  private warn(key: string, obj: object, msg: string, level: 'warn' | 'error' = 'warn'): void {
    const suppressed = this.limiter.take(key);
    if (suppressed >= 0) this.o.log[level]({ ...obj, suppressed }, msg);
  }

  /** Keeps the token alive: renew below the threshold, log in again when that is not possible. */
  private async tokenLoop(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      let next = this.c.VAULT_RENEW_CHECK_INTERVAL * this.ms;
      try {
        const ttl = await this.checkToken();
        failures = 0;
        // Never sleep past half of what is left on the token.
        if (ttl > 0) next = Math.min(next, Math.max(1, ttl / 2) * this.ms);
      } catch (err) {
        failures++;
        this.metrics.renewFailures.inc();
        this.failed(err);
        next = Math.min(next, Math.min(60, 2 ** Math.min(failures - 1, 6)) * this.ms);
        this.warn(
          'token',
          { vault: this.client.address, reason: this.describe(err), retry_in_ms: Math.round(next) },
          'Vault token renewal failed: MUTT keeps running on the secrets it has and retries',
          failures > 3 ? 'error' : 'warn',
        );
      }
      await abortableSleep(next, signal).catch(() => {});
    }
  }

  /** One check; returns the seconds left on the token. */
  private async checkToken(): Promise<number> {
    if (!this.loggedIn) {
      await this.login();
      this.wake?.();
    }
    let info;
    try {
      info = await this.client.lookupSelf();
      this.ok();
    } catch (err) {
      if (err instanceof VaultError && err.kind === 'denied') {
        // Expired or revoked: a new token.
        this.o.log.warn(
          { vault: this.client.address, reason: err.message },
          'the Vault token is no longer valid: logging in again',
        );
        this.loggedIn = false;
        await this.login();
        this.wake?.();
        return (await this.client.lookupSelf()).ttl;
      }
      throw err;
    }
    this.setTtl(info.ttl);
    // A token created without a TTL (creation_ttl 0) never expires; ttl 0 otherwise means "now".
    const neverExpires = info.ttl === 0 && info.creationTtl === 0;
    if (neverExpires || info.ttl >= this.c.VAULT_TOKEN_RENEW_THRESHOLD) return info.ttl;
    if (!info.renewable) {
      this.o.log.info({ ttl_seconds: info.ttl }, 'the Vault token is not renewable: logging in again');
      this.loggedIn = false;
      await this.login();
      return (await this.client.lookupSelf()).ttl;
    }
    try {
      const r = await this.client.renewSelf();
      this.setTtl(r.leaseDuration);
      this.ok();
      const floor = Math.min(this.c.VAULT_TOKEN_RENEW_THRESHOLD, info.creationTtl);
      if (r.leaseDuration < floor) {
        this.o.log.info(
          { ttl_seconds: r.leaseDuration, warnings: r.warnings },
          'the Vault token reached its max TTL: logging in again',
        );
        this.loggedIn = false;
        await this.login();
        return (await this.client.lookupSelf()).ttl;
      }
      this.o.log.debug({ ttl_seconds: r.leaseDuration }, 'Vault token renewed');
      return r.leaseDuration;
    } catch (err) {
      if (!(err instanceof VaultError) || err.kind === 'unreachable' || err.kind === 'sealed') throw err;
      this.o.log.warn(
        { vault: this.client.address, reason: err.message },
        'Vault refused to renew the token: logging in again',
      );
      this.loggedIn = false;
      await this.login();
      return (await this.client.lookupSelf()).ttl;
    }
  }

  /** Applies every new version of the KV secret. */
  private async secretLoop(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      let next = this.c.VAULT_SECRET_CHECK_INTERVAL * this.ms;
      try {
        await this.checkSecret();
        failures = 0;
      } catch (err) {
        failures++;
        this.failed(err);
        next = Math.min(next, Math.min(60, 2 ** Math.min(failures - 1, 6)) * this.ms);
        this.warn(
          'secret',
          {
            vault: this.client.address,
            path: this.c.VAULT_SECRETS_PATH,
            reason: this.describe(err),
            retry_in_ms: Math.round(next),
          },
          'checking the Vault secret for a new version failed: MUTT keeps the secrets it has and retries',
        );
      }
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const t = setTimeout(resolve, next);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async checkSecret(): Promise<void> {
    if (!this.loggedIn) await this.login();
    let version: number | undefined;
    if (this.useMetadata) {
      try {
        version = await this.client.readKvVersion(this.kv.mount, this.kv.path);
        this.ok();
      } catch (err) {
        // A policy that grants data/ but not metadata/ (Python MUTT's): compare the data's version.
        if (err instanceof VaultError && err.kind === 'denied') {
          this.useMetadata = false;
          this.o.log.info(
            { path: `${this.kv.mount}/metadata/${this.kv.path}` },
            'the Vault policy does not allow reading the secret metadata: checking the version by reading the secret',
          );
        } else throw err;
      }
      if (version !== undefined && version === this.version) return;
    }
    const r = await this.read();
    if (r.version === this.version) return;
    const problem = this.o.validate?.(r.values);
    if (problem) {
      this.warn(
        `refused:${r.version}`,
        { path: this.c.VAULT_SECRETS_PATH, version: r.version, in_use: this.version },
        `version ${r.version} of the Vault secret is not applied: ${problem}; MUTT keeps version ${this.version}`,
        'error',
      );
      return;
    }
    const previous = this.version;
    this.version = r.version;
    this.o.log.info(
      { path: this.c.VAULT_SECRETS_PATH, version: r.version, previous, keys: Object.keys(r.values).sort() },
      'a new version of the Vault secret: applying it',
    );
    this.o.onChange?.(r.values, r.version);
  }
}
