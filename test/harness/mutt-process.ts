// Spawns the built `mutt` (dist/mutt.js) as a real process, the way an operator runs it, and reads
// its JSON log lines. Used for start-up, signal, crash and CLI tests.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { inject } from 'vitest';
import { abortableSleep } from '../../src/runtime/sleep.ts';

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export class MuttProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  /** `script`: the bundle to run (default: this checkout's dist/mutt.js). */
  constructor(args: string[], env: Record<string, string>, script = inject('services').bundle) {
    this.child = spawn(process.execPath, [script, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
        try {
          const l = JSON.parse(line) as LogLine;
          this.lines.push(l);
          this.waiters = this.waiters.filter((w) => {
            if (w.pred(l)) {
              w.resolve(l);
              return false;
            }
            return true;
          });
        } catch {
          this.stderr.push(line);
        }
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString('utf8')));
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Resolves with the first log line (already seen or future) that matches. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`log line not seen in ${timeoutMs} ms; last lines:\n${this.tail()}`)),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void this.exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`mutt exited before the log line appeared:\n${this.tail()}`));
      });
    });
  }

  waitForMessage(msg: string | RegExp, timeoutMs?: number): Promise<LogLine> {
    return this.waitFor((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)), timeoutMs);
  }

  /** Waits for "MUTT is running" and returns the bound ingest port. */
  async running(timeoutMs = 60_000): Promise<number> {
    const l = await this.waitForMessage('MUTT is running', timeoutMs);
    return l.ingestPort as number;
  }

  tail(n = 30): string {
    return [...this.lines.slice(-n).map((l) => JSON.stringify(l)), ...this.stderr.slice(-10)].join('\n');
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }

  async exited(timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return Promise.race([
      this.exit,
      abortableSleep(timeoutMs).then(() => {
        throw new Error(`mutt did not exit in ${timeoutMs} ms:\n${this.tail()}`);
      }),
    ]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.kill('SIGTERM');
    await this.exited();
  }
}

export function startMutt(
  env: Record<string, string>,
  args: string[] = ['serve'],
  script?: string,
): MuttProcess {
  return new MuttProcess(args, env, script);
}

/** Runs a CLI command to completion; `input` is written to its standard input (else it sees EOF). */
export function runMutt(
  args: string[],
  env: Record<string, string>,
  input?: string,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [inject('services').bundle, ...args], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
    input: input ?? '',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * runMutt without blocking the test's event loop: for commands that talk to a server living in the
 * test process itself (the Vault stand-in, the mock Moogsoft).
 */
export function runMuttAsync(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [inject('services').bundle, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
