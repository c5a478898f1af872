import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensurePackages } from '../../test/harness/packages.ts';
import { sdNotify } from './notify.ts';
import { findOnPath } from './services/binaries.ts';

// A stand-in for systemd's notification socket: a Unix datagram socket (Node.js has none, Python
// does) that prints each datagram on a line and closes the file descriptors sent with it, which is
// what ends systemd-notify's barrier wait, as the service manager does.
const LISTENER = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    msg, fds, _, _ = socket.recv_fds(s, 4096, 16)
    for fd in fds: os.close(fd)
    print(msg.decode().replace("\\n", "|"), flush=True)
`;

describe('sdNotify', () => {
  it('does nothing without NOTIFY_SOCKET', async () => {
    expect(await sdNotify({ READY: '1' }, { PATH: process.env.PATH })).toEqual({ sent: false });
  });

  it('sends READY=1 and STATUS= to the socket systemd names in NOTIFY_SOCKET', async () => {
    ensurePackages(
      {
        'python3-minimal': () => findOnPath('python3') !== undefined,
        systemd: () => findOnPath('systemd-notify') !== undefined,
      },
      'a stand-in for the notification socket',
    );
    const sock = join(mkdtempSync(join(tmpdir(), 'mutt-notify-')), 'notify');
    const py = spawn('python3', ['-c', LISTENER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    py.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await expect.poll(() => out, { timeout: 10_000 }).toContain('listening');
      const r = await sdNotify(
        { READY: '1', STATUS: 'running: ingest 8080' },
        { PATH: process.env.PATH, NOTIFY_SOCKET: sock },
      );
      expect(r).toEqual({ sent: true });
      await expect.poll(() => out, { timeout: 10_000 }).toMatch(/READY=1\|STATUS=running: ingest 8080/);
    } finally {
      py.kill();
    }
  });
});
