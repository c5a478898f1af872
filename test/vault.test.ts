// Secrets from Vault, against the Vault stand-in (test/harness/vault.ts): a Python MUTT 2.x layout,
// token renewal and re-login, new versions of the KV secret, outages, and every bad input of the
// secrets table (wrong role or secret ID, missing or world-readable secret ID file, unreachable or
// sealed Vault, missing path or key, untrusted certificate). No secret value may appear in a log
// line or an error message.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig, loadConfigOrThrow } from '../src/runtime/config/load.ts';
import { resolveSecrets, type ResolvedSecrets } from '../src/runtime/config/secrets.ts';
import { StartupError } from '../src/runtime/listen.ts';
import { createLogger, type Logger } from '../src/runtime/logging.ts';
import { freePort } from './harness/ports.ts';
import { makePki, type TestPki } from './harness/tls.ts';
import { VaultStandIn } from './harness/vault.ts';

let dir: string;
let pki: TestPki;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mutt-vault-'));
  pki = makePki(mkdtempSync(join(dir, 'pki-')));
});

/** A logger whose lines the test reads (and scans for secrets). */
function captureLog(): { log: Logger; lines: string[]; text(): string } {
  const lines: string[] = [];
  const log = createLogger({ level: 'DEBUG', destination: { write: (s: string) => void lines.push(s) } });
  return { log, lines, text: () => lines.join('') };
}

/** The keys Python MUTT 2.x keeps at secret/mutt (README: "vault kv put secret/mutt …"), 2.5 pairs included. */
function pythonLayout(tag: string): Record<string, string> {
  return {
    INGEST_API_KEY: `ingest-${tag}-Zq81`,
    WEBUI_API_KEY: `webui-${tag}-Kp20`,
    MOOG_API_KEY: `moog-${tag}-Xv77`,
    REDIS_PASS: `redis-plain-${tag}-Ab12`,
    REDIS_PASS_CURRENT: `redis-cur-${tag}-Cd34`,
    REDIS_PASS_NEXT: `redis-next-${tag}-Ef56`,
    DB_USER: 'mutt_from_vault',
    DB_PASS: `db-plain-${tag}-Gh78`,
    DB_PASS_CURRENT: `db-cur-${tag}-Ij90`,
    DB_PASS_NEXT: `db-next-${tag}-Kl11`,
  };
}

function secretIdFile(secretId: string, mode = 0o600): string {
  const f = join(mkdtempSync(join(dir, 'sid-')), 'vault_secret_id');
  writeFileSync(f, `${secretId}\n`, { mode });
  chmodSync(f, mode);
  return f;
}

function vaultEnv(
  vault: VaultStandIn,
  role: { roleId: string; secretId: string },
  extra: Record<string, string> = {},
) {
  return {
    MUTT_ENV_FILE: '/dev/null',
    MUTT_DATA_DIR: join(dir, 'data'),
    REDIS_HOST: '127.0.0.1',
    DB_HOST: '127.0.0.1',
    VAULT_ADDR: vault.addr,
    VAULT_ROLE_ID: role.roleId,
    VAULT_SECRET_ID_FILE: secretIdFile(role.secretId),
    VAULT_RENEW_CHECK_INTERVAL: '1',
    VAULT_SECRET_CHECK_INTERVAL: '1',
    VAULT_STARTUP_TIMEOUT: '3',
    ...extra,
  };
}

const cfg = (env: Record<string, string>): Config => loadConfigOrThrow(env, { defaultEnvFile: '/dev/null' });

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value;
}

async function until(
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const running: ResolvedSecrets[] = [];
const standIns: VaultStandIn[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.vault?.stop();
});
afterAll(async () => {
  for (const v of standIns) await v.stop();
});

async function standIn(o: ConstructorParameters<typeof VaultStandIn>[0] = {}): Promise<VaultStandIn> {
  const v = new VaultStandIn(o);
  await v.start();
  standIns.push(v);
  return v;
}

