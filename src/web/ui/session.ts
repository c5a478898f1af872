// Browser sessions for the admin UI: the operator signs in once with the admin API key (the same
// constant-time check as the API: WEBUI_API_KEY, then WEBUI_API_KEY_PREVIOUS) and gets a cookie.
//
//   cookie  mutt_session = base64url(JSON {sid, fp, iat, exp}) "." base64url(HMAC-SHA256)
//           HttpOnly; SameSite=Strict; Path=/; Max-Age; Secure when the request came over TLS
//   key     HMAC key derived from the admin API key: every node with the same key accepts the
//           session (no server-side store, no sticky load balancer), a new key ends every session
//           signed with the old one (once it is no longer WEBUI_API_KEY_PREVIOUS)
//   expiry  idle timeout (renewed by use) and an absolute limit from sign-in
//   revoke  sign-out clears the cookie and remembers the session id on this node until it expires
//   csrf    HMAC(sid) — sent as a hidden `_csrf` field or the X-CSRF-Token header on every POST
//
// The key is never stored in the cookie, never logged; audit rows name the operator `ui:<fp>` with
// the key's fingerprint, as the API names its callers `api:<fp>`.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { apiKeyChecker, keyFingerprint } from '../../core/security.ts';

export const SESSION_COOKIE = 'mutt_session';

export interface SessionOptions {
  apiKey: string;
  previousApiKey?: string;
  /** Seconds without a request before a session ends (default 8 h). */
  idleSeconds?: number;
  /** Seconds from sign-in after which a session ends whatever its use (default 24 h). */
  maxSeconds?: number;
  now?: () => number;
}

export interface Session {
  sid: string;
  /** Fingerprint of the key that signed in. */
  fp: string;
  /** Sign-in and expiry, epoch seconds. */
  iat: number;
  exp: number;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const derive = (key: string) => createHmac('sha256', key).update('mutt webui session v1').digest();

export class Sessions {
  private secrets: Buffer[] = [];
  private current: (k: string | undefined) => boolean = () => false;
  private previous: (k: string | undefined) => boolean = () => false;
  private readonly revoked = new Map<string, number>();
  readonly idleSeconds: number;
  readonly maxSeconds: number;
  private readonly now: () => number;

  constructor(o: SessionOptions) {
    this.setKeys(o.apiKey, o.previousApiKey);
    this.idleSeconds = o.idleSeconds ?? 8 * 3600;
    this.maxSeconds = o.maxSeconds ?? 24 * 3600;
    this.now = o.now ?? (() => Date.now() / 1000);
  }

  /**
   * The admin keys in force. A rotation (Vault, SIGHUP) calls this again: sign-in takes the new key
   * at once, sessions signed with the old key live on while it is WEBUI_API_KEY_PREVIOUS.
   */
  setKeys(apiKey: string | undefined, previousApiKey?: string): void {
    if (apiKey === undefined || apiKey.length === 0) throw new Error('the admin UI needs WEBUI_API_KEY');
    this.secrets = [derive(apiKey), ...(previousApiKey ? [derive(previousApiKey)] : [])];
    this.current = apiKeyChecker(apiKey);
    this.previous = apiKeyChecker(previousApiKey);
  }

  /** The admin key check (both keys always compared, so timing does not tell which matched). */
  checkKey(key: string | undefined): boolean {
    const a = this.current(key);
    const b = this.previous(key);
    return a || b;
  }

  /** A new session for a key that passed checkKey. */
  create(key: string): { session: Session; cookie: string } {
    const t = Math.floor(this.now());
    const session: Session = {
      sid: randomBytes(18).toString('base64url'),
      fp: keyFingerprint(key),
      iat: t,
      exp: t + this.idleSeconds,
    };
    return { session, cookie: this.sign(session) };
  }

  private sign(s: Session): string {
    const payload = b64(JSON.stringify(s));
    return `${payload}.${b64(createHmac('sha256', this.secrets[0]!).update(payload).digest())}`;
  }

  /** The session a cookie carries, when genuine, unexpired and not signed out. */
  verify(cookie: string | undefined): Session | undefined {
    if (!cookie) return undefined;
    const dot = cookie.indexOf('.');
    if (dot <= 0 || cookie.length > 1024) return undefined;
    const payload = cookie.slice(0, dot);
    const mac = Buffer.from(cookie.slice(dot + 1), 'base64url');
    let ok = false;
    for (const secret of this.secrets) {
      const want = createHmac('sha256', secret).update(payload).digest();
      if (mac.length === want.length && timingSafeEqual(mac, want)) ok = true;
    }
    if (!ok) return undefined;
    let s: Session;
    try {
      s = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Session;
    } catch {
      return undefined;
    }
    const t = this.now();
    if (typeof s.sid !== 'string' || typeof s.exp !== 'number' || typeof s.iat !== 'number') return undefined;
    if (t >= s.exp || t >= s.iat + this.maxSeconds) return undefined;
    if (this.revoked.has(s.sid)) return undefined;
    return s;
  }

  /** A renewed cookie when more than a quarter of the idle time has passed (else undefined). */
  renew(s: Session): string | undefined {
    const t = Math.floor(this.now());
    if (s.exp - t > (this.idleSeconds * 3) / 4) return undefined;
    const exp = Math.min(t + this.idleSeconds, s.iat + this.maxSeconds);
    return this.sign({ ...s, exp });
  }

  /** Seconds the cookie should live in the browser. */
  maxAge(s: Session): number {
    return Math.max(0, Math.min(s.exp, s.iat + this.maxSeconds) - Math.floor(this.now()));
  }

  revoke(s: Session): void {
    const t = this.now();
    for (const [sid, exp] of this.revoked) if (exp <= t) this.revoked.delete(sid);
    this.revoked.set(s.sid, s.iat + this.maxSeconds);
  }

  /** The CSRF token of a session. */
  csrfToken(s: Session): string {
    return b64(createHmac('sha256', this.secrets[0]!).update(`csrf:${s.sid}`).digest());
  }

  checkCsrf(s: Session, token: string | undefined): boolean {
    if (!token) return false;
    const given = Buffer.from(token);
    return this.secrets.some((secret) => {
      const want = Buffer.from(b64(createHmac('sha256', secret).update(`csrf:${s.sid}`).digest()));
      return given.length === want.length && timingSafeEqual(given, want);
    });
  }
}

/** Failed sign-ins per client address: at most `limit` a minute, then 429 until the minute passes. */
export class SignInLimiter {
  private readonly failures = new Map<string, { n: number; until: number }>();
  private readonly limit: number;
  private readonly now: () => number;
  constructor(limit = 10, now: () => number = () => Date.now()) {
    this.limit = limit;
    this.now = now;
  }

  blocked(addr: string): number {
    const f = this.failures.get(addr);
    if (!f || f.until <= this.now()) return 0;
    return f.n >= this.limit ? Math.ceil((f.until - this.now()) / 1000) : 0;
  }

  fail(addr: string): void {
    const t = this.now();
    if (this.failures.size > 10_000)
      for (const [k, v] of this.failures) if (v.until <= t) this.failures.delete(k);
    const f = this.failures.get(addr);
    if (!f || f.until <= t) this.failures.set(addr, { n: 1, until: t + 60_000 });
    else f.n++;
  }
}
