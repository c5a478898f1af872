// Real syslog clients for the listener tests: util-linux `logger`, a private `rsyslogd` (Debian
// packages rsyslog and rsyslog-gnutls) forwarding to MUTT, `openssl s_client`, and plain sockets.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { abortableSleep } from '../../src/runtime/sleep.ts';

export function logger(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('logger', args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

/** Sends `data` over a new TCP connection and closes it once written. */
export function sendTcp(port: number, data: string | Buffer, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host }, () => s.end(data));
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

export function openTcp(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host }, () => resolve(s));
    s.once('error', reject);
  });
}

export class Rsyslog {
  readonly dir: string;
  readonly socketPath: string;
  private child?: ChildProcess;
  private out = '';

  constructor(dir: string) {
    this.dir = dir;
    this.socketPath = join(dir, 'log.sock');
  }

  /**
   * Starts rsyslogd in the foreground with a private configuration: messages written to
   * `socketPath` (imuxsock) are forwarded by the given omfwd action.
   */
  async start(opts: { globals?: string; action: string }): Promise<void> {
    mkdirSync(join(this.dir, 'work'), { recursive: true });
    const conf = join(this.dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${join(this.dir, 'work')}" ${opts.globals ?? ''})`,
        'module(load="imuxsock" SysSock.Use="off")',
        `input(type="imuxsock" Socket="${this.socketPath}" CreatePath="on")`,
        opts.action,
        '',
      ].join('\n'),
    );
    const check = spawnSync('rsyslogd', ['-N1', '-f', conf], { encoding: 'utf8' });
    if (check.status !== 0)
      throw new Error(`rsyslog configuration rejected:\n${check.stderr}${check.stdout}`);
    this.child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(this.dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    for (let i = 0; i < 200 && !existsSync(this.socketPath); i++) await abortableSleep(25);
    if (!existsSync(this.socketPath)) throw new Error(`rsyslogd did not create its socket:\n${this.out}`);
  }

  get output(): string {
    return this.out;
  }

  /** Writes one message through rsyslog's local socket with logger. */
  log(tag: string, text: string): void {
    const r = logger(['-u', this.socketPath, '-t', tag, text]);
    if (r.status !== 0) throw new Error(`logger -u failed: ${r.stderr}`);
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    await Promise.race([exited, abortableSleep(10_000)]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  pid(): number | undefined {
    try {
      return Number(readFileSync(join(this.dir, 'rsyslogd.pid'), 'utf8'));
    } catch {
      return undefined;
    }
  }
}

/** Runs `openssl s_client`, writes `input`, and returns its exit status and output. */
export function sClient(args: string[], input: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn('openssl', ['s_client', '-quiet', '-no_ign_eof', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
    c.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
    c.stdin.on('error', () => undefined);
    // Give the handshake a moment, then send and close our side.
    setTimeout(() => c.stdin.end(input), 500);
  });
}