function expectNoSecret(text: string, secrets: Record<string, string>): void {
  for (const [k, v] of Object.entries(secrets)) {
    if (k === 'DB_USER') continue;
    expect(text, `${k} leaked`).not.toContain(v);
  }
}

describe('Vault: a Python MUTT 2.x layout', () => {
  it('logs in with AppRole, reads every key of secret/mutt, and logs no value', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    const layout = pythonLayout('a');
    vault.put('secret/mutt', { ...layout, SOMETHING_ELSE: 'x' });
    const cap = captureLog();
    const registry = new Registry();
    const r = await resolveSecrets(cfg(vaultEnv(vault, role, { REDIS_PASS: 'env-redis-pass' })), {
      log: cap.log,
      registry,
    });
    running.push(r);
    expect(r.config).toMatchObject({ ...layout, DB_USER: 'mutt_from_vault' });
    expect(r.config.sources).toMatchObject({
      INGEST_API_KEY: 'vault',
      DB_USER: 'vault',
      REDIS_PASS: 'vault',
    });
    // The environment's REDIS_PASS is shadowed by Vault's, and said so without either value.
    expect(cap.text()).toContain(
      'REDIS_PASS is set in Vault and in REDIS_PASS: the value from Vault is used',
    );
    expect(cap.text()).not.toContain('env-redis-pass');
    expect(cap.text()).toContain('"ignored_keys":["SOMETHING_ELSE"]');
    expectNoSecret(cap.text() + JSON.stringify(vault.requests), layout);
    expect(await metric(registry, 'mutt_vault_up')).toBe(1);
    expect(await metric(registry, 'mutt_vault_secret_reads_total', { result: 'success' })).toBe(1);
    expect(await metric(registry, 'mutt_vault_token_ttl_seconds')).toBeGreaterThanOrEqual(3590);
    expect(vault.count('GET', '/v1/secret/data/mutt', 200)).toBe(1);
    // Metrics never carry a secret either.
    expectNoSecret(await registry.metrics(), layout);
  });

  it('sends VAULT_NAMESPACE as X-Vault-Namespace', async () => {
    const vault = await standIn({ namespace: 'ops/netops' });
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.put('secret/mutt', pythonLayout('ns'));
    const r = await resolveSecrets(cfg(vaultEnv(vault, role, { VAULT_NAMESPACE: 'ops/netops' })), {
      log: captureLog().log,
      registry: new Registry(),
    });
    running.push(r);
    expect(r.config.INGEST_API_KEY).toBe('ingest-ns-Zq81');
    expect(vault.requests.every((q) => q.namespace === 'ops/netops')).toBe(true);
  });

  it('verifies an HTTPS Vault against VAULT_CACERT, and refuses one signed by another CA, saying so', async () => {
    const vault = await standIn({ tls: { cert: pki.cert, key: pki.key } });
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.put('secret/mutt', pythonLayout('tls'));
    const ok = await resolveSecrets(cfg(vaultEnv(vault, role, { VAULT_CACERT: pki.caFile })), {
      log: captureLog().log,
      registry: new Registry(),
    });
    running.push(ok);
    expect(ok.config.MOOG_API_KEY).toBe('moog-tls-Xv77');
    const err = await resolveSecrets(
      cfg(vaultEnv(vault, role, { VAULT_CACERT: pki.otherCaFile, VAULT_STARTUP_TIMEOUT: '1' })),
      { log: captureLog().log, registry: new Registry() },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(
      new RegExp(`the Vault server certificate is not signed by a CA in VAULT_CACERT="${pki.otherCaFile}"`),
    );
  });
});

