// A small Vault HTTP API client: exactly the endpoints MUTT calls, from Vault's API documentation.
//
//   POST /v1/auth/<mount>/login          AppRole login (role_id, secret_id)  → auth.client_token
//   GET  /v1/auth/token/lookup-self      the token's ttl, creation_ttl, renewable
//   POST /v1/auth/token/renew-self       → auth.lease_duration (capped at the max TTL, with a warning)
//   GET  /v1/<mount>/data/<path>         KV v2 secret: data.data, data.metadata.version
//   GET  /v1/<mount>/metadata/<path>     KV v2 metadata: data.current_version
//
// Built on node:https rather than node-vault (docs/SECURITY.md, "Vault client"): node-vault brings
// axios and 32 other packages (+324 KB of bundle) for five calls, reads VAULT_TOKEN/VAULT_NAMESPACE
// from the environment on its own, and its debug logging prints request bodies, the secret ID among
// them. Here, errors carry Vault's status and `errors` text with the token and the secret ID blanked,
// and nothing else of the request.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { MIN_TLS_VERSION } from '../../tls.ts';

export type VaultErrorKind =
  /** No answer: connection refused, DNS, timeout, TLS. */
  | 'unreachable'
  /** 503 "Vault is sealed" (or standby without a leader). */
  | 'sealed'
  /** 400 from a login: invalid role or secret ID. */
  | 'invalid'
  /** 403: permission denied (also an expired or revoked token). */
  | 'denied'
  | 'not_found'
  /** Anything else (5xx, unexpected bodies). */
  | 'server';

export class VaultError extends Error {
  readonly kind: VaultErrorKind;
  readonly status?: number;
  readonly code?: string;
  constructor(
    kind: VaultErrorKind,
    message: string,
    o: { status?: number; code?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: o.cause });
    this.name = 'VaultError';
    this.kind = kind;
    this.status = o.status;
    this.code = o.code;
  }
}

export interface VaultClientOptions {
  addr: string;
  namespace?: string;
  /** CA bundle (VAULT_CACERT). */
  caFile?: string;
  timeoutMs?: number;
}

export interface LoginResult {
  token: string;
  leaseDuration: number;
  renewable: boolean;
}

export interface TokenInfo {
  /** Seconds left; 0 for a token that never expires. */
  ttl: number;
  creationTtl: number;
  renewable: boolean;
}

export interface RenewResult {
  leaseDuration: number;
  renewable: boolean;
  warnings: string[];
}

export interface KvSecret {
  data: Record<string, unknown>;
  version: number;
}

/** `secret/mutt` → mount `secret`, path `mutt`; the API form `secret/data/mutt` is accepted too. */
export function splitKvPath(p: string): { mount: string; path: string } {
  const clean = p.replace(/^\/+|\/+$/g, '');
  const i = clean.indexOf('/');
  const mount = clean.slice(0, i);
  let path = clean.slice(i + 1);
  if (path.startsWith('data/')) path = path.slice(5);
  return { mount, path };
}

interface Answer {
  status: number;
  body: unknown;
}

export class VaultClient {
  private readonly o: VaultClientOptions;
  private readonly base: URL;
  private readonly ca?: Buffer;
  token?: string;
  /** Strings that must never appear in an error message (the token, the secret ID). */
  private readonly sensitive = new Set<string>();

  constructor(o: VaultClientOptions) {
    this.o = o;
    this.base = new URL(o.addr.endsWith('/') ? o.addr : `${o.addr}/`);
    this.ca = o.caFile ? readFileSync(o.caFile) : undefined;
  }

  get address(): string {
    return this.base.origin;
  }

  async login(mount: string, roleId: string, secretId: string): Promise<LoginResult> {
    this.sensitive.add(secretId);
    const a = await this.call(
      'POST',
      `v1/auth/${mount}/login`,
      { role_id: roleId, secret_id: secretId },
      false,
    );
    const auth = (
      a.body as { auth?: { client_token?: string; lease_duration?: number; renewable?: boolean } }
    )?.auth;
    if (!auth?.client_token)
      throw new VaultError('server', 'Vault answered the AppRole login without a token');
    this.token = auth.client_token;
    this.sensitive.add(auth.client_token);
    return {
      token: auth.client_token,
      leaseDuration: auth.lease_duration ?? 0,
      renewable: auth.renewable ?? false,
    };
  }

