// The stepped-rate method of the UDP benchmarks (syslog, SNMP): send at each rate of a ladder for a
// fixed time, count what the receiver kept, stop at the first step that lost anything. A receiver's
// figure is the highest rate it passed with 0 loss, and its CPU at that rate.
import { readdirSync, readFileSync } from 'node:fs';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { fmt } from './env.ts';

export interface Step {
  rate: number;
  sent: number;
  counted: number;
  /** Rate the generator really reached. */
  achieved: number;
  /** Cores the receiver's processes used during the step (1 = one full core). */
  cpu: number;
}

/** Sends `rate` messages per second for `seconds`, numbering them from `firstId`. */
export type Blast = (
  rate: number,
  seconds: number,
  firstId: number,
) => Promise<{ sent: number; elapsed: number }>;

/** Polls `count` until it reaches `want` or stops moving for 1.5 s (or `maxMs` passed); returns it. */
export async function settle(count: () => Promise<number>, want: number, maxMs = 20_000): Promise<number> {
  let last = -1;
  let stableSince = performance.now();
  const end = performance.now() + maxMs;
  for (;;) {
    const n = await count();
    if (n >= want) return n;
    if (n !== last) {
      last = n;
      stableSince = performance.now();
    } else if (performance.now() - stableSince > 1500) return n;
    if (performance.now() > end) return n;
    await abortableSleep(50);
  }
}

/** CPU seconds (user + system) a process has used; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of a process and its descendants: the live ones (utime + stime) plus what children that
 * already exited left in their parent's cutime + cstime (a PostgreSQL backend that ended).
 */
export function treeCpuSeconds(root: number): number {
  const parents = new Map<number, number>();
  const own = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      parents.set(pid, Number(f[1]));
      own.set(
        pid,
        (Number(f[11]) + Number(f[12]) + (pid === root ? Number(f[13]) + Number(f[14]) : 0)) / 100,
      );
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  for (const [pid, t] of own) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) {
      if (p === root) {
        total += t;
        break;
      }
    }
  }
  return total;
}

export async function ladder(o: {
  name: string;
  rates: readonly number[];
  blast: Blast;
  count: () => Promise<number>;
  pids: () => number[];
  seconds: number;
}): Promise<Step[]> {
  const steps: Step[] = [];
  const cpuNow = () => o.pids().reduce((a, p) => a + cpuSeconds(p), 0);
  let id = 1;
  for (const rate of o.rates) {
    const before = await o.count();
    const cpu0 = cpuNow();
    const { sent, elapsed } = await o.blast(rate, o.seconds, id);
    id += sent;
    const counted = (await settle(o.count, before + sent)) - before;
    const cpu = (cpuNow() - cpu0) / elapsed;
    steps.push({ rate, sent, counted, achieved: sent / elapsed, cpu });
    process.stderr.write(
      `${o.name}: ${fmt(rate)}/s offered, ${fmt(sent / elapsed)}/s sent, ${fmt(counted)} of ${fmt(sent)} counted, receiver CPU ${fmt(cpu * 100)} %\n`,
    );
    if (counted < sent) break;
  }
  return steps;
}

/** The highest step with 0 loss. */
export const best = (steps: Step[]) => steps.filter((s) => s.counted >= s.sent).at(-1);
