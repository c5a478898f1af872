// Zero-downtime password rotation (docs/SECURITY.md, "Rotating the Redis and PostgreSQL
// passwords"): a connection authenticates with `<X>_PASS_CURRENT` (or the plain `<X>_PASS`) and, when
// the server refuses it, with `<X>_PASS_NEXT`. The preference is shared by every connection of a
// thread: once one connection found that the server moved to NEXT, the next connections try NEXT
// first. A change of the secrets (Vault, SIGHUP) starts again from CURRENT.
//
// Messages name the secret that was refused, never its value.
import { Counter, type Registry } from 'prom-client';
import type { SecretName } from '../config/schema.ts';
import { type Logger, LogLimiter } from '../logging.ts';
import type { SecretStore } from './store.ts';

export interface Candidate {
  name: SecretName;
  value: string;
}

export interface PasswordNames {
  current: SecretName;
  next: SecretName;
  plain: SecretName;
}

export const REDIS_PASSWORDS: PasswordNames = {
  current: 'REDIS_PASS_CURRENT',
  next: 'REDIS_PASS_NEXT',
  plain: 'REDIS_PASS',
};
export const DB_PASSWORDS: PasswordNames = {
  current: 'DB_PASS_CURRENT',
  next: 'DB_PASS_NEXT',
  plain: 'DB_PASS',
};

const REFUSED_METRIC = 'mutt_secret_refused_total';

export interface PasswordPairOptions {
  store: SecretStore;
  names: PasswordNames;
  /** `Redis` or `PostgreSQL`, for messages. */
  service: string;
  /** The user the passwords belong to, for messages. */
  user: string | undefined;
  log: Logger;
  registry?: Registry;
}

/** The CURRENT/NEXT pair of one service in one thread. */
export class PasswordPair {
  private readonly o: PasswordPairOptions;
  private preferred: SecretName | undefined;
  private readonly refusedSinceSuccess = new Set<SecretName>();
  private readonly limiter = new LogLimiter(30_000);
  private readonly refusedTotal?: Counter<'service' | 'secret'>;
  private listeners = new Set<() => void>();
  /** Set when every candidate was refused since the last success. */
  problem: string | undefined;

  constructor(o: PasswordPairOptions) {
    this.o = o;
    if (o.registry) {
      this.refusedTotal =
        (o.registry.getSingleMetric(REFUSED_METRIC) as Counter<'service' | 'secret'> | undefined) ??
        new Counter({
          name: REFUSED_METRIC,
          help: 'Passwords a server refused at authentication, by service and secret name (a rotation in progress, or a wrong secret)',
          labelNames: ['service', 'secret'],
          registers: [o.registry],
        });
    }
    o.store.onChange((changed) => {
      const n = o.names;
      if (!changed.some((c) => c === n.current || c === n.next || c === n.plain)) return;
      this.preferred = undefined;
      this.refusedSinceSuccess.clear();
      this.problem = undefined;
      for (const l of this.listeners) l();
    });
  }

  /** CURRENT (or the plain password), then NEXT; the same value once only. */
  candidates(): Candidate[] {
    const { store, names } = this.o;
    const out: Candidate[] = [];
    const cur = store.get(names.current);
    const first: Candidate | undefined =
      cur !== undefined
        ? { name: names.current, value: cur }
        : store.get(names.plain) !== undefined
          ? { name: names.plain, value: store.get(names.plain)! }
          : undefined;
    if (first) out.push(first);
    const next = store.get(names.next);
    if (next !== undefined && next !== first?.value) out.push({ name: names.next, value: next });
    return out;
  }

  /** The password a new connection should try now (undefined: no password configured). */
  current(): Candidate | undefined {
    const c = this.candidates();
    return c.find((x) => x.name === this.preferred) ?? c[0];
  }

  /** Called when the values change (to update connections that hold a copy). */
  onChange(fn: () => void): void {
    this.listeners.add(fn);
  }

  /**
   * The server refused `used`. Returns the candidate to try next, or undefined when every one has
   * been refused since the last success (the caller then retries with backoff from CURRENT).
   */
  refused(used: Candidate | undefined, detail: string): Candidate | undefined {
    const cands = this.candidates();
    if (!used || cands.length === 0) {
      this.problem = `${this.o.service} requires a password for ${this.who()} and none is configured (${this.o.names.current} or ${this.o.names.plain}): ${detail}`;
      this.warn('none', this.problem);
      return undefined;
    }
    this.refusedTotal?.inc({ service: this.o.service.toLowerCase(), secret: used.name });
    this.refusedSinceSuccess.add(used.name);
    const left = cands.filter((c) => !this.refusedSinceSuccess.has(c.name));
    if (left.length > 0) {
      const next = left[0]!;
      this.preferred = next.name;
      this.warn(
        `fallback:${used.name}`,
        `${this.o.service} refused ${used.name} for ${this.who()}: trying ${next.name}${next.name === this.o.names.next ? ` (to finish a rotation, make the new password ${this.o.names.current} and remove ${this.o.names.next})` : ''}`,
      );
      return next;
    }
    const refused = cands.map((c) => c.name).join(' and ');
    this.problem = `${this.o.service} refused ${refused} for ${this.who()} (${detail}): set the right password in ${cands.length > 1 ? 'one of them' : refused}`;
    this.warn('exhausted', this.problem, 'error');
    // Start again from CURRENT at the next attempt (the server may get the password back).
    this.refusedSinceSuccess.clear();
    this.preferred = undefined;
    return undefined;
  }

  /** A connection authenticated with `used`. */
  accepted(used: Candidate | undefined): void {
    this.refusedSinceSuccess.clear();
    this.problem = undefined;
    if (used) this.preferred = used.name;
  }

  private who(): string {
    return this.o.user ? `user "${this.o.user}"` : 'the default user';
  }

  private warn(key: string, msg: string, level: 'warn' | 'error' = 'warn'): void {
    const suppressed = this.limiter.take(key);
    if (suppressed >= 0) this.o.log[level]({ service: this.o.service, suppressed }, msg);
  }
}

/** Redis answers a wrong password with WRONGPASS (ACL) or "invalid password" (Redis 5). */
export function isRedisAuthError(err: Error): boolean {
  return /^(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i.test(err.message);
}

/** PostgreSQL: 28P01 invalid_password (also for an unknown role under password authentication). */
export function isPgAuthError(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === '28P01';
}
