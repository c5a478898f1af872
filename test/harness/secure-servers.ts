// Private Redis, Sentinel and PostgreSQL servers set up the way a hardened site runs them: TLS with a
// test CA (client certificates required where asked), password authentication that the harness's
// shared servers (trust, no password) do not have. Each is started with the same code as MUTT's
// embedded servers and stopped by the caller.
import { chownSync, copyFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import pg from 'pg';
import { ManagedProcess } from '../../src/runtime/services/process.ts';
import {
  postgresRunAs,
  type PostgresServerHandle,
  startPostgres,
} from '../../src/runtime/services/postgres-server.ts';
import { type RedisServerHandle, startRedisServer } from '../../src/runtime/services/redis-server.ts';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { quietLog } from './services.ts';

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/** redis-server with a TLS port only (no plain TCP port); its Unix socket stays for the test's admin. */
export async function startTlsRedis(o: {
  binary: string;
  dir: string;
  tlsPort: number;
  tls: TlsFiles;
  /** Require client certificates (tls-auth-clients yes). */
  clientCerts?: boolean;
  extraArgs?: string[];
}): Promise<RedisServerHandle> {
  return startRedisServer({
    binary: o.binary,
    dir: o.dir,
    persistence: 'none',
    log: quietLog(),
    extraArgs: [
      '--tls-port',
      String(o.tlsPort),
      '--tls-cert-file',
      o.tls.cert,
      '--tls-key-file',
      o.tls.key,
      '--tls-ca-cert-file',
      o.tls.ca,
      '--tls-auth-clients',
      o.clientCerts ? 'yes' : 'no',
      ...(o.extraArgs ?? []),
    ],
  });
}

/** PING over TLS (with a client certificate) until +PONG. */
export async function tlsPing(port: number, tls: TlsFiles, signal: AbortSignal): Promise<void> {
  for (;;) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    const answer = await new Promise<string>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca: tls.ca, cert: tls.cert, key: tls.key }, () =>
        s.write('PING\r\n'),
      );
      let buf = '';
      s.setTimeout(1000, () => s.destroy());
      s.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\r\n')) {
          s.destroy();
          resolve(buf);
        }
      });
      s.on('error', () => resolve(''));
      s.on('close', () => resolve(buf));
    });
    if (answer.startsWith('+PONG')) return;
    await abortableSleep(100, signal);
  }
}

/** redis-sentinel on a TLS port only, watching `master` (itself on TLS) as `name`. */
export async function startTlsSentinel(o: {
  binary: string;
  dir: string;
  port: number;
  master: { host: string; port: number };
  name: string;
  /** Files as read from disk (PEM paths) for the config, and PEM contents for the ready check. */
  tls: TlsFiles;
  pem: TlsFiles;
}): Promise<ManagedProcess> {
  mkdirSync(o.dir, { recursive: true });
  const conf = join(o.dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      'port 0',
      `tls-port ${o.port}`,
      'bind 127.0.0.1',
      `dir ${o.dir}`,
      `tls-cert-file ${o.tls.cert}`,
      `tls-key-file ${o.tls.key}`,
      `tls-ca-cert-file ${o.tls.ca}`,
      'tls-replication yes',
      'tls-auth-clients yes',
      `sentinel monitor ${o.name} ${o.master.host} ${o.master.port} 1`,
      `sentinel down-after-milliseconds ${o.name} 5000`,
      '',
    ].join('\n'),
  );
  const p = new ManagedProcess({
    name: 'redis-sentinel',
    command: o.binary,
    args: [conf, '--sentinel'],
    log: quietLog(),
    ready: (signal) => tlsPing(o.port, o.pem, signal),
  });
  await p.start();
  return p;
}

export interface SecurePostgres {
  server: PostgresServerHandle;
  port: number;
  dir: string;
  /** A superuser connection through the Unix socket (trust), for the test's own work. */
  admin(database?: string): Promise<pg.Client>;
  /** Installs a file where the server (its user) can read it; keys get mode 0600. */
  install(src: string, name: string, key?: boolean): string;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL cluster listening on 127.0.0.1 whose pg_hba.conf is `hba` (plus trust on the Unix
 * socket for the superuser), with ssl=on when `tls` is given.
 */
export async function startSecurePostgres(o: {
  binDir: string;
  dir: string;
  port: number;
  hba: string[];
  tls?: TlsFiles;
}): Promise<SecurePostgres> {
  mkdirSync(o.dir, { recursive: true });
  chmodSync(o.dir, 0o711); // the server's user must reach its cluster below
  const runAs = postgresRunAs();
  const filesDir = join(o.dir, 'files');
  mkdirSync(filesDir, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(filesDir, runAs.uid, runAs.gid);
  const install = (src: string, name: string, key = false) => {
    const dst = join(filesDir, name);
    copyFileSync(src, dst);
    if (runAs) chownSync(dst, runAs.uid, runAs.gid);
    chmodSync(dst, key ? 0o600 : 0o644);
    return dst;
  };
  const hbaFile = join(filesDir, 'pg_hba.conf');
  writeFileSync(hbaFile, ['local all all trust', ...o.hba, ''].join('\n'));
  if (runAs) chownSync(hbaFile, runAs.uid, runAs.gid);
  const settings: Record<string, string> = {
    hba_file: hbaFile,
    password_encryption: 'scram-sha-256',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
  };
  if (o.tls) {
    settings.ssl = 'on';
    settings.ssl_cert_file = install(o.tls.cert, 'server.pem');
    settings.ssl_key_file = install(o.tls.key, 'server.key', true);
    settings.ssl_ca_file = install(o.tls.ca, 'ca.pem');
    settings.ssl_min_protocol_version = 'TLSv1.2';
  }
  const server = await startPostgres({
    binDir: o.binDir,
    dir: join(o.dir, 'cluster'),
    superuser: 'postgres_admin',
    database: 'postgres',
    listen: '127.0.0.1',
    port: o.port,
    fastInit: true,
    settings,
    log: quietLog(),
  });
  const admin = async (database = 'postgres') => {
    const c = new pg.Client({ host: server.socketDir, port: o.port, user: 'postgres_admin', database });
    await c.connect();
    return c;
  };
  return { server, port: o.port, dir: o.dir, admin, install, stop: () => server.stop() };
}
