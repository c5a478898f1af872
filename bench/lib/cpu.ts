// CPU time by stage of one `mutt serve` process and its servers, read from /proc: MUTT's threads are
// named (the main thread, `syslog-parser`, `alerter-N`, `forwarder-N`, `remediation-N`), so one
// process's time splits by role; the embedded redis-server and the PostgreSQL tree are its children.
import { readdirSync, readFileSync } from 'node:fs';
import { treeCpuSeconds } from './ladder.ts';

export const STAGES = ['listener', 'alerter', 'forwarder', 'mutt-other', 'redis', 'postgres'] as const;
export type Stage = (typeof STAGES)[number];
export type StageCpu = Record<Stage, number>;

/** The stage a MUTT thread's time belongs to, from its name (/proc/<pid>/task/<tid>/comm). */
export function stageOfThread(comm: string): Stage {
  if (comm === 'MainThread' || comm === 'node' || comm === 'syslog-parser') return 'listener';
  if (comm.startsWith('alerter-')) return 'alerter';
  if (comm.startsWith('forwarder-')) return 'forwarder';
  // V8's helper threads (garbage collection, compilation), libuv's pool, remediation.
  return 'mutt-other';
}

const ticks = (stat: string) => {
  const f = stat.split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

/** The child processes of `pid` whose command name is `comm`. */
export function childrenNamed(pid: number, comm: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const p = Number(name);
    if (!Number.isInteger(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1]!.split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === comm) out.push(p);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds used so far by each stage of the MUTT process `pid` and its servers. */
export function stageCpu(pid: number): StageCpu {
  const cpu: StageCpu = { listener: 0, alerter: 0, forwarder: 0, 'mutt-other': 0, redis: 0, postgres: 0 };
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return cpu;
  }
  for (const tid of tasks) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      cpu[stageOfThread(comm)] += ticks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      // the thread ended meanwhile
    }
  }
  // Redis with its AOF-rewrite children (forked, reaped by it): their CPU is on the same cores.
  for (const r of childrenNamed(pid, 'redis-server')) cpu.redis += treeCpuSeconds(r);
  for (const p of childrenNamed(pid, 'postgres')) cpu.postgres += treeCpuSeconds(p);
  return cpu;
}

export function diffCpu(a: StageCpu, b: StageCpu): StageCpu {
  const d = { ...b };
  for (const s of STAGES) d[s] = b[s] - a[s];
  return d;
}

/** CPU seconds of this (the benchmark's) process: the sender and the mock Moogsoft. */
export const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
