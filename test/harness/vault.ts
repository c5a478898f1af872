// A HashiCorp Vault stand-in for the tests (no Vault server can be installed here). It implements,
// from Vault's HTTP API documentation, exactly the endpoints MUTT calls, with Vault's status codes
// and JSON bodies:
//
//   POST /v1/auth/<mount>/login           AppRole login          developer.hashicorp.com/vault/api-docs/auth/approle
//   GET  /v1/auth/token/lookup-self       token TTLs             …/api-docs/auth/token#lookup-a-token-self
//   POST /v1/auth/token/renew-self        renewal, capped at the role's max TTL with Vault's warning
//   GET  /v1/<mount>/data/<path>          KV v2 read             …/api-docs/secret/kv/kv-v2#read-secret-version
//   GET  /v1/<mount>/metadata/<path>      KV v2 metadata         …/api-docs/secret/kv/kv-v2#read-secret-metadata
//
// Errors as Vault answers them: 400 {"errors":["invalid role or secret ID"]} for a bad AppRole login,
// 403 {"errors":["permission denied"]} for a missing, expired or revoked token or a denied path,
// 404 {"errors":[]} for a secret that does not exist, 503 {"errors":["Vault is sealed"]} while sealed.
// The tests drive it directly: roles, secret IDs, secret versions, seal/unseal, stop/start, token
// expiry, a policy without metadata access; every request is recorded (method, path, status; no bodies).
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

interface Role {
  name: string;
  roleId: string;
  secretIds: Set<string>;
  tokenTtl: number;
  tokenMaxTtl: number;
  policies: string[];
}

interface Token {
  id: string;
  accessor: string;
  role: Role;
  issuedAt: number;
  /** ms since epoch */
  expiresAt: number;
  maxExpiresAt: number;
  creationTtl: number;
  revoked: boolean;
}

interface KvEntry {
  versions: { data: Record<string, unknown>; createdTime: string }[];
}

export interface VaultRequest {
  method: string;
  path: string;
  status: number;
  namespace?: string;
  hadToken: boolean;
}

export interface StandInOptions {
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** Path the AppRole method is mounted at. */
  approleMount?: string;
  /** KV v2 mounts. */
  kvMounts?: string[];
  /** When set, every request must carry this X-Vault-Namespace (Vault Enterprise). */
  namespace?: string;
}

const nowIso = () => new Date().toISOString();

function fmtDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 || h > 0 ? `${m}m` : ''}${r}s`;
}

export class VaultStandIn {
  private server?: Server;
  private readonly o: StandInOptions;
  private readonly roles = new Map<string, Role>();
  private readonly tokens = new Map<string, Token>();
  private readonly kv = new Map<string, KvEntry>();
  readonly requests: VaultRequest[] = [];
  sealed = false;
  /** Policy: the tokens may read KV metadata (Python MUTT's policy grants data/ only). */
  allowMetadata = true;
  port = 0;

  constructor(o: StandInOptions = {}) {
    this.o = o;
  }

  get addr(): string {
    return `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async start(port = this.port): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = this.o.tls
      ? createHttpsServer({ cert: this.o.tls.cert, key: this.o.tls.key }, handler)
      : createHttpServer(handler);
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops answering (connections refused) until start() is called again. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** An AppRole with a role ID and one secret ID (`vault write auth/approle/role/<name> token_ttl=… token_max_ttl=…`). */
  addRole(name: string, o: { tokenTtl: number; tokenMaxTtl: number }): { roleId: string; secretId: string } {
    const role: Role = {
      name,
      roleId: randomUUID(),
      secretIds: new Set(),
      tokenTtl: o.tokenTtl,
      tokenMaxTtl: o.tokenMaxTtl,
      policies: ['default', 'mutt'],
    };
    this.roles.set(role.roleId, role);
    return { roleId: role.roleId, secretId: this.newSecretId(role.roleId) };
  }

  newSecretId(roleId: string): string {
    const id = randomUUID();
    this.roles.get(roleId)!.secretIds.add(id);
    return id;
  }

  revokeSecretId(roleId: string, secretId: string): void {
    this.roles.get(roleId)?.secretIds.delete(secretId);
  }

  /** `vault kv put <mount>/<path> k=v …`: a new version; returns its number. */
  put(mountAndPath: string, data: Record<string, unknown>): number {
    const e = this.kv.get(mountAndPath) ?? { versions: [] };
    e.versions.push({ data: { ...data }, createdTime: nowIso() });
    this.kv.set(mountAndPath, e);
    return e.versions.length;
  }

  /** The current data of a secret (for `vault kv patch`-style updates in tests). */
  current(mountAndPath: string): Record<string, unknown> {
    const e = this.kv.get(mountAndPath);
    return { ...(e?.versions.at(-1)?.data ?? {}) };
  }

  /** While set, renew-self is denied as a policy without `update` on auth/token/renew-self denies it. */
  refuseRenewals = false;

  /** Every token issued so far expires now. */
  expireTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = Date.now() - 1;
  }

  /** Every token issued (to check that none reached a log). */
  issuedTokens(): string[] {
    return [...this.tokens.keys()];
  }

  logins(): number {
    return this.requests.filter((r) => r.path.endsWith('/login') && r.status === 200).length;
  }

  count(method: string, path: string | RegExp, status?: number): number {
    return this.requests.filter(
      (r) =>
        r.method === method &&
        (typeof path === 'string' ? r.path === path : path.test(r.path)) &&
        (status === undefined || r.status === status),
    ).length;
  }

  private send(res: ServerResponse, status: number, body: unknown): number {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return status;
  }

  private envelope(extra: Record<string, unknown>): Record<string, unknown> {
    return {
      request_id: randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: null,
      wrap_info: null,
      warnings: null,
      auth: null,
      ...extra,
    };
  }

  private token(req: IncomingMessage): Token | undefined {
    const id = req.headers['x-vault-token'];
    if (typeof id !== 'string') return undefined;
    const t = this.tokens.get(id);
    if (!t || t.revoked || t.expiresAt <= Date.now()) return undefined;
    return t;
  }

  private authBlock(t: Token, leaseSeconds: number) {
    return {
      client_token: t.id,
      accessor: t.accessor,
      policies: t.role.policies,
      token_policies: t.role.policies,
      metadata: { role_name: t.role.name },
      lease_duration: leaseSeconds,
      renewable: true,
      entity_id: randomUUID(),
      token_type: 'service',
      orphan: true,
      mfa_requirement: null,
      num_uses: 0,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: Record<string, unknown>;
    try {
      body =
        chunks.length > 0
          ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
          : {};
    } catch {
      body = {};
    }
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const namespace =
      typeof req.headers['x-vault-namespace'] === 'string' ? req.headers['x-vault-namespace'] : undefined;
    const status = this.route(method, path, body, req, res, namespace);
    this.requests.push({
      method,
      path,
      status,
      namespace,
      hadToken: req.headers['x-vault-token'] !== undefined,
    });
  }

  private route(
    method: string,
    path: string,
    body: Record<string, unknown>,
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string | undefined,
  ): number {
    if (this.sealed) return this.send(res, 503, { errors: ['Vault is sealed'] });
    if (this.o.namespace !== undefined && namespace !== this.o.namespace)
      return this.send(res, 404, {
        errors: [`no handler for route "${path.replace(/^\/v1\//, '')}". route entry not found.`],
      });
    const mount = this.o.approleMount ?? 'approle';
    if (method === 'POST' && path === `/v1/auth/${mount}/login`) return this.login(body, res);
    if (path === '/v1/auth/token/lookup-self' && method === 'GET') {
      const t = this.token(req);
      if (!t) return this.send(res, 403, { errors: ['permission denied'] });
      const ttl = Math.max(0, Math.floor((t.expiresAt - Date.now()) / 1000));
      return this.send(
        res,
        200,
        this.envelope({
          data: {
            accessor: t.accessor,
            creation_time: Math.floor(t.issuedAt / 1000),
            creation_ttl: t.creationTtl,
            display_name: 'approle',
            entity_id: randomUUID(),
            expire_time: new Date(t.expiresAt).toISOString(),
            explicit_max_ttl: 0,
            id: t.id,
            issue_time: new Date(t.issuedAt).toISOString(),
            meta: { role_name: t.role.name },
            num_uses: 0,
            orphan: true,
            path: `auth/${mount}/login`,
            policies: t.role.policies,
            renewable: true,
            ttl,
            type: 'service',
          },
        }),
      );
    }
    if (path === '/v1/auth/token/renew-self' && method === 'POST') {
      const t = this.token(req);
      if (!t || this.refuseRenewals)
        return this.send(res, 403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
      const wanted = typeof body.increment === 'number' ? body.increment : t.role.tokenTtl;
      const left = Math.floor((t.maxExpiresAt - Date.now()) / 1000);
      const ttl = Math.min(wanted, left);
      t.expiresAt = Date.now() + ttl * 1000;
      const warnings =
        ttl < wanted
          ? [
              `TTL of "${fmtDuration(wanted)}" exceeded the effective max_ttl of "${fmtDuration(left)}"; TTL value is capped accordingly`,
            ]
          : null;
      return this.send(res, 200, this.envelope({ auth: this.authBlock(t, ttl), warnings }));
    }
    const kv = /^\/v1\/([^/]+)\/(data|metadata)\/(.+)$/.exec(path);
    if (kv && method === 'GET' && (this.o.kvMounts ?? ['secret']).includes(kv[1]!)) {
      const t = this.token(req);
      if (!t) return this.send(res, 403, { errors: ['permission denied'] });
      const key = `${kv[1]}/${kv[3]}`;
      if (kv[2] === 'metadata' && !this.allowMetadata)
        return this.send(res, 403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
      const e = this.kv.get(key);
      if (!e || e.versions.length === 0) return this.send(res, 404, { errors: [] });
      const current = e.versions.length;
      const v = e.versions[current - 1]!;
      if (kv[2] === 'data')
        return this.send(
          res,
          200,
          this.envelope({
            data: {
              data: v.data,
              metadata: {
                created_time: v.createdTime,
                custom_metadata: null,
                deletion_time: '',
                destroyed: false,
                version: current,
              },
            },
          }),
        );
      return this.send(
        res,
        200,
        this.envelope({
          data: {
            cas_required: false,
            created_time: e.versions[0]!.createdTime,
            current_version: current,
            custom_metadata: null,
            delete_version_after: '0s',
            max_versions: 0,
            oldest_version: 0,
            updated_time: v.createdTime,
            versions: Object.fromEntries(
              e.versions.map((x, i) => [
                String(i + 1),
                { created_time: x.createdTime, deletion_time: '', destroyed: false },
              ]),
            ),
          },
        }),
      );
    }
    if (kv) {
      // A path under no KV mount: Vault denies it to a token whose policy does not cover it.
      return this.send(res, this.token(req) ? 403 : 403, { errors: ['permission denied'] });
    }
    return this.send(res, 404, {
      errors: [`no handler for route "${path.replace(/^\/v1\//, '')}". route entry not found.`],
    });
  }

  private login(body: Record<string, unknown>, res: ServerResponse): number {
    const roleId = typeof body.role_id === 'string' ? body.role_id.trim() : '';
    const secretId = typeof body.secret_id === 'string' ? body.secret_id.trim() : '';
    if (roleId === '') return this.send(res, 400, { errors: ['missing role_id'] });
    const role = this.roles.get(roleId);
    if (!role) return this.send(res, 400, { errors: ['invalid role or secret ID'] });
    if (secretId === '') return this.send(res, 400, { errors: ['missing secret_id'] });
    if (!role.secretIds.has(secretId)) return this.send(res, 400, { errors: ['invalid role or secret ID'] });
    const now = Date.now();
    const t: Token = {
      id: `hvs.${randomBytes(18).toString('base64url')}`,
      accessor: randomBytes(12).toString('base64url'),
      role,
      issuedAt: now,
      expiresAt: now + role.tokenTtl * 1000,
      maxExpiresAt: now + role.tokenMaxTtl * 1000,
      creationTtl: role.tokenTtl,
      revoked: false,
    };
    this.tokens.set(t.id, t);
    return this.send(res, 200, this.envelope({ auth: this.authBlock(t, role.tokenTtl) }));
  }
}
