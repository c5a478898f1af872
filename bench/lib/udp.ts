// What the UDP benchmarks (syslog, SNMP traps) share besides the rate ladder: the open-loop sender,
// the kernel setting MUTT's install applies, and a stand-in for the alerter that keeps the ingest
// queue short.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { fmt } from './env.ts';

/**
 * Sends `rate` datagrams per second for `seconds` from one socket, open loop: `datagram(n)` builds the
 * n-th (0-based). Bursts of about 1 ms with a sleep between them: a sender that spins would take a
 * core from the receiver under test (a real sender is another machine).
 */
export async function openLoopUdp(
  port: number,
  rate: number,
  seconds: number,
  datagram: (n: number) => Buffer,
): Promise<{ sent: number; elapsed: number }> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.connect(port, '127.0.0.1', () => r()));
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent++) s.send(datagram(sent));
    await abortableSleep(1);
  }
  const elapsed = (performance.now() - started) / 1000;
  await abortableSleep(50);
  s.close();
  return { sent, elapsed };
}

const BLAST_SOURCE = 'bench/tools/udp-blast.c';

/**
 * The native sender (bench/tools/udp-blast.c, sendmmsg in bursts), compiled once into the temporary
 * directory with the machine's C compiler; undefined when there is none (the Node sender is used).
 */
export function nativeUdpSender(): string | undefined {
  const src = readFileSync(BLAST_SOURCE);
  const dir = join(tmpdir(), 'mutt-bench-tools');
  const bin = join(dir, `udp-blast-${createHash('sha1').update(src).digest('hex').slice(0, 12)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('cc', ['-O2', '-o', bin, BLAST_SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(
      `udp-blast not built (${r.error?.message ?? r.stderr.trim()}); the Node sender is used\n`,
    );
    return undefined;
  }
  return bin;
}

/**
 * The open-loop sender of openLoopUdp in native code: the datagram is `template` with the sequence
 * number n written as 10 digits at `seqAt`. Returns what was sent and the sender's CPU seconds (its
 * system time includes the kernel's loopback delivery of every datagram).
 */
export function blastUdp(
  bin: string,
  port: number,
  rate: number,
  seconds: number,
  template: Buffer,
  seqAt: number,
): Promise<{ sent: number; elapsed: number; cpu: number }> {
  const text = template.toString('latin1');
  if (text.includes('\0')) throw new Error('udp-blast: the template cannot hold a NUL byte');
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      [String(port), String(rate), String(seconds), String(seqAt), text],
      { encoding: 'latin1' },
      (err, stdout) => {
        if (err) return reject(new Error(`udp-blast failed: ${err.message}`));
        const m = /^sent (\d+) elapsed ([\d.]+) cpu ([\d.]+)/.exec(stdout);
        if (!m) return reject(new Error(`udp-blast: unexpected output ${JSON.stringify(stdout)}`));
        resolve({ sent: Number(m[1]), elapsed: Number(m[2]), cpu: Number(m[3]) });
      },
    );
  });
}

const RMEM_MAX = '/proc/sys/net/core/rmem_max';

/**
 * net.core.rmem_max as MUTT's install sets it (etc/sysctl.d/60-mutt-udp.conf), applied for the run
 * when it is lower and this process may write it; returns how to restore it and what was done.
 */
export function applyUdpSysctl(): { restore: () => void; note: string } {
  const want = Number(
    /net\.core\.rmem_max\s*=\s*(\d+)/.exec(readFileSync('etc/sysctl.d/60-mutt-udp.conf', 'utf8'))![1],
  );
  const before = Number(readFileSync(RMEM_MAX, 'utf8').trim());
  const mib = (n: number) => `${fmt(n / 1024 / 1024)} MiB`;
  if (before >= want) return { restore: () => undefined, note: `net.core.rmem_max ${mib(before)}` };
  try {
    writeFileSync(RMEM_MAX, String(want));
  } catch {
    return {
      restore: () => undefined,
      note: `net.core.rmem_max ${mib(before)} (etc/sysctl.d/60-mutt-udp.conf not applied: run as root to apply it as the install does)`,
    };
  }
  return {
    restore: () => writeFileSync(RMEM_MAX, String(before)),
    note: `net.core.rmem_max ${mib(want)} as etc/sysctl.d/60-mutt-udp.conf sets it at install (the machine's ${mib(before)} was restored afterwards)`,
  };
}

/**
 * Stands in for the alerter: once a second takes everything in the ingest queue (counted and
 * unlinked in one atomic call), so that Redis holds what it holds under a running MUTT rather than
 * millions of events (whose AOF rewrites would compete for the two cores). `count()` is what was
 * taken plus what is waiting.
 */
export function queueConsumer(redis: Redis, key: string) {
  const TAKE =
    "local n = redis.call('LLEN', KEYS[1]) if n > 0 then redis.call('UNLINK', KEYS[1]) end return n";
  let taken = 0;
  const timer = setInterval(() => {
    void redis.eval(TAKE, 1, key).then((n) => (taken += Number(n)));
  }, 1000);
  return {
    count: async () => taken + (await redis.llen(key)),
    stop: () => clearInterval(timer),
  };
}
