// Starts the built `mutt` for a benchmark and waits until it is running.
import { type ChildProcess, spawn } from 'node:child_process';

export interface RunningMutt {
  child: ChildProcess;
  info: Record<string, unknown>;
  stop(): Promise<void>;
  /** The last 50 warnings MUTT logged (JSON lines), to explain a failed step. */
  warnings(): string[];
}

export function startMutt(env: Record<string, string>, timeoutMs = 120_000): Promise<RunningMutt> {
  // MUTT_BENCH_NODE_ARGS: Node options for the measured process (e.g. --cpu-prof) when profiling.
  const nodeArgs = (process.env.MUTT_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, 'dist/mutt.js', 'serve'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      MUTT_ENV_FILE: '/dev/null',
      LOG_LEVEL: 'INFO',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const warnings: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('mutt did not start in time'));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const l = JSON.parse(line);
          if (l.msg === 'MUTT is running') {
            clearTimeout(timer);
            resolve({
              child,
              info: l,
              stop: async () => {
                child.kill('SIGTERM');
                await exited;
              },
              warnings: () => [...warnings],
            });
          } else if (l.level === 'warn') {
            warnings.push(line);
            if (warnings.length > 50) warnings.shift();
          } else if (l.level === 'error' || l.level === 'fatal') {
            process.stderr.write(`${line}\n`);
          }
        } catch {
          process.stderr.write(`${line}\n`);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`mutt exited with ${code} during start-up`)));
  });
}
