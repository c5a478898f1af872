// A Redis Sentinel topology on loopback, as an operator runs one with Debian's packages: a master, a
// replica (or more), and three Sentinels (quorum 2) watching them, each its own process on a private
// port, torn down after. The first replica may replicate through a TCP proxy, which lets a test hold
// its replication link back (a replica that lags) before it kills the master.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { ensurePackages } from './packages.ts';
import { freePort } from './ports.ts';
import { ServerProcess } from './server-process.ts';
import { TcpProxy } from './tcp-proxy.ts';

export const MASTER_NAME = 'mutt-ha';

/** Debian's redis-sentinel, installed when missing (a fresh CI machine). */
export function redisSentinelBinary(): string {
  ensurePackages(
    { 'redis-sentinel': () => existsSync('/usr/bin/redis-sentinel') },
    'the high-availability tests run Redis Sentinel',
  );
  return '/usr/bin/redis-sentinel';
}

export interface TopologyOptions {
  dir: string;
  redisServer: string;
  /** Debian's redis-sentinel. */
  sentinel: string;
  /** requirepass / masterauth of both servers (and the Sentinels' auth-pass). */
  password?: string;
  /** Route the first replica's replication link through a TcpProxy (see `link`). */
  proxiedReplication?: boolean;
  /** Replicas (1 by default); those after the first replicate directly. */
  replicas?: number;
  /**
   * Sentinel down-after-milliseconds: how long the master must be silent before a failover (3000 by
   * default). Much shorter, a Sentinel on a loaded host can judge a just-promoted master down before
   * its first PING answer arrives and fail over a second time, to the old master just restarted.
   */
  downAfterMs?: number;
}

interface Node {
  port: number;
  proc: ServerProcess;
}