describe('Vault: while MUTT runs', () => {
  it('applies a new version of the secret at once, through metadata, or by reading the data when the policy denies metadata', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.put('secret/mutt', pythonLayout('v1'));
    const cap = captureLog();
    const r = await resolveSecrets(cfg(vaultEnv(vault, role)), { log: cap.log, registry: new Registry() });
    running.push(r);
    const seen: string[][] = [];
    r.layers.store.onChange((names) => seen.push([...names]));
    r.vault!.watch();
    vault.put('secret/mutt', {
      ...pythonLayout('v1'),
      INGEST_API_KEY: 'ingest-v2-Rr55',
      INGEST_API_KEY_PREVIOUS: 'ingest-v1-Zq81',
    });
    await until(() => r.layers.store.get('INGEST_API_KEY') === 'ingest-v2-Rr55', 5000, 'version 2');
    expect(r.layers.store.get('INGEST_API_KEY_PREVIOUS')).toBe('ingest-v1-Zq81');
    expect(seen).toContainEqual(['INGEST_API_KEY', 'INGEST_API_KEY_PREVIOUS']);
    expect(vault.count('GET', '/v1/secret/metadata/mutt', 200)).toBeGreaterThan(0);

    vault.allowMetadata = false;
    vault.put('secret/mutt', { ...pythonLayout('v1'), INGEST_API_KEY: 'ingest-v3-Tt66' });
    await until(() => r.layers.store.get('INGEST_API_KEY') === 'ingest-v3-Tt66', 5000, 'version 3');
    expect(r.layers.store.get('INGEST_API_KEY_PREVIOUS')).toBeUndefined();
    expect(cap.text()).toContain('the Vault policy does not allow reading the secret metadata');
    expect(r.vault!.currentVersion).toBe(3);
    expect(cap.text()).not.toMatch(/ingest-v[123]-/);
  });

  it('refuses a version without a key the roles need, naming it, and keeps the one in use', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.put('secret/mutt', pythonLayout('k1'));
    const cap = captureLog();
    const r = await resolveSecrets(cfg(vaultEnv(vault, role)), { log: cap.log, registry: new Registry() });
    running.push(r);
    r.vault!.watch();
    const { INGEST_API_KEY: _dropped, ...rest } = pythonLayout('k1');
    vault.put('secret/mutt', { ...rest, MOOG_API_KEY: 'moog-k2-Ww00' });
    await until(() => cap.text().includes('version 2 of the Vault secret is not applied'), 5000, 'refusal');
    expect(cap.text()).toContain(
      'version 2 of the Vault secret is not applied: it has no INGEST_API_KEY (needed by HTTP ingest (SERVER_PORT_INGESTOR)); MUTT keeps version 1',
    );
    expect(r.layers.store.get('INGEST_API_KEY')).toBe('ingest-k1-Zq81');
    expect(r.layers.store.get('MOOG_API_KEY')).toBe('moog-k1-Xv77');
  });

  it('renews the token below VAULT_TOKEN_RENEW_THRESHOLD and logs in again at its max TTL', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3, tokenMaxTtl: 5 });
    vault.put('secret/mutt', pythonLayout('ttl'));
    const registry = new Registry();
    const cap = captureLog();
    const r = await resolveSecrets(cfg(vaultEnv(vault, role, { VAULT_TOKEN_RENEW_THRESHOLD: '2' })), {
      log: cap.log,
      registry,
    });
    running.push(r);
    r.vault!.watch();
    await until(() => vault.logins() >= 2, 12_000, 'a second login');
    expect(vault.count('POST', '/v1/auth/token/renew-self', 200)).toBeGreaterThan(0);
    expect(cap.text()).toContain('the Vault token reached its max TTL: logging in again');
    expect(await metric(registry, 'mutt_vault_token_renew_failures_total')).toBe(0);
    expect(await metric(registry, 'mutt_vault_up')).toBe(1);
    // The token never expired under MUTT: no call was refused.
    expect(vault.requests.filter((q) => q.status === 403)).toEqual([]);
  });

  it('logs in again when Vault refuses the renewal (403 from renew-self), and keeps renewing the new token', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3, tokenMaxTtl: 3600 });
    vault.put('secret/mutt', pythonLayout('refused'));
    vault.refuseRenewals = true;
    const registry = new Registry();
    const cap = captureLog();
    const r = await resolveSecrets(cfg(vaultEnv(vault, role, { VAULT_TOKEN_RENEW_THRESHOLD: '2' })), {
      log: cap.log,
      registry,
    });
    running.push(r);
    r.vault!.watch();
    await until(() => vault.logins() >= 2, 12_000, 'a login after the refused renewal');
    expect(vault.count('POST', '/v1/auth/token/renew-self', 403)).toBeGreaterThan(0);
    expect(cap.text()).toContain('Vault refused to renew the token: logging in again');
    // The re-login succeeded: nothing counted as a failure, Vault still up, the secrets in place.
    expect(await metric(registry, 'mutt_vault_token_renew_failures_total')).toBe(0);
    expect(await metric(registry, 'mutt_vault_up')).toBe(1);
    vault.refuseRenewals = false;
    const renewed = vault.count('POST', '/v1/auth/token/renew-self', 200);
    await until(
      () => vault.count('POST', '/v1/auth/token/renew-self', 200) > renewed,
      12_000,
      'a renewal of the new token',
    );
    for (const t of vault.issuedTokens()) expect(cap.text()).not.toContain(t);
  });

  it('logs in again when the token has expired (403)', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.put('secret/mutt', pythonLayout('exp'));
    const cap = captureLog();
    const r = await resolveSecrets(cfg(vaultEnv(vault, role)), { log: cap.log, registry: new Registry() });
    running.push(r);
    r.vault!.watch();
    vault.expireTokens();
    await until(() => vault.logins() >= 2, 5000, 'a new login');
    expect(vault.count('GET', '/v1/auth/token/lookup-self', 403)).toBeGreaterThan(0);
    expect(cap.text()).toContain('the Vault token is no longer valid: logging in again');
  });

  it('keeps running on the secrets it has through a sealed or unreachable Vault, with metric and log', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.put('secret/mutt', pythonLayout('out'));
    const registry = new Registry();
    const cap = captureLog();
    const r = await resolveSecrets(cfg(vaultEnv(vault, role)), { log: cap.log, registry });
    running.push(r);
    r.vault!.watch();
    vault.sealed = true;
    await until(async () => (await metric(registry, 'mutt_vault_up')) === 0, 5000, 'mutt_vault_up 0');
    await until(
      async () => ((await metric(registry, 'mutt_vault_token_renew_failures_total')) ?? 0) > 0,
      5000,
      'a renewal failure',
    );
    expect(r.layers.store.get('INGEST_API_KEY')).toBe('ingest-out-Zq81');
    expect(cap.text()).toContain(
      'Vault token renewal failed: MUTT keeps running on the secrets it has and retries',
    );
    expect(cap.text()).toContain('Vault is sealed');
    vault.sealed = false;
    await until(async () => (await metric(registry, 'mutt_vault_up')) === 1, 8000, 'mutt_vault_up 1');

    const port = vault.port;
    await vault.stop();
    await until(async () => (await metric(registry, 'mutt_vault_up')) === 0, 5000, 'down again');
    // The change of state is logged once with the reason (a refused connection, or a kept-alive one reset).
    expect(cap.text()).toMatch(
      /"reason":"[^"]*(ECONNREFUSED|ECONNRESET|socket hang up)[^"]*","msg":"Vault stopped answering: MUTT keeps running on the secrets it has and retries with backoff"/,
    );
    vault.put('secret/mutt', { ...pythonLayout('out'), MOOG_API_KEY: 'moog-after-outage-Mm33' });
    await vault.start(port);
    await until(
      () => r.layers.store.get('MOOG_API_KEY') === 'moog-after-outage-Mm33',
      10_000,
      'the version written during the outage',
    );
    expect(cap.text()).not.toMatch(/moog-after-outage|ingest-out-Zq81/);
  });
});

