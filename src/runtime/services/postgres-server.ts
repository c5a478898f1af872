// A private PostgreSQL cluster: MUTT's embedded default and the test harness's throw-away instance.
// `initdb` on first use, then `postgres` in the foreground under supervision. PostgreSQL refuses to
// run as root, so when MUTT is root the cluster runs as an unprivileged user (Debian's `postgres`,
// or `mutt` under the RPM) that owns the cluster directory.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../logging.ts';
import { abortableSleep } from '../sleep.ts';
import { lookupUid, lookupUser, type SystemUser } from './binaries.ts';
import { ManagedProcess, stopStale } from './process.ts';

export interface PostgresServerOptions {
  binDir: string;
  /** Parent directory: the cluster lives in `<dir>/data`, the socket in `<dir>/run`. */
  dir: string;
  log: Logger;
  superuser: string;
  database: string;
  /** Socket name (`.s.PGSQL.<port>`) and, when `listen` is set, the TCP port. */
  port?: number;
  /** '' (default): Unix socket only; e.g. '127.0.0.1' to accept TCP on loopback. */
  listen?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
  /** Skip fsync during initdb (tests). */
  fastInit?: boolean;
}

export interface PostgresServerHandle {
  /** For clients: the socket directory (or the TCP address when listening on one). */
  host: string;
  socketDir: string;
  port: number;
  runAs: SystemUser | undefined;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * The user the cluster runs as when MUTT is root (undefined when MUTT is not root): the owner of an
 * existing cluster directory `dir` when that is not root (so `mutt migrate` run by root keeps the
 * cluster the `mutt` service user owns), else `mutt` (the package's service user), else `postgres`.
 */
export function postgresRunAs(dir?: string): SystemUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (dir && existsSync(dir)) {
    const st = statSync(dir);
    if (st.uid !== 0) {
      const owner = lookupUid(st.uid);
      if (owner) return owner;
    }
  }
  for (const name of ['mutt', 'postgres']) {
    const u = lookupUser(name);
    if (u && u.uid !== 0) return u;
  }
  throw new Error(
    'PostgreSQL refuses to run as root and no unprivileged "postgres" or "mutt" user exists: create one (useradd --system mutt) or run MUTT as a non-root user',
  );
}

/** Every ancestor of `path` must be searchable by the user that runs postgres. */
export function assertReachable(path: string, u: SystemUser): void {
  let dir = dirname(path);
  const blocked: string[] = [];
  for (;;) {
    if (existsSync(dir)) {
      const st = statSync(dir);
      const bit = st.uid === u.uid ? 0o100 : st.gid === u.gid ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) blocked.push(`${dir} (mode ${(st.mode & 0o777).toString(8)})`);
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  if (blocked.length > 0) {
    throw new Error(
      `PostgreSQL runs as user "${u.name}", which cannot reach ${path}: ${blocked.join(', ')} ` +
        'cannot be searched. Set MUTT_DATA_DIR to a directory outside it (the default for root is /var/lib/mutt) or allow search with chmod o+x.',
    );
  }
}

async function waitForPg(cfg: pg.ClientConfig, signal: AbortSignal): Promise<void> {
  for (;;) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    const client = new pg.Client({ ...cfg, connectionTimeoutMillis: 1000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      await abortableSleep(100, signal);
    }
  }
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

export async function startPostgres(o: PostgresServerOptions): Promise<PostgresServerHandle> {
  const runAs = postgresRunAs(o.dir);
  const dataDir = join(o.dir, 'data');
  const socketDir = join(o.dir, 'run');
  const port = o.port ?? 5432;
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  if (runAs) {
    chownSync(o.dir, runAs.uid, runAs.gid);
    chownSync(socketDir, runAs.uid, runAs.gid);
    assertReachable(o.dir, runAs);
  }
  const asUser = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  // Child processes get a neutral environment: PG* variables of the caller must not leak in.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', HOME: o.dir };

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    o.log.info({ dir: dataDir }, 'initialising the PostgreSQL cluster (initdb)');
    const r = spawnSync(
      join(o.binDir, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        o.superuser,
        '--auth=trust',
        '--encoding=UTF8',
        '--no-locale',
        ...(o.fastInit ? ['--no-sync'] : []),
      ],
      { env, cwd: o.dir, encoding: 'utf8', ...asUser },
    );
    if (r.status !== 0) {
      throw new Error(
        `initdb failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error)).trim()}`,
      );
    }
  }

  const settings: Record<string, string> = {
    listen_addresses: o.listen ?? '',
    unix_socket_directories: socketDir,
    unix_socket_permissions: '0700',
    max_connections: '200',
    ...o.settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const client: pg.ClientConfig = { host: socketDir, port, user: o.superuser, database: 'postgres' };
  const proc = new ManagedProcess({
    name: 'postgres',
    command: join(o.binDir, 'postgres'),
    args,
    cwd: o.dir,
    env,
    ...asUser,
    log: o.log,
    // SIGINT is PostgreSQL's "fast" shutdown: abort open transactions, checkpoint, exit.
    stopSignal: 'SIGINT',
    stopTimeoutMs: 60_000,
    readyTimeoutMs: 120_000,
    beforeStart: async () => {
      const pidFile = join(dataDir, 'postmaster.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
        if (pid > 0) await stopStale(pid, 'postgres', 'SIGINT', o.log, 60_000);
      }
    },
    ready: (signal) => waitForPg(client, signal),
  });
  await proc.start();

  // The application database, owned by the superuser MUTT connects as.
  const admin = new pg.Client(client);
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [o.database]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${quoteIdent(o.database)}`);
      o.log.info({ database: o.database }, 'created the PostgreSQL database');
    }
  } finally {
    await admin.end();
  }
  return {
    host: o.listen ? o.listen : socketDir,
    socketDir,
    port,
    runAs,
    process: proc,
    stop: () => proc.stop(),
  };
}
