// A Patroni cluster on loopback, as an operator runs one with Debian's packages: one etcd, and two
// Patroni members each managing a PostgreSQL 15 server (the first bootstraps, the second clones it
// and streams from it). Synchronous mode is on, so a commit the primary acknowledged is on the
// replica too and survives the primary's death (see docs/HA.md). PostgreSQL refuses to run as root:
// Patroni and its servers run as the `postgres` user, which owns the cluster directories.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { lookupUser } from '../../src/runtime/services/binaries.ts';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { ensurePackages } from './packages.ts';
import { freePort } from './ports.ts';
import { ServerProcess } from './server-process.ts';

export const PATRONI_SUPERUSER = 'postgres';

/** Debian's patroni and etcd-server, installed when missing (a fresh CI machine). */
export function ensurePatroni(): void {
  ensurePackages(
    {
      patroni: () => existsSync('/usr/bin/patroni'),
      'etcd-server': () => existsSync('/usr/bin/etcd'),
    },
    'the high-availability tests run a Patroni cluster on etcd',
  );
}

export interface Member {
  name: string;
  pgPort: number;
  apiPort: number;
  dir: string;
  proc: ServerProcess;
}

export interface PatroniOptions {
  dir: string;
  pgBinDir: string;
  /** Seconds the leader key lives in etcd: how long a dead primary is waited for before a failover. */
  ttl?: number;
}

export class PatroniCluster {
  readonly o: PatroniOptions;
  etcd!: ServerProcess;
  etcdPort = 0;
  readonly members: Member[] = [];
  private readonly scope = `mutt-ha-${process.pid}-${Date.now()}`;

  private constructor(o: PatroniOptions) {
    this.o = o;
  }

