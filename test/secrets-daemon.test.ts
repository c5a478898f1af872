// Secrets in a running `mutt serve` (the bundled dist/mutt.js): a Python MUTT 2.x Vault layout used
// unchanged, a key rotated in Vault taking effect without a restart in the main thread (ingest) and
// in the worker threads (the Moogsoft key of the forwarder), a Vault outage that changes nothing,
// systemd credentials and SIGHUP re-reads. Every log line, `mutt validate` and `mutt status` output
// is scanned for the secret values.
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pythonAlert } from './fixtures/alerts.ts';
import { metric, pushAlerts, scenario, until } from './harness/forwarding.ts';
import { MockMoogsoft } from './harness/mock-moogsoft.ts';
import { type MuttProcess, runMutt, runMuttAsync, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';
import { makePki, makeServerCert } from './harness/tls.ts';
import { VaultStandIn } from './harness/vault.ts';

let svc: TestServices;
let mock: MockMoogsoft;
let vault: VaultStandIn;
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices();
  mock = await MockMoogsoft.start();
  vault = new VaultStandIn();
  await vault.start();
});
afterEach(async () => {
  for (const p of procs.splice(0)) await p.stop().catch(() => p.kill('SIGKILL'));
});
afterAll(async () => {
  await vault.stop();
  await mock.close();
  await svc.cleanup();
});

const event = (i: number) => ({
  hostname: `r${i}`,
  message: `link ${i} down`,
  timestamp: '2025-11-08T12:00:00Z',
});

