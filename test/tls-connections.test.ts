// TLS to Redis and PostgreSQL against real servers, with a throw-away CA made by openssl:
// redis-server on a TLS port only, redis-sentinel on TLS, PostgreSQL with ssl=on, client
// certificates required. MUTT connects with verification (REDIS_TLS_ENABLED, REDIS_CA_CERT_PATH,
// REDIS_TLS_CERT_PATH/KEY_PATH; DB_TLS_ENABLED, DB_TLS_CA_CERT_PATH, DB_TLS_CERT_PATH/KEY_PATH) and
// refuses, saying why, a server whose certificate names another host, has expired, or is signed by
// another CA.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/runtime/config/load.ts';
import { createLogger } from '../src/runtime/logging.ts';
import { migrate } from '../src/runtime/migrate.ts';
import { createPool, explainPgError } from '../src/runtime/postgres.ts';
import { createRedis, endpointFromConfig, redisProblem } from '../src/runtime/redis.ts';
import { addRule, until } from './harness/alerting.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import {
  type SecurePostgres,
  startSecurePostgres,
  startTlsRedis,
  startTlsSentinel,
} from './harness/secure-servers.ts';
import { type TestServices, useServices } from './harness/services.ts';
import { makeClientCert, makePki, makeServerCert, type TestPki } from './harness/tls.ts';

let svc: TestServices;
let pki: TestPki;
let client: { certFile: string; keyFile: string };
let pgClient: { certFile: string; keyFile: string };
const bad: Record<'host' | 'expired' | 'otherCa', { certFile: string; keyFile: string }> = {} as never;
const stops: (() => Promise<unknown>)[] = [];
const procs: MuttProcess[] = [];

beforeAll(async () => {
  svc = await useServices({ database: false });
  const dir = join(svc.tmp, 'pki');
  mkdirSync(dir);
  pki = makePki(dir);
  client = makeClientCert(dir, 'mutt-client');
  pgClient = makeClientCert(dir, 'mutt_tls'); // PostgreSQL's clientcert=verify-full: CN = user name
  bad.host = makeServerCert(dir, { name: 'wrong-host', san: 'DNS:redis.example.net' });
  bad.expired = makeServerCert(dir, { name: 'expired', days: -1 });
  bad.otherCa = makeServerCert(dir, { name: 'other-ca-signed', ca: 'other-ca' });
});
afterAll(async () => {
  for (const p of procs) await p.stop().catch(() => p.kill('SIGKILL'));
  for (const s of stops.reverse()) await s().catch(() => {});
  await svc.cleanup();
});

const tlsOf = (s: { certFile: string; keyFile: string }) => ({
  cert: s.certFile,
  key: s.keyFile,
  ca: pki.caFile,
});

/** The server certificates a client must refuse, and the reason MUTT gives for each. */
function refusals(service: string, caVar: string) {
  return [
    [
      'a certificate for another host',
      'host',
      new RegExp(
        `^the ${service} server certificate is not valid for "127\\.0\\.0\\.1" \\(it names DNS:redis\\.example\\.net\\): connection refused \\(ERR_TLS_CERT_ALTNAME_INVALID\\)$`,
      ),
    ],
    [
      'an expired certificate',
      'expired',
      new RegExp(
        `^the ${service} server certificate has expired: connection refused \\(CERT_HAS_EXPIRED\\)$`,
      ),
    ],
    [
      'a certificate signed by another CA',
      'otherCa',
      new RegExp(
        `^the ${service} server certificate is not signed by a CA in ${caVar}=".*ca\\.pem": connection refused \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\)$`,
      ),
    ],
  ] as const;
}

function captureLog() {
  const lines: string[] = [];
  return { log: createLogger({ destination: { write: (s: string) => void lines.push(s) } }), lines };
}

async function redisOn(port: number, clientCert: boolean): Promise<number> {
  const tlsPort = port;
  const server = await startTlsRedis({
    binary: svc.services.redisServerBinary,
    dir: join(svc.tmp, `redis-${tlsPort}`),
    tlsPort,
    tls: { cert: pki.certFile, key: pki.keyFile, ca: pki.caFile },
    clientCerts: clientCert,
  });
  stops.push(() => server.stop());
  return tlsPort;
}