  static async start(o: PatroniOptions): Promise<PatroniCluster> {
    ensurePatroni();
    const c = new PatroniCluster(o);
    try {
      await c.boot();
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  /** DB_HOST for MUTT: every member, host:port. */
  get dbHost(): string {
    return this.members.map((m) => `127.0.0.1:${m.pgPort}`).join(',');
  }

  private async boot(): Promise<void> {
    const u = lookupUser('postgres');
    if (!u) throw new Error('the "postgres" user is missing (Debian package postgresql creates it)');
    mkdirSync(this.o.dir, { recursive: true });
    chmodSync(this.o.dir, 0o711);

    this.etcdPort = await freePort();
    const peer = await freePort();
    const etcdDir = join(this.o.dir, 'etcd');
    mkdirSync(etcdDir, { recursive: true, mode: 0o700 });
    this.etcd = new ServerProcess({
      name: 'etcd',
      command: '/usr/bin/etcd',
      args: [
        '--name',
        'e1',
        '--data-dir',
        etcdDir,
        '--listen-client-urls',
        `http://127.0.0.1:${this.etcdPort}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${this.etcdPort}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-cluster',
        `e1=http://127.0.0.1:${peer}`,
        '--log-level',
        'warn',
      ],
      cwd: etcdDir,
    });
    await this.etcd.ready(async () => {
      const r = await fetch(`http://127.0.0.1:${this.etcdPort}/health`);
      return r.ok;
    });

    for (const name of ['pg1', 'pg2']) {
      const m = await this.member(name, u.uid, u.gid);
      this.members.push(m);
      // The first bootstraps the cluster; the second then clones it.
      await this.until(async () => (await this.status(m)).state === 'running', 120_000, `${name} to run`);
    }
    await this.waitForSyncStandby();
  }

  /**
   * Waits until a replica is the synchronous standby. In synchronous mode Patroni promotes only that
   * member (promoting another could lose acknowledged commits), so a failover needs one.
   */
  async waitForSyncStandby(timeoutMs = 120_000): Promise<void> {
    await this.until(
      async () => {
        const c = await this.cluster();
        return c.members.some((m) => m.role === 'sync_standby' && ['running', 'streaming'].includes(m.state));
      },
      timeoutMs,
      'a replica to stream as the synchronous standby',
    );
  }

  private async member(name: string, uid: number, gid: number): Promise<Member> {
    const dir = join(this.o.dir, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownSync(dir, uid, gid);
    const pgPort = await freePort();
    const apiPort = await freePort();
    const ttl = this.o.ttl ?? 10;
    const conf = join(dir, 'patroni.yml');
    // JSON is YAML: Patroni reads it as its configuration file.
    writeFileSync(
      conf,
      JSON.stringify(
        {
          scope: this.scope,
          name,
          log: { level: 'INFO' },
          restapi: { listen: `127.0.0.1:${apiPort}`, connect_address: `127.0.0.1:${apiPort}` },
          etcd3: { hosts: [`127.0.0.1:${this.etcdPort}`] },
          bootstrap: {
            dcs: {
              ttl,
              loop_wait: 1,
              retry_timeout: Math.floor((ttl - 1) / 2),
              synchronous_mode: true,
              maximum_lag_on_failover: 1048576,
              postgresql: {
                use_pg_rewind: false,
                parameters: {
                  max_connections: 100,
                  wal_level: 'replica',
                  hot_standby: 'on',
                  max_wal_senders: 5,
                  max_replication_slots: 5,
                  wal_keep_size: '64MB',
                },
              },
            },
            initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'no-sync'],
            pg_hba: [
              'local all all trust',
              'host all all 127.0.0.1/32 trust',
              'host replication replicator 127.0.0.1/32 trust',
            ],
          },
          postgresql: {
            listen: `127.0.0.1:${pgPort}`,
            connect_address: `127.0.0.1:${pgPort}`,
            data_dir: join(dir, 'data'),
            bin_dir: this.o.pgBinDir,
            pgpass: join(dir, 'pgpass'),
            authentication: {
              replication: { username: 'replicator', password: 'replicator' },
              superuser: { username: PATRONI_SUPERUSER, password: 'postgres' },
            },
            parameters: { unix_socket_directories: dir },
          },
        },
        null,
        2,
      ),
    );
    chownSync(conf, uid, gid);
    const proc = new ServerProcess({
      name,
      command: '/usr/bin/patroni',
      args: [conf],
      cwd: dir,
      env: { PATH: process.env.PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', HOME: dir },
      uid,
      gid,
    });
    return { name, pgPort, apiPort, dir, proc };
  }

  private async until(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!(await pred().catch(() => false))) {
      if (Date.now() > end)
        throw new Error(`waiting for ${what}: not reached in ${ms} ms\n${this.outputs()}`);
      await abortableSleep(200);
    }
  }

  /** A member's own view (Patroni REST API `GET /patroni`). */
  async status(m: Member): Promise<{ state: string; role: string }> {
    const r = await fetch(`http://127.0.0.1:${m.apiPort}/patroni`);
    return (await r.json()) as { state: string; role: string };
  }

  /** The cluster (`GET /cluster` of any live member). */
  async cluster(): Promise<{ members: { name: string; role: string; state: string }[] }> {
    for (const m of this.members) {
      if (!m.proc.alive) continue;
      try {
        const r = await fetch(`http://127.0.0.1:${m.apiPort}/cluster`);
        if (r.ok) return (await r.json()) as { members: { name: string; role: string; state: string }[] };
      } catch {
        // the next member
      }
    }
    throw new Error('no Patroni member answers');
  }

  /** The member that leads now (the writable primary), if any. */
  async leader(): Promise<Member | undefined> {
    const c = await this.cluster().catch(() => undefined);
    const name = c?.members.find((m) => m.role === 'leader' && m.state === 'running')?.name;
    return this.members.find((m) => m.name === name);
  }

  /** A superuser connection to a member. */
  client(m: Member, database = 'postgres'): pg.Client {
    const c = new pg.Client({ host: '127.0.0.1', port: m.pgPort, user: PATRONI_SUPERUSER, database });
    c.on('error', () => {});
    return c;
  }

  /** Creates a database on the primary. */
  async createDatabase(name: string): Promise<void> {
    const leader = await this.leader();
    if (!leader) throw new Error('no leader');
    const c = this.client(leader);
    await c.connect();
    try {
      await c.query(`CREATE DATABASE "${name}"`);
    } finally {
      await c.end();
    }
  }

  /** A planned switchover to the other member (REST API); resolves once it leads. */
  async switchover(): Promise<{ from: Member; to: Member; startedAt: number; doneAt: number }> {
    const from = (await this.leader())!;
    const to = this.members.find((m) => m !== from)!;
    const startedAt = Date.now();
    const r = await fetch(`http://127.0.0.1:${from.apiPort}/switchover`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ leader: from.name, candidate: to.name }),
    });
    if (!r.ok) throw new Error(`switchover refused: ${r.status} ${await r.text()}`);
    await this.until(async () => (await this.leader())?.name === to.name, 60_000, `${to.name} to lead`);
    return { from, to, startedAt, doneAt: Date.now() };
  }

  /**
   * The primary's host dies: SIGKILL to its Patroni and its PostgreSQL (the whole process group).
   * Resolves once the other member leads.
   */
  async killPrimary(): Promise<{ from: Member; to: Member; killedAt: number; doneAt: number }> {
    await this.waitForSyncStandby();
    const from = (await this.leader())!;
    const to = this.members.find((m) => m !== from)!;
    const postmaster = this.postmasterPid(from);
    const killedAt = Date.now();
    await from.proc.kill9(true);
    // Patroni starts PostgreSQL in a session of its own.
    if (postmaster) killQuietly(postmaster);
    await this.until(async () => (await this.leader())?.name === to.name, 120_000, `${to.name} to lead`);
    return { from, to, killedAt, doneAt: Date.now() };
  }

  /** The PostgreSQL server process of a member (from its postmaster.pid). */
  postmasterPid(m: Member): number | undefined {
    try {
      const pid = Number(readFileSync(join(m.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  outputs(): string {
    return [this.etcd, ...this.members.map((m) => m.proc)]
      .filter(Boolean)
      .map((p) => p.output(20))
      .join('\n');
  }

  async stop(): Promise<void> {
    // Patroni stops its PostgreSQL on SIGTERM (fast shutdown); a killed member's server goes too.
    for (const m of this.members) {
      await m.proc.stop('SIGTERM', 30_000);
      const pid = this.postmasterPid(m);
      if (pid) killQuietly(pid);
    }
    await this.etcd?.stop();
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