async function post(port: number, key: string, body: unknown = event(1)): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/ingest`, {
    method: 'POST',
    headers: { 'X-API-KEY': key, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Everything the process wrote (log lines and standard error). */
const output = (p: MuttProcess) => [...p.lines.map((l) => JSON.stringify(l)), ...p.stderr].join('\n');

function expectNoSecrets(text: string, secrets: string[]): void {
  for (const s of secrets) expect(text, `a secret value leaked: ${s.slice(0, 6)}…`).not.toContain(s);
}

/** GET over HTTPS verified with `ca`: the status and the server certificate's serial. */
function httpsGet(
  port: number,
  path: string,
  ca: string,
  key: string,
): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, ca: readFileSync(ca), agent: false, headers: { 'X-API-KEY': key } },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function baseEnv(s: { env: Record<string, string> }): Record<string, string> {
  const { INGEST_API_KEY: _i, WEBUI_API_KEY: _w, DB_USER: _u, ...rest } = s.env;
  return rest;
}

describe('a running MUTT follows Vault', () => {
  it('takes a Python MUTT layout unchanged, and applies rotated keys in the main thread and the workers without a restart', async () => {
    const role = vault.addRole('mutt-node', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    const sidDir = mkdtempSync(join(svc.tmp, 'vault-'));
    const sidFile = join(sidDir, 'vault_secret_id');
    writeFileSync(sidFile, `${role.secretId}\n`, { mode: 0o600 });
    const v1 = {
      INGEST_API_KEY: 'ingest-k1-4f9a2c',
      WEBUI_API_KEY: 'webui-k1-77d1e0',
      MOOG_API_KEY: 'moog-m1-b03c55',
      DB_USER: svc.services.postgres.user,
    };
    vault.put('secret/mutt-daemon', v1);
    const s = await scenario(svc, {});
    const env = {
      ...baseEnv(s),
      MUTT_ROLES: 'listeners,alerter,forwarder',
      MOOG_WEBHOOK_URL: mock.url,
      VAULT_ADDR: vault.addr,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID_FILE: sidFile,
      VAULT_SECRETS_PATH: 'secret/mutt-daemon',
      VAULT_SECRET_CHECK_INTERVAL: '1',
      VAULT_RENEW_CHECK_INTERVAL: '1',
    };
    const p = startMutt(env);
    procs.push(p);
    const port = await p.running();
    await p.waitForMessage('forwarder started');

    // DB_USER came from Vault: the alerter reaches PostgreSQL as that user.
    await until(
      async () => {
        const h = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { postgres: string };
        return h.postgres === 'ok';
      },
      30_000,
      'PostgreSQL reached with the DB_USER from Vault',
    );
    expect(await post(port, v1.INGEST_API_KEY)).toBe(200);
    expect(await post(port, 'not-the-key')).toBe(401);
    await pushAlerts(svc.redis, s.keys, [pythonAlert(1)]);
    await mock.until(() => mock.acceptedIds().includes('py-000001'), 15_000, 'alert 1');
    expect(mock.posts().at(-1)!.headers.authorization).toBe(`Bearer ${v1.MOOG_API_KEY}`);

    // Version 2: a new ingest key with the old one as PREVIOUS, a new Moogsoft key.
    const v2 = {
      ...v1,
      INGEST_API_KEY: 'ingest-k2-a81d3e',
      INGEST_API_KEY_PREVIOUS: v1.INGEST_API_KEY,
      MOOG_API_KEY: 'moog-m2-5e61fa',
    };
    vault.put('secret/mutt-daemon', v2);
    await p.waitFor(
      (l) => l.msg === 'a new version of the Vault secret: applying it' && l.version === 2,
      10_000,
    );
    await p.waitFor(
      (l) => l.msg === 'MOOG_API_KEY changed: the next Moogsoft requests use the new key',
      10_000,
    );
    expect(await post(port, v2.INGEST_API_KEY)).toBe(200);
    expect(await post(port, v1.INGEST_API_KEY)).toBe(200);
    expect(await metric(port, 'mutt_ingest_previous_key_requests_total')).toBe(1);
    await pushAlerts(svc.redis, s.keys, [pythonAlert(2)]);
    await mock.until(() => mock.acceptedIds().includes('py-000002'), 15_000, 'alert 2');
    const last = mock.posts().find((r) => r.ids.includes('py-000002'))!;
    expect(last.headers.authorization).toBe(`Bearer ${v2.MOOG_API_KEY}`);

    // Version 3: the previous key is withdrawn.
    const { INGEST_API_KEY_PREVIOUS: _gone, ...v3 } = v2;
    vault.put('secret/mutt-daemon', v3);
    await p.waitFor(
      (l) => l.msg === 'a new version of the Vault secret: applying it' && l.version === 3,
      10_000,
    );
    expect(await post(port, v1.INGEST_API_KEY)).toBe(401);
    expect(await post(port, v2.INGEST_API_KEY)).toBe(200);

    // A sealed Vault changes nothing for the traffic; the metric says it.
    vault.sealed = true;
    await until(async () => (await metric(port, 'mutt_vault_up')) === 0, 10_000, 'mutt_vault_up 0');
    expect(await post(port, v2.INGEST_API_KEY)).toBe(200);
    await pushAlerts(svc.redis, s.keys, [pythonAlert(3)]);
    await mock.until(() => mock.acceptedIds().includes('py-000003'), 15_000, 'alert 3 during the outage');
    vault.sealed = false;
    await until(async () => (await metric(port, 'mutt_vault_up')) === 1, 10_000, 'mutt_vault_up 1');
    expect(await metric(port, 'mutt_vault_token_ttl_seconds')).toBeGreaterThan(3000);

    // The CLI reads the same secrets (one login) and prints none of them.
    const status = await runMuttAsync(['status'], env);
    expect(status.status).toBe(0);
    const validate = runMutt(['validate'], env);
    expect(validate.status).toBe(0);
    expect(validate.stdout).toContain(`secrets:     Vault ${vault.addr}, KV v2 secret/mutt-daemon`);

    await p.stop();
    const all = [output(p), status.stdout, status.stderr, validate.stdout, validate.stderr].join('\n');
    expectNoSecrets(all, [
      role.secretId,
      v1.INGEST_API_KEY,
      v1.WEBUI_API_KEY,
      v1.MOOG_API_KEY,
      v2.INGEST_API_KEY,
      v2.MOOG_API_KEY,
      ...vault.issuedTokens(),
    ]);
  });

  it('a wrong secret ID stops start-up with exit 78 and the reason, without the secret ID', async () => {
    const role = vault.addRole('mutt-bad', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    const sidFile = join(mkdtempSync(join(svc.tmp, 'vault-')), 'vault_secret_id');
    writeFileSync(sidFile, 'c0ffee-not-a-secret-id\n', { mode: 0o600 });
    const s = await scenario(svc, {});
    const p = startMutt({
      ...baseEnv(s),
      MUTT_ROLES: 'listeners',
      VAULT_ADDR: vault.addr,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID_FILE: sidFile,
    });
    procs.push(p);
    expect((await p.exited()).code).toBe(78);
    expect(p.stderr.join('')).toContain(
      `mutt: Vault at ${vault.addr} refused the AppRole login (invalid role or secret ID): check VAULT_ROLE_ID and the secret ID in VAULT_SECRET_ID_FILE="${sidFile}"`,
    );
    expectNoSecrets(output(p), ['c0ffee-not-a-secret-id']);
  });

  it('a world-readable secret ID file: `mutt validate` and `mutt serve` stop naming the file and the chmod', async () => {
    const role = vault.addRole('mutt-wide', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    const sidFile = join(mkdtempSync(join(svc.tmp, 'vault-')), 'vault_secret_id');
    writeFileSync(sidFile, `${role.secretId}\n`);
    chmodSync(sidFile, 0o644);
    const s = await scenario(svc, {});
    const env = {
      ...baseEnv(s),
      MUTT_ROLES: 'listeners',
      VAULT_ADDR: vault.addr,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID_FILE: sidFile,
    };
    const r = runMutt(['validate'], env);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(
      `mutt: configuration error: VAULT_SECRET_ID_FILE="${sidFile}": readable by every user (mode 0644); run "chmod 600 ${sidFile}" (owner mutt)`,
    );
    const p = startMutt(env);
    procs.push(p);
    expect((await p.exited()).code).toBe(78);
    expectNoSecrets(output(p) + r.stdout + r.stderr, [role.secretId]);
  });
});

describe('the admin server of `mutt serve`', () => {
  it('serves HTTPS with WEBUI_TLS_CERT/WEBUI_TLS_KEY, follows a key rotated in Vault, and reloads its certificate on SIGHUP', async () => {
    const dir = mkdtempSync(join(svc.tmp, 'webui-pki-'));
    const pki = makePki(dir);
    const live = { cert: join(dir, 'webui.pem'), key: join(dir, 'webui.key') };
    copyFileSync(pki.certFile, live.cert);
    copyFileSync(pki.keyFile, live.key);
    const role = vault.addRole('mutt-webui', { tokenTtl: 3600, tokenMaxTtl: 14400 });
    const sidFile = join(mkdtempSync(join(svc.tmp, 'vault-')), 'vault_secret_id');
    writeFileSync(sidFile, role.secretId, { mode: 0o600 });
    const w1 = { WEBUI_API_KEY: 'webui-w1-0c9d1e', DB_USER: svc.services.postgres.user };
    vault.put('secret/mutt-webui', w1);
    const s = await scenario(svc, {});
    const webuiPort = await freePort();
    const p = startMutt({
      ...baseEnv(s),
      MUTT_ROLES: 'webui',
      SERVER_PORT_WEBUI: String(webuiPort),
      WEBUI_TLS_CERT: live.cert,
      WEBUI_TLS_KEY: live.key,
      VAULT_ADDR: vault.addr,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID_FILE: sidFile,
      VAULT_SECRETS_PATH: 'secret/mutt-webui',
      VAULT_SECRET_CHECK_INTERVAL: '1',
    });
    procs.push(p);
    const info = await p.waitForMessage('MUTT is running', 60_000);
    expect(info.webuiPort).toBe(webuiPort);
    const version = (key: string) => httpsGet(webuiPort, '/api/v1/version', pki.caFile, key);
    expect((await version(w1.WEBUI_API_KEY)).status).toBe(200);
    expect((await version('not-the-key')).status).toBe(401);

    vault.put('secret/mutt-webui', {
      ...w1,
      WEBUI_API_KEY: 'webui-w2-7a3b44',
      WEBUI_API_KEY_PREVIOUS: w1.WEBUI_API_KEY,
    });
    await p.waitFor(
      (l) => l.msg === 'a new version of the Vault secret: applying it' && l.version === 2,
      10_000,
    );
    expect((await version('webui-w2-7a3b44')).status).toBe(200);
    expect((await version(w1.WEBUI_API_KEY)).status).toBe(200);
    vault.put('secret/mutt-webui', { ...w1, WEBUI_API_KEY: 'webui-w2-7a3b44' });
    await p.waitFor(
      (l) => l.msg === 'a new version of the Vault secret: applying it' && l.version === 3,
      10_000,
    );
    expect((await version(w1.WEBUI_API_KEY)).status).toBe(401);

    const first = (await version('webui-w2-7a3b44')).serial;
    const renewed = makeServerCert(dir, { name: 'webui-renewed', days: 30 });
    copyFileSync(renewed.keyFile, live.key);
    copyFileSync(renewed.certFile, live.cert);
    p.kill('SIGHUP');
    await p.waitForMessage('webui TLS certificate reloaded');
    const second = (await version('webui-w2-7a3b44')).serial;
    expect(second).not.toBe(first);
    const metrics = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
    expect(metrics).toMatch(/^mutt_tls_certificate_expiry_seconds\{listener="webui"\} \d+$/m);
    await p.stop();
    expectNoSecrets(output(p), [role.secretId, w1.WEBUI_API_KEY, 'webui-w2-7a3b44']);
  });
});

describe('systemd credentials and SIGHUP', () => {
  it('takes a credential over the environment, and applies changed credentials and <NAME>_FILE files on SIGHUP', async () => {
    const creds = mkdtempSync(join(svc.tmp, 'creds-'));
    writeFileSync(join(creds, 'INGEST_API_KEY'), 'cred-key-1-9b7c');
    const webuiFile = join(svc.tmp, 'webui_api_key');
    writeFileSync(webuiFile, 'webui-file-1-11aa\n', { mode: 0o600 });
    const s = await scenario(svc, {});
    const env = {
      ...baseEnv(s),
      MUTT_ROLES: 'listeners',
      CREDENTIALS_DIRECTORY: creds,
      INGEST_API_KEY: 'env-key-shadowed-31',
      WEBUI_API_KEY_FILE: webuiFile,
    };
    const p = startMutt(env);
    procs.push(p);
    const port = await p.running();
    expect(p.stderr.join('') + output(p)).not.toContain('env-key-shadowed-31');
    expect(await post(port, 'cred-key-1-9b7c')).toBe(200);
    expect(await post(port, 'env-key-shadowed-31')).toBe(401);

    writeFileSync(join(creds, 'INGEST_API_KEY'), 'cred-key-2-4e5f');
    writeFileSync(join(creds, 'INGEST_API_KEY_PREVIOUS'), 'cred-key-1-9b7c');
    writeFileSync(webuiFile, 'webui-file-2-22bb\n');
    p.kill('SIGHUP');
    const changed = await p.waitForMessage('secrets changed: applied in every thread');
    expect(changed.secrets).toEqual(['INGEST_API_KEY', 'INGEST_API_KEY_PREVIOUS', 'WEBUI_API_KEY']);
    expect(await post(port, 'cred-key-2-4e5f')).toBe(200);
    expect(await post(port, 'cred-key-1-9b7c')).toBe(200);
    await p.stop();
    expectNoSecrets(output(p), [
      'cred-key-1-9b7c',
      'cred-key-2-4e5f',
      'env-key-shadowed-31',
      'webui-file-1-11aa',
      'webui-file-2-22bb',
    ]);
  });
});
