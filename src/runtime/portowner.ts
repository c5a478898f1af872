// Which process holds a port: the socket inodes bound to it (/proc/net/{tcp,tcp6,udp,udp6}), then the
// processes with a descriptor on one of them (/proc/<pid>/fd), as `ss -lptun` finds them. Used to name
// the other program when a listener's port is taken (rsyslogd on 514, snmptrapd on 162). Processes of
// other users stay invisible without privileges, and under the unit's ProtectProc=invisible: then the
// caller says how to look it up instead.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface PortOwner {
  pid: number;
  name: string;
}

/** TCP_LISTEN in /proc/net/tcp; a bound UDP socket has no listen state. */
const TCP_LISTEN = '0A';

/** Inodes of the sockets bound to `port` (listening, for TCP). */
export function socketInodes(port: number, proto: 'tcp' | 'udp', procRoot = '/proc'): Set<string> {
  const inodes = new Set<string>();
  for (const file of [proto, `${proto}6`]) {
    let text: string;
    try {
      // /proc/self/net: /proc/net is hidden under ProcSubset=pid.
      text = readFileSync(`${procRoot}/self/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const localPort = Number.parseInt(f[1]!.split(':').pop()!, 16);
      if (localPort !== port) continue;
      if (proto === 'tcp' && f[3] !== TCP_LISTEN) continue;
      if (f[9] !== '0') inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** The processes (that this process may see) holding a socket bound to `port`. */
export function findPortOwners(port: number, proto: 'tcp' | 'udp', procRoot = '/proc'): PortOwner[] {
  const inodes = socketInodes(port, proto, procRoot);
  if (inodes.size === 0) return [];
  const targets = new Set([...inodes].map((i) => `socket:[${i}]`));
  const owners: PortOwner[] = [];
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${pid}/fd`);
    } catch {
      continue; // gone, or another user's process
    }
    const holds = fds.some((fd) => {
      try {
        return targets.has(readlinkSync(`${procRoot}/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    let name = '?';
    try {
      name = readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim();
    } catch {
      // exited meanwhile
    }
    owners.push({ pid: Number(pid), name });
  }
  return owners;
}

/** What to do about the programs MUTT usually replaces. */
const REMEDY: Record<string, string> = {
  rsyslogd:
    'rsyslog listens there: remove its imudp/imtcp input for this port from /etc/rsyslog.conf (or /etc/rsyslog.d/) and "systemctl restart rsyslog"',
  snmptrapd: 'snmptrapd listens there: "systemctl disable --now snmptrapd"',
};

/**
 * "held by rsyslogd (pid 812)" plus the remedy for a program MUTT replaces, or how to find the holder
 * when it cannot be seen from here.
 */
export function describePortOwner(port: number, proto: 'tcp' | 'udp'): string {
  let owners: PortOwner[] = [];
  try {
    owners = findPortOwners(port, proto);
  } catch {
    // /proc unreadable: fall through to the hint
  }
  const look = `ss -l${proto === 'tcp' ? 't' : 'u'}np 'sport = :${port}'`;
  if (owners.length === 0) return `another process holds it (find it with "${look}")`;
  const remedies = [...new Set(owners.map((o) => REMEDY[o.name]).filter(Boolean))];
  return `held by ${owners.map((o) => `${o.name} (pid ${o.pid})`).join(', ')}${remedies.length > 0 ? `; ${remedies.join('; ')}` : ''}`;
}
