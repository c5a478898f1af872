// Who this process is, in terms another process on the same host can check later: host name, PID,
// the kernel's start time of the PID (so a reused PID is not mistaken for the original), the boot id
// (so a PID from before a reboot is known to be gone) and the PID namespace (a PID means something
// only inside its own: another container's PID cannot be checked from here). Linux /proc; elsewhere
// only the PID is checked.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  host: string;
  pid: number;
  /** /proc/<pid>/stat field 22: clock ticks after boot when the process started. */
  start?: string;
  /** /proc/sys/kernel/random/boot_id. */
  boot?: string;
  /** The PID namespace (`/proc/self/ns/pid`, e.g. `pid:[4026531836]`). */
  pidns?: string;
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

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

export function selfIdentity(): ProcessIdentity {
  return {
    host: hostname(),
    pid: process.pid,
    start: processStart('self'),
    boot: read('/proc/sys/kernel/random/boot_id'),
    pidns: pidNamespace(),
  };
}

/**
 * Whether this process can tell if `other` still runs: it ran on this host, in this PID namespace
 * (or one of them does not say). Else only its heartbeat can tell.
 */
export function checkable(other: ProcessIdentity, self: ProcessIdentity = selfIdentity()): boolean {
  if (other.host !== self.host) return false;
  return other.pidns === undefined || self.pidns === undefined || other.pidns === self.pidns;
}

/**
 * Whether a process recorded on this host and PID namespace (see checkable()) may still run: false
 * when the host rebooted since, its PID is gone, or the PID now belongs to a process that started at
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