  async lookupSelf(): Promise<TokenInfo> {
    const a = await this.call('GET', 'v1/auth/token/lookup-self');
    const d = (a.body as { data?: { ttl?: number; creation_ttl?: number; renewable?: boolean } })?.data;
    if (!d || typeof d.ttl !== 'number')
      throw new VaultError('server', 'Vault answered lookup-self without a ttl');
    return { ttl: d.ttl, creationTtl: d.creation_ttl ?? d.ttl, renewable: d.renewable ?? false };
  }

  async renewSelf(): Promise<RenewResult> {
    const a = await this.call('POST', 'v1/auth/token/renew-self', {});
    const body = a.body as {
      auth?: { lease_duration?: number; renewable?: boolean };
      warnings?: string[] | null;
    };
    if (!body?.auth) throw new VaultError('server', 'Vault answered renew-self without auth');
    return {
      leaseDuration: body.auth.lease_duration ?? 0,
      renewable: body.auth.renewable ?? false,
      warnings: body.warnings ?? [],
    };
  }

  async readKv(mount: string, path: string): Promise<KvSecret> {
    const a = await this.call('GET', `v1/${mount}/data/${path}`);
    const d = (a.body as { data?: { data?: unknown; metadata?: { version?: number } } })?.data;
    if (!d || typeof d.data !== 'object' || d.data === null)
      throw new VaultError(
        'server',
        `Vault answered ${mount}/${path} without KV v2 data (is "${mount}" a KV version 2 mount?)`,
      );
    return { data: d.data as Record<string, unknown>, version: d.metadata?.version ?? 0 };
  }

  async readKvVersion(mount: string, path: string): Promise<number> {
    const a = await this.call('GET', `v1/${mount}/metadata/${path}`);
    const v = (a.body as { data?: { current_version?: number } })?.data?.current_version;
    if (typeof v !== 'number')
      throw new VaultError('server', 'Vault answered KV metadata without current_version');
    return v;
  }

  private scrub(s: string): string {
    let out = s;
    for (const x of this.sensitive) if (x.length > 0) out = out.split(x).join('[redacted]');
    return out;
  }

  private call(method: string, path: string, body?: unknown, withToken = true): Promise<Answer> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    if (withToken && this.token) headers['X-Vault-Token'] = this.token;
    if (this.o.namespace) headers['X-Vault-Namespace'] = this.o.namespace;
    const https = url.protocol === 'https:';
    const opts: RequestOptions = {
      method,
      headers,
      timeout: this.o.timeoutMs ?? 10_000,
      ...(https ? { ca: this.ca, minVersion: MIN_TLS_VERSION, rejectUnauthorized: true } : {}),
    };
    const where = `${method} ${url.pathname}`;
    return new Promise<Answer>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, opts, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 1024 * 1024) chunks.push(c);
        });
        res.on('error', (err) =>
          reject(new VaultError('unreachable', `${where}: ${err.message}`, { cause: err })),
        );
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            const text = Buffer.concat(chunks).toString('utf8');
            parsed = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) {
            resolve({ status, body: parsed });
            return;
          }
          const errors = Array.isArray((parsed as { errors?: unknown })?.errors)
            ? (parsed as { errors: unknown[] }).errors.map(String).join('; ').trim() || `HTTP ${status}`
            : `HTTP ${status}`;
          const text = this.scrub(errors.replace(/\s+/g, ' ').trim());
          const kind: VaultErrorKind =
            status === 503
              ? 'sealed'
              : status === 403
                ? 'denied'
                : status === 404
                  ? 'not_found'
                  : status === 400 && path.includes('/login')
                    ? 'invalid'
                    : 'server';
          reject(new VaultError(kind, `${where}: ${status} ${text}`, { status }));
        });
      });
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error(`no answer within ${opts.timeout} ms`), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          new VaultError(
            'unreachable',
            `${where}: ${this.scrub(err.message)}${err.code && !err.message.includes(err.code) ? ` (${err.code})` : ''}`,
            {
              code: err.code,
              cause: err,
            },
          ),
        ),
      );
      if (payload !== undefined) req.end(payload);
      else req.end();
    });
  }
}