const redisEnv = (port: number, extra: Record<string, string> = {}) => ({
  REDIS_HOST: '127.0.0.1',
  REDIS_PORT: String(port),
  REDIS_TLS_ENABLED: 'true',
  REDIS_CA_CERT_PATH: pki.caFile,
  REDIS_TLS_CERT_PATH: client.certFile,
  REDIS_TLS_KEY_PATH: client.keyFile,
  ...extra,
});

/** Connects as MUTT does; resolves with 'ready' or the reason the connection is refused. */
async function tryRedis(
  c: Config,
): Promise<{ ready: boolean; problem?: string; log: string; msgs: string[]; client: Redis }> {
  const cap = captureLog();
  const r = createRedis(c, endpointFromConfig(c), { name: 'tls-test', log: cap.log });
  // Ready, or refused with a reason, or (no reason found) still not ready after 2.5 s.
  const deadline = Date.now() + 2500;
  while (r.status !== 'ready' && redisProblem(r) === undefined && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 25));
  const ready = r.status === 'ready';
  const msgs = cap.lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  const out = { ready, problem: redisProblem(r), log: cap.lines.join(''), msgs, client: r };
  if (!ready) r.disconnect();
  return out;
}

describe('Redis over TLS', () => {
  let port: number;
  beforeAll(async () => {
    port = await redisOn(await freePort(), true);
  });

  it('connects with verification and a client certificate', async () => {
    const r = await tryRedis(svc.config(redisEnv(port)));
    expect(r.ready).toBe(true);
    expect(await r.client.set('tls-probe', '1')).toBe('OK');
    r.client.disconnect();
  });

  it('without a client certificate, the server refuses and MUTT says the server requires one', async () => {
    const { REDIS_TLS_CERT_PATH: _c, REDIS_TLS_KEY_PATH: _k, ...env } = redisEnv(port);
    const r = await tryRedis(svc.config(env));
    expect(r.ready).toBe(false);
    expect(r.problem).toMatch(
      /^the Redis server (requires a client certificate: set REDIS_TLS_CERT_PATH|at 127\.0\.0\.1 closed the TLS connection \(ECONNRESET\): if it requires client certificates, set REDIS_TLS_CERT_PATH and its key)/,
    );
  });

  it.each(refusals('Redis', 'REDIS_CA_CERT_PATH'))(
    '%s: refused, with the reason',
    async (_, which, reason) => {
      const p = await freePort();
      const server = await startTlsRedis({
        binary: svc.services.redisServerBinary,
        dir: join(svc.tmp, `redis-bad-${which}`),
        tlsPort: p,
        tls: tlsOf(bad[which]),
        clientCerts: false,
      });
      stops.push(() => server.stop());
      const r = await tryRedis(svc.config(redisEnv(p)));
      expect(r.ready).toBe(false);
      expect(r.problem).toMatch(reason);
      expect(r.msgs).toContain(`waiting for Redis: ${r.problem}`);
    },
  );

  it('works through Sentinel with TLS (Sentinel and master on TLS ports only, client certificates required)', async () => {
    const masterPort = await freePort();
    await redisOn(masterPort, true);
    const sentinelPort = await freePort();
    const sentinel = await startTlsSentinel({
      binary: svc.services.redisServerBinary,
      dir: join(svc.tmp, 'sentinel-tls'),
      port: sentinelPort,
      master: { host: '127.0.0.1', port: masterPort },
      name: 'tlsmaster',
      tls: { cert: pki.certFile, key: pki.keyFile, ca: pki.caFile },
      pem: {
        cert: readFileSync(client.certFile, 'utf8'),
        key: readFileSync(client.keyFile, 'utf8'),
        ca: readFileSync(pki.caFile, 'utf8'),
      },
    });
    stops.push(() => sentinel.stop());
    const { REDIS_HOST: _h, REDIS_PORT: _p, ...tlsEnv } = redisEnv(masterPort);
    const c = svc.config({
      ...tlsEnv,
      REDIS_HOST: '',
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_MASTER: 'tlsmaster',
    });
    const r = await tryRedis(c);
    expect(r.ready).toBe(true);
    await r.client.set('via-tls-sentinel', 'yes');
    const direct = await tryRedis(svc.config(redisEnv(masterPort)));
    expect(await direct.client.get('via-tls-sentinel')).toBe('yes');
    r.client.disconnect();
    direct.client.disconnect();
    // Without TLS towards Sentinel, nothing is found (the Sentinel port speaks TLS only).
    const plain = await tryRedis({ ...c, REDIS_SENTINEL_TLS_ENABLED: false });
    expect(plain.ready).toBe(false);
  });
});