async function pong(port: number, password?: string): Promise<boolean> {
  const r = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export class SentinelTopology {
  readonly o: TopologyOptions;
  master!: Node;
  readonly replicas: Node[] = [];
  sentinels: Node[] = [];
  /** The replica's replication link, when proxied. */
  link?: TcpProxy;

  private constructor(o: TopologyOptions) {
    this.o = o;
  }

  static async start(o: TopologyOptions): Promise<SentinelTopology> {
    const t = new SentinelTopology(o);
    try {
      await t.boot();
    } catch (err) {
      await t.stop();
      throw err;
    }
    return t;
  }

  /** REDIS_SENTINELS for MUTT. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  private server(name: string, port: number, extra: string[]): ServerProcess {
    const dir = join(this.o.dir, name);
    mkdirSync(dir, { recursive: true });
    const auth = this.o.password ? ['--requirepass', this.o.password, '--masterauth', this.o.password] : [];
    return new ServerProcess({
      name,
      command: this.o.redisServer,
      args: [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--logfile',
        '',
        ...auth,
        ...extra,
      ],
      cwd: dir,
    });
  }

  private async boot(): Promise<void> {
    const pw = this.o.password;
    const mport = await freePort();
    this.master = { port: mport, proc: this.server('master', mport, []) };
    await this.master.proc.ready(() => pong(mport, pw));
    let upstream = mport;
    if (this.o.proxiedReplication) {
      this.link = await TcpProxy.start({ host: '127.0.0.1', port: mport });
      upstream = this.link.port;
    }
    for (let i = 0; i < (this.o.replicas ?? 1); i++) {
      const rport = await freePort();
      const replica = {
        port: rport,
        proc: this.server(`replica${i + 1}`, rport, [
          '--replicaof',
          '127.0.0.1',
          String(i === 0 ? upstream : mport),
        ]),
      };
      this.replicas.push(replica);
      await replica.proc.ready(() => pong(rport, pw));
    }
    await this.waitForReplication();

    for (let i = 1; i <= 3; i++) {
      const port = await freePort();
      const dir = join(this.o.dir, `sentinel${i}`);
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'daemonize no',
          `dir ${dir}`,
          'logfile ""',
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${mport} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${this.o.downAfterMs ?? 3000}`,
          // Also how long a Sentinel waits before it "fixes" a replica that replicates from another
          // address than the master's (twice this): the proxied link must stay as it is.
          `sentinel failover-timeout ${MASTER_NAME} ${this.o.proxiedReplication ? 300_000 : 10_000}`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          ...(pw ? [`sentinel auth-pass ${MASTER_NAME} ${pw}`] : []),
          '',
        ].join('\n'),
      );
      const proc = new ServerProcess({
        name: `sentinel${i}`,
        command: this.o.sentinel,
        args: [conf],
        cwd: dir,
      });
      this.sentinels.push({ port, proc });
      await proc.ready(() => pong(port));
    }
    // Every Sentinel knows the replica and the other Sentinels before the test begins.
    await this.until(
      async () => {
        for (const s of this.sentinels) {
          const r = await this.ask(s.port, 'SENTINEL', 'MASTER', MASTER_NAME);
          const m = pairs(r as string[]);
          if (Number(m['num-slaves']) < this.replicas.length || Number(m['num-other-sentinels']) < 2)
            return false;
        }
        return true;
      },
      30_000,
      'the Sentinels to discover the replica and each other',
    );
  }

  /** Polls until every replica's link to the master is up. */
  async waitForReplication(timeoutMs = 30_000): Promise<void> {
    await this.until(
      async () => {
        for (const r of this.replicas) {
          const info = String(await this.command(r.port, 'INFO', 'replication'));
          if (!/master_link_status:up/.test(info)) return false;
        }
        return true;
      },
      timeoutMs,
      'the replicas to replicate',
    );
  }

  private async until(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!(await pred().catch(() => false))) {
      if (Date.now() > end)
        throw new Error(`waiting for ${what}: not reached in ${ms} ms\n${this.outputs()}`);
      await abortableSleep(100);
    }
  }

  /** One command to a Sentinel (no password). */
  async ask(port: number, ...args: string[]): Promise<unknown> {
    return this.command(port, ...args, { sentinel: true });
  }

  /** One command to a server of the topology. */
  async command(port: number, ...args: (string | { sentinel: true })[]): Promise<unknown> {
    const sentinel = args.some((a) => typeof a === 'object');
    const words = args.filter((a): a is string => typeof a === 'string');
    const r = new Redis({
      port,
      host: '127.0.0.1',
      password: sentinel ? undefined : this.o.password,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    r.on('error', () => {});
    try {
      await r.connect();
      return await r.call(words[0]!, ...words.slice(1));
    } finally {
      r.disconnect();
    }
  }

  /** How many bytes of the replication stream the first replica has not confirmed to the master. */
  async replicaLag(): Promise<number> {
    const info = String(await this.command(this.master.port, 'INFO', 'replication'));
    const master = Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
    const first = this.replicas[0]!.port;
    const replica = Number(new RegExp(`slave\\d+:ip=[^,]+,port=${first},.*offset=(\\d+)`).exec(info)?.[1]);
    return master - replica;
  }

  /** The master the Sentinels name now. */
  async currentMaster(): Promise<number | undefined> {
    for (const s of this.sentinels) {
      try {
        const r = (await this.ask(s.port, 'SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as
          string[] | null;
        if (r) return Number(r[1]);
      } catch {
        // next Sentinel
      }
    }
    return undefined;
  }

  /** SIGKILL to the master; resolves with when it happened (ms since the epoch). */
  async killMaster(): Promise<number> {
    const at = Date.now();
    await this.master.proc.kill9();
    return at;
  }

  /** Waits until the Sentinels name another master than `port`; resolves with the time it happened. */
  async waitForFailover(fromPort: number, timeoutMs = 60_000): Promise<number> {
    await this.until(
      async () => {
        const m = await this.currentMaster();
        if (m === undefined || m === fromPort) return false;
        const role = (await this.command(m, 'ROLE')) as unknown[];
        return role[0] === 'master';
      },
      timeoutMs,
      'a failover',
    );
    return Date.now();
  }

  /**
   * Starts the killed master again on its port, as its service manager would; it comes back as a
   * master with no data, and the Sentinels turn it into a replica of the new master. Resolves once
   * it replicates.
   */
  async restartOldMaster(): Promise<void> {
    const port = this.master.port;
    // As a service manager with a restart delay would: only once every Sentinel knows the new
    // master, so that none sends a client to the old one while it is back as an empty master.
    await this.until(
      async () => {
        for (const s of this.sentinels) {
          const r = (await this.ask(s.port, 'SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as
            string[] | null;
          if (!r || Number(r[1]) === port) return false;
        }
        return true;
      },
      30_000,
      'every Sentinel to name the new master',
    );
    this.master = { port, proc: this.server('master', port, []) };
    await this.master.proc.ready(() => pong(port, this.o.password));
    await this.until(
      async () => {
        const info = String(await this.command(port, 'INFO', 'replication'));
        return /role:slave/.test(info) && /master_link_status:up/.test(info);
      },
      150_000, // a Sentinel in TILT mode (its timer starved on a loaded host) waits 30 s before it acts
      'the old master to replicate from the new one',
    );
  }

  outputs(): string {
    return [this.master, ...this.replicas, ...this.sentinels]
      .filter(Boolean)
      .map((n) => n.proc.output(15))
      .join('\n');
  }

  async stop(): Promise<void> {
    for (const s of this.sentinels) await s.proc.stop();
    for (const n of [...this.replicas, this.master]) if (n) await n.proc.stop();
    await this.link?.cut();
  }
}

function pairs(flat: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]!] = flat[i + 1]!;
  return o;
}
