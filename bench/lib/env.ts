// Benchmark environment: machine facts for the report, Debian tools installed on demand, temp dirs.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

export function machine(): string {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0];
    } catch {
      return 'not installed';
    }
  };
  const mem = Math.round(
    Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024,
  );
  return [
    `${cpus().length} cores (${cpu}), ${mem} GiB RAM, Linux ${run('uname', ['-r'])}`,
    `Node.js ${process.version}, ${run('redis-server', ['--version'])?.replace(/ sha=.*$/, '')}`,
  ].join('; ');
}

let aptUpdated = false;
/** Installs a Debian package when `binary` is missing (root only). */
export function ensureTool(binary: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`${binary} is missing: apt-get install ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    aptUpdated = true;
  }
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], {
    stdio: 'inherit',
    env,
  });
  if (r.status !== 0) throw new Error(`apt-get install ${pkg} failed`);
}

export function scratchDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mutt-bench-${name}-`));
  chmodSync(dir, 0o711);
  return dir;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
