// Connections to real servers the way production uses them: Redis over TLS with a verified CA and a
// password from a file, Redis through Sentinel, and PostgreSQL over TLS with a verified CA.
import { spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/runtime/postgres.ts';
import { createRedis, describeEndpoint, endpointFromConfig, whenReady } from '../src/runtime/redis.ts';
import { postgresRunAs, startPostgres } from '../src/runtime/services/postgres-server.ts';
import { startRedisServer, waitForRedisPing } from '../src/runtime/services/redis-server.ts';
import { ManagedProcess } from '../src/runtime/services/process.ts';
import { freePort } from './harness/ports.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let pki: string;
const stops: (() => Promise<void>)[] = [];

/** A throw-away CA and a server certificate for localhost / 127.0.0.1, made with the openssl CLI. */
function makePki(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  for (const name of ['ca', 'other-ca']) {
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ]);
  }
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
}

beforeAll(async () => {
  svc = await useServices({ database: false });
  pki = join(svc.tmp, 'pki');
  makePki(pki);
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  await svc.cleanup();
});

describe('Redis over TLS', () => {
  it('verifies the server against REDIS_CA_CERT_PATH and authenticates with REDIS_PASS_FILE', async () => {
    const tlsPort = await freePort();
    const server = await startRedisServer({
      binary: svc.services.redisServerBinary,
      dir: join(svc.tmp, 'redis-tls'),
      persistence: 'none',
      log: quietLog(),
      extraArgs: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        join(pki, 'server.pem'),
        '--tls-key-file',
        join(pki, 'server.key'),
        '--tls-ca-cert-file',
        join(pki, 'ca.pem'),
        '--tls-auth-clients',
        'no',
        '--requirepass',
        's3cret-pass',
      ],
    });
    stops.push(() => server.stop());
    const passFile = join(svc.tmp, 'redis.pass');
    writeFileSync(passFile, 's3cret-pass\n');
    const base = {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(tlsPort),
      REDIS_TLS_ENABLED: 'true',
      REDIS_PASS_FILE: passFile,
    };

    const good = svc.config({ ...base, REDIS_CA_CERT_PATH: join(pki, 'ca.pem') });
    const client = createRedis(good, endpointFromConfig(good), { name: 'tls', log: quietLog() });
    await whenReady(client);
    expect(await client.set('mutt-tls-probe', 'ok')).toBe('OK');
    expect(await client.get('mutt-tls-probe')).toBe('ok');
    client.disconnect();

    // A CA that did not sign the server certificate: never connects.
    const wrong = svc.config({ ...base, REDIS_CA_CERT_PATH: join(pki, 'other-ca.pem') });
    const errors: string[] = [];
    const bad = createRedis(wrong, endpointFromConfig(wrong), { name: 'tls-bad', log: quietLog() });
    bad.on('error', (e: Error) => errors.push(e.message));
    await new Promise((r) => setTimeout(r, 1500));
    expect(bad.status).not.toBe('ready');
    expect(errors.join('\n')).toMatch(/certificate/i);
    bad.disconnect();
  });
});

describe('Redis through Sentinel', () => {
  it('finds the master named REDIS_SENTINEL_MASTER', async () => {
    const masterPort = await freePort();
    const master = await startRedisServer({
      binary: svc.services.redisServerBinary,
      dir: join(svc.tmp, 'redis-master'),
      port: masterPort,
      persistence: 'none',
      log: quietLog(),
    });
    stops.push(() => master.stop());
    const sentinelPort = await freePort();
    const dir = join(svc.tmp, 'sentinel');
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor site1 127.0.0.1 ${masterPort} 1`,
        'sentinel down-after-milliseconds site1 5000',
        '',
      ].join('\n'),
    );
    const sentinel = new ManagedProcess({
      name: 'redis-sentinel',
      command: svc.services.redisServerBinary,
      args: [conf, '--sentinel'],
      log: quietLog(),
      ready: (signal) => waitForRedisPing({ host: '127.0.0.1', port: sentinelPort }, signal),
    });
    await sentinel.start();
    stops.push(() => sentinel.stop());

    const c = svc.config({
      REDIS_HOST: '',
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_MASTER: 'site1',
    });
    expect(c.embeddedRedis).toBe(false);
    const endpoint = endpointFromConfig(c);
    expect(describeEndpoint(endpoint)).toBe(`sentinel master "site1" via 127.0.0.1:${sentinelPort}`);
    const client = createRedis(c, endpoint, { name: 'sentinel', log: quietLog() });
    await whenReady(client);
    await client.set('via-sentinel', '1');
    const direct = createRedis(
      c,
      { kind: 'tcp', host: '127.0.0.1', port: masterPort },
      { name: 'direct', log: quietLog() },
    );
    expect(await direct.get('via-sentinel')).toBe('1');
    client.disconnect();
    direct.disconnect();
  });
});

describe('PostgreSQL over TLS', () => {
  it('verifies the server against DB_TLS_CA_CERT_PATH', async () => {
    const port = await freePort();
    const dir = join(svc.tmp, 'pg-tls');
    mkdirSync(dir, { recursive: true });
    // PostgreSQL insists that its key belongs to the server's user and is private.
    const key = join(dir, 'server.key');
    const cert = join(dir, 'server.pem');
    copyFileSync(join(pki, 'server.key'), key);
    copyFileSync(join(pki, 'server.pem'), cert);
    const runAs = postgresRunAs();
    if (runAs) {
      chownSync(key, runAs.uid, runAs.gid);
      chownSync(cert, runAs.uid, runAs.gid);
    }
    spawnSync('chmod', ['600', key]);
    const server = await startPostgres({
      binDir: svc.services.postgres.binDir,
      dir: join(dir, 'cluster'),
      superuser: 'mutt_user',
      database: 'mutt_db',
      listen: '127.0.0.1',
      port,
      fastInit: true,
      settings: { ssl: 'on', ssl_cert_file: cert, ssl_key_file: key, fsync: 'off' },
      log: quietLog(),
    });
    stops.push(() => server.stop());
    const base = {
      DB_HOST: '127.0.0.1',
      DB_PORT: String(port),
      DB_USER: 'mutt_user',
      DB_NAME: 'mutt_db',
      DB_TLS_ENABLED: 'true',
    };

    const good = svc.config({ ...base, DB_TLS_CA_CERT_PATH: join(pki, 'ca.pem') });
    const pool = createPool(good, { host: '127.0.0.1', port }, { name: 'tls', log: quietLog() });
    const r = await pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    expect(r.rows[0]?.ssl).toBe(true);
    await pool.end();

    const wrong = svc.config({ ...base, DB_TLS_CA_CERT_PATH: join(pki, 'other-ca.pem') });
    const badPool = createPool(wrong, { host: '127.0.0.1', port }, { name: 'tls-bad', log: quietLog() });
    await expect(badPool.query('SELECT 1')).rejects.toThrow(/certificate/i);
    await badPool.end();
  });
});
