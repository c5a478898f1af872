// A private redis-server: MUTT's embedded default and the test harness's throw-away instance.
// Persistence is AOF with fsync every second; RDB snapshots are off. It listens on a Unix socket in
// its own directory (mode 0700) and, if asked, on a loopback TCP port.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../logging.ts';
import { abortableSleep } from '../sleep.ts';
import { ManagedProcess, stopStale } from './process.ts';

export interface RedisServerOptions {
  binary: string;
  dir: string;
  log: Logger;
  /** TCP port on `bind` (0: Unix socket only). */
  port?: number;
  bind?: string;
  /** 'aof': appendonly everysec (the product default); 'none': memory only (tests). */
  persistence?: 'aof' | 'none';
  extraArgs?: readonly string[];
}

export interface RedisServerHandle {
  socketPath: string;
  port: number;
  host: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

const MAX_SOCKET_PATH = 107;

/** Sends PING until the server answers +PONG (not -LOADING while it replays its AOF). */
export async function waitForRedisPing(
  target: { path: string } | { host: string; port: number },
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    const answer = await new Promise<string>((resolve) => {
      const sock = createConnection(target as never);
      let buf = '';
      sock.setTimeout(1000, () => sock.destroy());
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n')) {
          sock.destroy();
          resolve(buf);
        }
      });
      sock.on('error', () => resolve(''));
      sock.on('close', () => resolve(buf));
    });
    // -NOAUTH: up, but protected by a password (requirepass); either way it serves.
    if (answer.startsWith('+PONG') || answer.startsWith('-NOAUTH')) return;
    await abortableSleep(50, signal);
  }
}

export async function startRedisServer(o: RedisServerOptions): Promise<RedisServerHandle> {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const socketPath = join(o.dir, 'redis.sock');
  if (socketPath.length > MAX_SOCKET_PATH) {
    throw new Error(
      `the Redis socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes: choose a shorter MUTT_DATA_DIR`,
    );
  }
  const pidFile = join(o.dir, 'redis.pid');
  const port = o.port ?? 0;
  const bind = o.bind ?? '127.0.0.1';
  const args = [
    '--dir',
    o.dir,
    '--port',
    String(port),
    '--bind',
    bind,
    '--unixsocket',
    socketPath,
    '--unixsocketperm',
    '700',
    '--pidfile',
    pidFile,
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--protected-mode',
    'yes',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--appendonly',
    o.persistence === 'none' ? 'no' : 'yes',
    '--appendfsync',
    'everysec',
    // A queue's AOF grows by every event's push, move and removal while the data set stays small:
    // with Redis's 64 MB floor it was rewritten about once a second at 20,000 events/s, each rewrite
    // a fork and a dump of the whole data set. 512 MB rewrites it every few seconds at most (the disk
    // holds up to that much more AOF; durability is the same).
    '--auto-aof-rewrite-min-size',
    '512mb',
    ...(o.extraArgs ?? []),
  ];
  const proc = new ManagedProcess({
    name: 'redis-server',
    command: o.binary,
    args,
    cwd: o.dir,
    log: o.log,
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 30_000,
    readyTimeoutMs: 120_000,
    beforeStart: async () => {
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (pid > 0) await stopStale(pid, 'redis-server', 'SIGTERM', o.log);
      }
    },
    ready: (signal) => waitForRedisPing({ path: socketPath }, signal),
  });
  await proc.start();
  return { socketPath, port, host: bind, process: proc, stop: () => proc.stop() };
}