describe('Vault: bad input stops start-up with the reason', () => {
  const startup = async (env: Record<string, string>) => {
    const cap = captureLog();
    const err = await resolveSecrets(cfg(env), { log: cap.log, registry: new Registry() }).then(
      (r) => {
        running.push(r);
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    return { err, log: cap.text() };
  };

  it.each([
    [
      'a wrong role ID',
      (role: { roleId: string; secretId: string }) => ({ ...role, roleId: 'not-the-role' }),
    ],
    [
      'a wrong secret ID',
      (role: { roleId: string; secretId: string }) => ({ ...role, secretId: 'wrong-secret-id-Q9' }),
    ],
  ])('%s: names VAULT_ROLE_ID and the secret ID file, never the secret ID', async (_, spoil) => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.put('secret/mutt', pythonLayout('bad'));
    const env = vaultEnv(vault, spoil(role));
    const { err, log } = await startup(env);
    expect(err).toBeInstanceOf(StartupError);
    expect(err!.message).toBe(
      `Vault at ${vault.addr} refused the AppRole login (invalid role or secret ID): check VAULT_ROLE_ID and the secret ID in VAULT_SECRET_ID_FILE="${env.VAULT_SECRET_ID_FILE}" (a secret ID expires with secret_id_ttl or secret_id_num_uses; make a new one with "vault write -f auth/approle/role/<role>/secret-id")`,
    );
    expect(err!.message + log).not.toContain(role.secretId);
    expect(err!.message + log).not.toContain('wrong-secret-id-Q9');
    // Refused credentials are not retried: one login attempt.
    expect(vault.count('POST', '/v1/auth/approle/login')).toBe(1);
  });

  it('a missing or world-readable secret ID file is a configuration problem naming the file (and the chmod)', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    const missing = loadConfig(
      { ...vaultEnv(vault, role), VAULT_SECRET_ID_FILE: join(dir, 'absent') },
      { defaultEnvFile: '/dev/null' },
    );
    expect(missing.problems).toEqual([
      `VAULT_SECRET_ID_FILE="${join(dir, 'absent')}": file not found; write the AppRole secret ID there ("vault write -f auth/approle/role/<role>/secret-id"), mode 0600, or give it as the systemd credential VAULT_SECRET_ID`,
    ]);
    const open = secretIdFile(role.secretId, 0o644);
    const wide = loadConfig(
      { ...vaultEnv(vault, role), VAULT_SECRET_ID_FILE: open },
      { defaultEnvFile: '/dev/null' },
    );
    expect(wide.problems).toEqual([
      `VAULT_SECRET_ID_FILE="${open}": readable by every user (mode 0644); run "chmod 600 ${open}" (owner mutt)`,
    ]);
    expect(JSON.stringify(wide)).not.toContain(role.secretId);
    // A systemd credential takes the file's place (the file is then not needed).
    const creds = mkdtempSync(join(dir, 'creds-'));
    writeFileSync(join(creds, 'VAULT_SECRET_ID'), role.secretId);
    vault.put('secret/mutt', pythonLayout('cred'));
    const viaCred = loadConfig(
      { ...vaultEnv(vault, role), VAULT_SECRET_ID_FILE: join(dir, 'absent'), CREDENTIALS_DIRECTORY: creds },
      { defaultEnvFile: '/dev/null' },
    );
    expect(viaCred.problems).toEqual([]);
    const r = await resolveSecrets(viaCred.config!, { log: captureLog().log, registry: new Registry() });
    running.push(r);
    expect(r.config.WEBUI_API_KEY).toBe('webui-cred-Kp20');
  });

  it('VAULT_ADDR without VAULT_ROLE_ID is a configuration problem', () => {
    expect(
      loadConfig(
        {
          MUTT_ENV_FILE: '/dev/null',
          VAULT_ADDR: 'http://127.0.0.1:8200',
          VAULT_SECRET_ID_FILE: '/dev/null',
        },
        { defaultEnvFile: '/dev/null' },
      ).problems,
    ).toContain('VAULT_ADDR is set but VAULT_ROLE_ID is not: MUTT logs in to Vault with AppRole');
  });

  it('an unreachable Vault: start-up retries, then stops with the reason', async () => {
    const port = await freePort();
    const vault = new VaultStandIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.put('secret/mutt', pythonLayout('late'));
    const env = {
      ...vaultEnv(vault, role),
      VAULT_ADDR: `http://127.0.0.1:${port}`,
      VAULT_STARTUP_TIMEOUT: '2',
    };
    const started = Date.now();
    const { err, log } = await startup(env);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).exitCode).toBe(69);
    expect(err!.message).toMatch(
      new RegExp(
        `^Vault at http://127.0.0.1:${port} is unreachable \\(.*ECONNREFUSED.*\\); gave up after VAULT_STARTUP_TIMEOUT=2 s: start-up stopped$`,
      ),
    );
    expect(log.match(/waiting for Vault/g)!.length).toBeGreaterThanOrEqual(2);

    // Vault coming up within the timeout: start-up goes on.
    const later = startup({ ...env, VAULT_STARTUP_TIMEOUT: '10' });
    await new Promise((r) => setTimeout(r, 1200));
    await vault.start(port);
    standIns.push(vault);
    expect((await later).err).toBeUndefined();
  });

  it('a sealed Vault at start-up: retried, then stopped saying it is sealed', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.sealed = true;
    const { err } = await startup({ ...vaultEnv(vault, role), VAULT_STARTUP_TIMEOUT: '1' });
    expect(err!.message).toMatch(
      /^Vault at http:\/\/127\.0\.0\.1:\d+ is sealed \(.*503 Vault is sealed\); gave up after VAULT_STARTUP_TIMEOUT=1 s/,
    );
  });

  it('a KV path that does not exist: names the path', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    const { err } = await startup({ ...vaultEnv(vault, role), VAULT_SECRETS_PATH: 'secret/mutt-prod' });
    expect(err!.message).toBe(
      `VAULT_SECRETS_PATH="secret/mutt-prod": no such secret in Vault at ${vault.addr} (KV v2 mount "secret", path "mutt-prod"): create it with "vault kv put secret/mutt-prod …"`,
    );
  });

  it('a path outside the policy: names the path and the capability', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    const { err } = await startup({ ...vaultEnv(vault, role), VAULT_SECRETS_PATH: 'kv/mutt' });
    expect(err!.message).toMatch(
      /denied reading VAULT_SECRETS_PATH="kv\/mutt" \(GET \/v1\/kv\/data\/mutt: 403 permission denied\): the AppRole's policy needs "read" on kv\/data\/mutt/,
    );
  });

  it('a KV secret without a key the roles need: names the key and the path', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    const { INGEST_API_KEY: _i, WEBUI_API_KEY: _w, ...rest } = pythonLayout('miss');
    vault.put('secret/mutt', rest);
    const { err, log } = await startup(vaultEnv(vault, role));
    expect(err!.message).toBe(
      'INGEST_API_KEY is not in the Vault secret VAULT_SECRETS_PATH="secret/mutt" (version 1), nor in a systemd credential, INGEST_API_KEY_FILE or INGEST_API_KEY: HTTP ingest (SERVER_PORT_INGESTOR) needs it (missing too: WEBUI_API_KEY)',
    );
    expectNoSecret(err!.message + log, rest);
    // With Vault, no key is generated in its place.
    expect(() => readFileSync(join(dir, 'data', 'secrets', 'ingest_api_key'))).toThrow();
  });

  it('the API form of the path (secret/data/mutt) reads the same secret', async () => {
    const vault = await standIn();
    const role = vault.addRole('mutt', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    vault.put('secret/mutt', pythonLayout('api'));
    const { err } = await startup({ ...vaultEnv(vault, role), VAULT_SECRETS_PATH: 'secret/data/mutt' });
    expect(err).toBeUndefined();
  });
});
