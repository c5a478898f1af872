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

/**
 * The speed of this machine at the moment, for comparing runs on a shared host: µs per JSON round
 * trip (stringify + parse) of a syslog event of about 400 bytes, the median of 5 rounds of 50,000.
 * The same code costs proportionally more CPU per event when this figure is higher.
 */
export function cpuReference(): number {
  const event = {
    hostname: 'edge-router-17',
    timestamp: '2026-11-24T12:00:00.000Z',
    message: '%LINK-3-UPDOWN: Interface GigabitEthernet1/0/17, changed state to down',
    syslog_severity: 3,
    facility: 23,
    source: 'syslog',
    source_ip: '192.0.2.17',
    received_at: '2026-11-24T12:00:00.123Z',
    raw_message:
      '<187>Nov 24 12:00:00 edge-router-17 %LINK-3-UPDOWN: Interface GigabitEthernet1/0/17, changed state to down',
    _correlation_id: '00000000-0000-4000-8000-000000000000',
    seq: 0,
  };
  const rounds: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    for (let i = 0; i < 50_000; i++) {
      event.seq = i;
      sink += (JSON.parse(JSON.stringify(event)) as { seq: number }).seq;
    }
    rounds.push(((performance.now() - started) * 1000) / 50_000);
  }
  if (sink < 0) throw new Error('unreachable');
  return median(rounds);
}
