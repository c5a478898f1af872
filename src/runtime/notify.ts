// The systemd readiness protocol (sd_notify(3)) for `Type=notify`: when systemd starts MUTT it sets
// NOTIFY_SOCKET, and MUTT reports READY=1 once its listeners are bound and its workers run, so
// `systemctl start mutt` returns when MUTT receives events, not when the process was forked.
// STOPPING=1 and RELOADING=1 tell systemd what MUTT is doing, STATUS= shows in `systemctl status`.
//
// Node.js cannot send on the Unix datagram socket itself, so the message goes through systemd's own
// `systemd-notify`; the unit sets NotifyAccess=all because that helper is MUTT's child, not its main
// process. systemd-notify waits (sd_notify_barrier) until systemd has taken the message, so READY=1
// is never lost to the helper exiting first. Without NOTIFY_SOCKET (not under systemd) this does
// nothing.
import { execFile } from 'node:child_process';
import { findOnPath } from './services/binaries.ts';

export interface NotifyResult {
  sent: boolean;
  error?: string;
}

export function notifySocket(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const s = env.NOTIFY_SOCKET;
  return s && s.length > 0 ? s : undefined;
}

/** Sends `KEY=value` assignments to systemd; resolves once systemd-notify has finished. */
export function sdNotify(
  state: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NotifyResult> {
  if (!notifySocket(env)) return Promise.resolve({ sent: false });
  const bin = findOnPath('systemd-notify', ['/usr/bin', '/bin']);
  if (!bin) return Promise.resolve({ sent: false, error: 'systemd-notify not found' });
  const args = Object.entries(state).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`);
  return new Promise((resolve) => {
    execFile(bin, args, { env, timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err) resolve({ sent: false, error: (stderr || err.message).trim() });
      else resolve({ sent: true });
    });
  });
}
