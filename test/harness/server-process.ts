// A server process a high-availability test starts by hand (redis-server, redis-sentinel, etcd,
// patroni): never restarted when it dies — a test kills some of them with SIGKILL on purpose — and
// stopped for good at the end. Its output is kept for failure messages.
import { type ChildProcess, spawn } from 'node:child_process';
import { abortableSleep } from '../../src/runtime/sleep.ts';

/** Live servers of this test process: killed if it exits before a test stopped them (a timeout). */
const live = new Set<ServerProcess>();
process.once('exit', () => {
  for (const p of live) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface ServerProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

export class ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  private readonly out: string[] = [];
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(o: ServerProcessOptions) {
    this.name = o.name;
    this.child = spawn(o.command, o.args as string[], {
      cwd: o.cwd,
      env: o.env ?? { PATH: process.env.PATH, LANG: 'C.UTF-8' },
      uid: o.uid,
      gid: o.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a kill of the group reaches its children (postgres under patroni).
      detached: true,
    });
    const keep = (d: Buffer) => {
      for (const line of d.toString('utf8').split('\n')) if (line.trim()) this.out.push(line);
      if (this.out.length > 400) this.out.splice(0, this.out.length - 400);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    live.add(this);
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(lines = 40): string {
    return `${this.name}:\n${this.out.slice(-lines).join('\n')}`;
  }

  /** Waits until `ready()` holds, failing with the process's output when it exits or times out. */
  async ready(ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`${this.name} exited during start-up\n${this.output()}`);
      if (await ready().catch(() => false)) return;
      if (Date.now() > end) throw new Error(`${this.name} not ready in ${timeoutMs} ms\n${this.output()}`);
      await abortableSleep(100);
    }
  }

  /** SIGKILL to the process (and, with `group`, to its whole process group). */
  async kill9(group = false): Promise<void> {
    if (!this.alive) return;
    try {
      process.kill(group ? -this.pid : this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.exit;
  }

  /** Graceful stop, then SIGKILL to the process group after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    if (this.alive) {
      try {
        process.kill(this.pid, signal);
      } catch {
        // already gone
      }
      const done = await Promise.race([
        this.exit.then(() => true),
        abortableSleep(graceMs).then(() => false),
      ]);
      if (!done) await this.kill9(true);
    }
    // Children left in the group (a killed patroni's postgres) go too.
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // none left
    }
  }
}
