// A supervised child process (the embedded redis-server and postgres): started and checked for
// readiness, restarted with backoff when it dies on its own, stopped with a graceful signal and a
// deadline. Its output goes to MUTT's log, and the last lines are kept for start-up error messages.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from '../logging.ts';
import { abortableSleep } from '../sleep.ts';

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  log: Logger;
  /** Resolves when the process serves requests; rejects or times out otherwise. */
  ready: (signal: AbortSignal) => Promise<void>;
  readyTimeoutMs?: number;
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
  /** Called before each (re)start, e.g. to clear a stale instance. */
  beforeStart?: () => Promise<void>;
}

export class ManagedProcess {
  private readonly o: ManagedProcessOptions;
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private readonly tail: string[] = [];
  private exited: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(o: ManagedProcessOptions) {
    this.o = o;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and waits until it is ready. */
  async start(): Promise<void> {
    await this.o.beforeStart?.();
    await this.spawnOnce();
  }

  private lastLines(): string {
    return this.tail.slice(-15).join('\n');
  }

  private async spawnOnce(): Promise<void> {
    const { name, log } = this.o;
    const child = spawn(this.o.command, this.o.args as string[], {
      cwd: this.o.cwd,
      env: this.o.env ?? process.env,
      uid: this.o.uid,
      gid: this.o.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C or a group-wide SIGTERM reaches MUTT only, and MUTT stops its
      // servers after its own clients are done with them.
      detached: true,
    });
    this.child = child;
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim().length === 0) continue;
        this.tail.push(line);
        if (this.tail.length > 50) this.tail.shift();
        log.debug({ process: name }, line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = { code, signal };
        resolve();
      });
      child.once('error', (err) => {
        this.tail.push(String(err));
        exitInfo = { code: -1, signal: null };
        resolve();
      });
    });
    void this.exited.then(() => this.onExit(child, exitInfo));

    const timeout = AbortSignal.timeout(this.o.readyTimeoutMs ?? 60_000);
    const ready = new AbortController();
    const died = this.exited.then(() => {
      throw new Error(
        `${name} exited during start-up (${exitInfo?.signal ?? `code ${exitInfo?.code}`}):\n${this.lastLines()}`,
      );
    });
    try {
      await Promise.race([
        this.o.ready(AbortSignal.any([timeout, ready.signal, this.abort.signal])),
        died,
        new Promise((_, reject) =>
          timeout.addEventListener('abort', () =>
            reject(new Error(`${name} not ready in time:\n${this.lastLines()}`)),
          ),
        ),
      ]);
    } catch (err) {
      ready.abort();
      if (!exitInfo) {
        child.kill('SIGKILL');
        await this.exited;
      }
      throw err;
    } finally {
      ready.abort();
      died.catch(() => {});
    }
    log.info({ process: name, child_pid: child.pid }, `${name} started`);
  }

  private onExit(
    child: ChildProcess,
    info: { code: number | null; signal: NodeJS.Signals | null } | undefined,
  ): void {
    if (this.stopping || child !== this.child) return;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.restarts, 5));
    this.restarts++;
    this.o.log.error(
      {
        process: this.o.name,
        code: info?.code,
        signal: info?.signal,
        restart_in_ms: delay,
        output: this.lastLines(),
      },
      `${this.o.name} exited unexpectedly; restarting`,
    );
    void (async () => {
      try {
        await abortableSleep(delay, this.abort.signal);
        if (this.stopping) return;
        await this.start();
        this.restarts = 0;
      } catch (err) {
        if (!this.stopping)
          this.o.log.error({ process: this.o.name, err: (err as Error).message }, 'restart failed');
      }
    })();
  }

  /** Graceful stop; escalates to SIGKILL after the deadline. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(this.o.stopSignal ?? 'SIGTERM');
    const deadline = this.o.stopTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      this.o.log.warn({ process: this.o.name }, `${this.o.name} did not stop in ${deadline} ms; killing it`);
      child.kill('SIGKILL');
    }, deadline);
    await this.exited;
    clearTimeout(timer);
    this.o.log.info({ process: this.o.name }, `${this.o.name} stopped`);
  }
}

/** True when `pid` is alive and its command line mentions `name`. */
export function processMatches(pid: number, name: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(name);
  } catch {
    return false;
  }
}

/** Stops a leftover instance (from a MUTT that was killed with SIGKILL) before starting a new one. */
export async function stopStale(
  pid: number,
  name: string,
  signal: NodeJS.Signals,
  log: Logger,
  timeoutMs = 30_000,
): Promise<void> {
  if (!processMatches(pid, name)) return;
  log.warn({ process: name, child_pid: pid }, `stopping ${name} left running by a previous MUTT process`);
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processMatches(pid, name)) return;
    await abortableSleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await abortableSleep(200);
}
