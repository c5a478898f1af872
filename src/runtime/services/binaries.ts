// Finding the redis-server and PostgreSQL binaries MUTT runs in its embedded (appliance) mode, and one
// clear message naming the packages when they are missing.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export class MissingBinariesError extends Error {
  readonly missing: readonly ('redis' | 'postgres')[];
  constructor(missing: ('redis' | 'postgres')[]) {
    const what = missing
      .map((m) => (m === 'redis' ? 'redis-server (or valkey-server)' : 'PostgreSQL (postgres, initdb)'))
      .join(' and ');
    const deb = missing.map((m) => (m === 'redis' ? 'redis-server' : 'postgresql')).join(' ');
    const rhel = missing.map((m) => (m === 'redis' ? 'redis' : 'postgresql-server')).join(' ');
    const vars = missing.map((m) => (m === 'redis' ? 'REDIS_HOST' : 'DB_HOST')).join(' / ');
    super(
      `MUTT runs a private ${what} when no external server is configured, but cannot find it. ` +
        `Install it with "apt-get install ${deb}" (Debian/Ubuntu) or "dnf install ${rhel}" (RHEL/Fedora${missing.includes('redis') ? '; valkey instead of redis on RHEL 10' : ''}), ` +
        `or point MUTT at existing servers with ${vars}.`,
    );
    this.name = 'MissingBinariesError';
    this.missing = missing;
  }
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(name: string, extra: readonly string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extra].filter(Boolean);
  for (const d of dirs) {
    const p = join(d, name);
    if (executable(p)) return p;
  }
  return undefined;
}

/** Where packages put the binaries besides $PATH (parameters for tests). */
export const SEARCH = {
  redisDirs: ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/opt/redis/bin'],
  pgVersionRoots: ['/usr/lib/postgresql'],
  pgVersionPrefixRoot: '/usr',
  pgDirs: ['/usr/bin', '/usr/local/pgsql/bin'],
};

/** redis-server, or Valkey's valkey-server (RHEL 10 ships Valkey, a drop-in fork, instead of Redis). */
export function findRedisServer(search = SEARCH): string | undefined {
  return findOnPath('redis-server', search.redisDirs) ?? findOnPath('valkey-server', search.redisDirs);
}

const versionOf = (dir: string) => Number.parseFloat(dir.replace(/^.*?(\d+(\.\d+)?).*$/, '$1')) || 0;

/** Directory holding both `postgres` and `initdb`, preferring the newest installed major version. */
export function findPostgresBinDir(search = SEARCH): string | undefined {
  const candidates: string[] = [];
  const onPath = findOnPath('postgres');
  if (onPath) candidates.push(dirname(realpathSync(onPath)));
  for (const root of search.pgVersionRoots) {
    if (!existsSync(root)) continue;
    const versions = readdirSync(root).sort((a, b) => versionOf(b) - versionOf(a));
    for (const v of versions) candidates.push(join(root, v, 'bin'));
  }
  if (existsSync(search.pgVersionPrefixRoot)) {
    // PGDG packages on RHEL: /usr/pgsql-16/bin
    const pgsql = readdirSync(search.pgVersionPrefixRoot)
      .filter((d) => d.startsWith('pgsql-'))
      .sort((a, b) => versionOf(b) - versionOf(a));
    for (const d of pgsql) candidates.push(join(search.pgVersionPrefixRoot, d, 'bin'));
  }
  candidates.push(...search.pgDirs);
  return candidates.find((d) => executable(join(d, 'postgres')) && executable(join(d, 'initdb')));
}

/** Throws one MissingBinariesError naming everything that is missing. */
export function requireBinaries(
  need: { redis: boolean; postgres: boolean },
  search = SEARCH,
): { redisServer?: string; pgBinDir?: string } {
  const redisServer = need.redis ? findRedisServer(search) : undefined;
  const pgBinDir = need.postgres ? findPostgresBinDir(search) : undefined;
  const missing: ('redis' | 'postgres')[] = [];
  if (need.redis && !redisServer) missing.push('redis');
  if (need.postgres && !pgBinDir) missing.push('postgres');
  if (missing.length > 0) throw new MissingBinariesError(missing);
  return { redisServer, pgBinDir };
}

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** Looks a user up through NSS (getent), so LDAP/SSSD users work too. */
export function lookupUser(name: string): SystemUser | undefined {
  return getentPasswd(name);
}

/** The user with this uid, through NSS. */
export function lookupUid(uid: number): SystemUser | undefined {
  return getentPasswd(String(uid));
}

function getentPasswd(key: string): SystemUser | undefined {
  const r = spawnSync('getent', ['passwd', key], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) return undefined;
  const f = r.stdout.trim().split(':');
  if (f.length < 4) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) };
}
