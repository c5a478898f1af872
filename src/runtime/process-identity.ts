// Who this process is, in terms another process on the same host can check later: host name, PID,
// the kernel's start time of the PID (so a reused PID is not mistaken for the original) and the boot
// id (so a PID from before a reboot is known to be gone). Linux /proc; elsewhere only the PID is
// checked.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  host: string;
  pid: number;
  /** /proc/<pid>/stat field 22: clock ticks after boot when the process started. */
  start?: string;
  /** /proc/sys/kernel/random/boot_id. */
  boot?: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces). */
export function processStart(pid: number | 'self'): string | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

export function selfIdentity(): ProcessIdentity {
  return {
    host: hostname(),
    pid: process.pid,
    start: processStart('self'),
    boot: read('/proc/sys/kernel/random/boot_id'),
  };
}

/**
 * Whether a process recorded on this host (`other.host` is this host) may still run: false when
 * the host rebooted since, its PID is gone, or the PID now belongs to a process that started at
 * another time (or is this very process). True when it runs, or when that cannot be known.
 */
export function mayBeAlive(other: ProcessIdentity, self: ProcessIdentity = selfIdentity()): boolean {
  if (other.boot && self.boot && other.boot !== self.boot) return false;
  if (!Number.isInteger(other.pid) || other.pid <= 0) return false;
  if (other.pid === self.pid) return other.start !== undefined && other.start === self.start;
  try {
    process.kill(other.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a process of another user holds the PID; go on to compare start times.
  }
  const start = processStart(other.pid);
  if (other.start !== undefined && start !== undefined) return start === other.start;
  return true;
}
