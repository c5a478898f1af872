// Net-SNMP's command-line clients (Debian package `snmp`) as the SNMP listener tests run them: no
// MIB loading on the client side, and a private persistent directory so that one test's engine
// boots never leak into another's. Plus a UDP sink that captures what a client sends.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const persistent = mkdtempSync(join(tmpdir(), 'mutt-netsnmp-'));

export interface ClientResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs snmptrap / snmpinform with numeric OIDs only. */
export function netSnmp(
  tool: 'snmptrap' | 'snmpinform',
  args: readonly string[],
  timeoutMs = 20_000,
): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        MIBS: '',
        MIBDIRS: '/nonexistent',
        SNMP_PERSISTENT_DIR: persistent,
        SNMPCONFPATH: persistent,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs `send(port)` against a throw-away UDP socket and returns the first datagram it receives. */
export async function capture(send: (port: number) => Promise<unknown>): Promise<Buffer> {
  const sink = createSocket('udp4');
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()));
  const got = new Promise<Buffer>((resolve) => sink.once('message', (m) => resolve(m)));
  try {
    await send(sink.address().port);
    return await Promise.race([
      got,
      new Promise<Buffer>((_, reject) => setTimeout(() => reject(new Error('nothing captured')), 10_000)),
    ]);
  } finally {
    sink.close();
  }
}