describe('PostgreSQL over TLS', () => {
  let pgs: SecurePostgres;
  beforeAll(async () => {
    pgs = await startSecurePostgres({
      binDir: svc.services.postgres.binDir,
      dir: join(svc.tmp, 'pg-tls'),
      port: await freePort(),
      // TLS only, with a password and a client certificate whose CN is the user.
      hba: [
        'hostnossl all all 0.0.0.0/0 reject',
        'hostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-full',
      ],
      tls: { cert: pki.certFile, key: pki.keyFile, ca: pki.caFile },
    });
    stops.push(() => pgs.stop());
    const a = await pgs.admin();
    await a.query("CREATE ROLE mutt_tls LOGIN PASSWORD 'tls-db-pass-3e1'");
    await a.query('CREATE DATABASE mutt_db OWNER mutt_tls');
    await a.end();
  });

  const pgEnv = (extra: Record<string, string> = {}) => ({
    DB_HOST: '127.0.0.1',
    DB_PORT: String(pgs.port),
    DB_USER: 'mutt_tls',
    DB_PASS: 'tls-db-pass-3e1',
    DB_NAME: 'mutt_db',
    DB_TLS_ENABLED: 'true',
    DB_TLS_CA_CERT_PATH: pki.caFile,
    DB_TLS_CERT_PATH: pgClient.certFile,
    DB_TLS_KEY_PATH: pgClient.keyFile,
    ...extra,
  });

  const tryPg = async (env: Record<string, string>) => {
    const c = svc.config(env);
    const pool = createPool(
      c,
      { host: '127.0.0.1', port: pgs.port },
      { name: 'tls-test', log: captureLog().log, max: 1 },
    );
    try {
      const r = await pool.query<{ ssl: boolean; client_dn: string }>(
        'SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      return { row: r.rows[0] };
    } catch (err) {
      return { error: explainPgError(err, c, '127.0.0.1') };
    } finally {
      await pool.end();
    }
  };

  /**
   * Serves another certificate: the files are replaced in place and PostgreSQL reloads them on
   * pg_reload_conf(), as after a renewal. Resolves once a new connection gives `expected`.
   */
  async function serve(
    cert: { certFile: string; keyFile: string },
    expected: (r: Awaited<ReturnType<typeof tryPg>>) => boolean,
  ) {
    pgs.install(cert.certFile, 'server.pem');
    pgs.install(cert.keyFile, 'server.key', true);
    const a = await pgs.admin();
    await a.query('SELECT pg_reload_conf()');
    await a.end();
    let last: Awaited<ReturnType<typeof tryPg>> | undefined;
    await until(
      async () => expected((last = await tryPg(pgEnv()))),
      10_000,
      'the new certificate in use',
    ).catch((err: Error) => {
      throw new Error(`${err.message}: last outcome ${JSON.stringify(last)}`);
    });
    return last!;
  }
  const good = () => serve({ certFile: pki.certFile, keyFile: pki.keyFile }, (r) => r.row !== undefined);

  it('connects with verification, a password and a client certificate', async () => {
    await good();
    expect(await tryPg(pgEnv())).toEqual({ row: { ssl: true, client_dn: '/CN=mutt_tls' } });
  });

  it('without a client certificate, the server refuses', async () => {
    const { DB_TLS_CERT_PATH: _c, DB_TLS_KEY_PATH: _k, ...env } = pgEnv();
    const r = await tryPg(env);
    expect(r.error).toMatch(/connection requires a valid client certificate/);
  });

  it.each(refusals('PostgreSQL', 'DB_TLS_CA_CERT_PATH'))(
    '%s: refused, with the reason',
    async (_, which, reason) => {
      const r = await serve(bad[which], (x) => x.error !== undefined);
      expect(r.error).toMatch(reason);
      await good();
    },
  );

  it('a whole `mutt serve` (ingest and alerter) on TLS Redis and TLS PostgreSQL: events audited, every connection TLS', async () => {
    const redisPort = await redisOn(await freePort(), true);
    const port = await freePort();
    const env = {
      ...svc.env,
      ...redisEnv(redisPort),
      ...pgEnv(),
      MUTT_ROLES: 'listeners,alerter',
      SERVER_PORT_INGESTOR: String(port),
      BRPOPLPUSH_TIMEOUT: '1',
    };
    // The schema and a rule first, as MUTT's role over TLS (so every event below is decided by it).
    const pool = createPool(
      svc.config(pgEnv()),
      { host: '127.0.0.1', port: pgs.port },
      { name: 'setup', log: captureLog().log, max: 1 },
    );
    await migrate(pool, captureLog().log);
    await addRule(pool, { match_string: 'down' });
    await pool.end();
    const p = startMutt(env);
    procs.push(p);
    await p.running();
    await p.waitForMessage('alerter started');
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/ingest`, {
        method: 'POST',
        headers: { 'X-API-KEY': svc.env.INGEST_API_KEY! },
        body: JSON.stringify({
          hostname: `tls${i}`,
          message: `Gi0/${i} down`,
          timestamp: '2025-11-08T12:00:00Z',
        }),
      });
      expect(res.status).toBe(200);
    }
    const a = await pgs.admin('mutt_db');
    try {
      await until(
        async () => Number((await a.query('SELECT count(*) AS n FROM event_audit_log')).rows[0].n) === 20,
        30_000,
        '20 audited',
      );
      const conns = await a.query<{ ssl: boolean; client_dn: string }>(
        "SELECT s.ssl, s.client_dn FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'mutt_tls'",
      );
      expect(conns.rows.length).toBeGreaterThan(0);
      expect(conns.rows.every((r) => r.ssl && r.client_dn === '/CN=mutt_tls')).toBe(true);
    } finally {
      await a.end();
    }
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'healthy', redis: 'ok', postgres: 'ok' });
    await p.stop();
    expect(JSON.stringify(p.lines)).not.toContain('tls-db-pass-3e1');
  });

  it('a `mutt serve` facing a Redis certificate for another host: /health and the log say why, ingest answers 503', async () => {
    const p1 = await freePort();
    const server = await startTlsRedis({
      binary: svc.services.redisServerBinary,
      dir: join(svc.tmp, 'redis-wrong-host-daemon'),
      tlsPort: p1,
      tls: tlsOf(bad.host),
    });
    stops.push(() => server.stop());
    const port = await freePort();
    const p = startMutt({
      ...svc.env,
      ...redisEnv(p1),
      MUTT_ROLES: 'listeners',
      SERVER_PORT_INGESTOR: String(port),
    });
    procs.push(p);
    await p.running();
    const line = await p.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('waiting for Redis: '));
    expect(line.msg).toBe(
      'waiting for Redis: the Redis server certificate is not valid for "127.0.0.1" (it names DNS:redis.example.net): connection refused (ERR_TLS_CERT_ALTNAME_INVALID)',
    );
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
    expect(health.redis).toBe(
      'error: the Redis server certificate is not valid for "127.0.0.1" (it names DNS:redis.example.net): connection refused (ERR_TLS_CERT_ALTNAME_INVALID)',
    );
    const res = await fetch(`http://127.0.0.1:${port}/ingest`, {
      method: 'POST',
      headers: { 'X-API-KEY': svc.env.INGEST_API_KEY! },
      body: JSON.stringify({ hostname: 'x', message: 'y', timestamp: '2025-11-08T12:00:00Z' }),
    });
    expect(res.status).toBe(503);
    await p.stop();
  });
});
