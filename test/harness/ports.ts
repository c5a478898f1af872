import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A TCP port that was free a moment ago (the kernel picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A UDP port that was free a moment ago (the kernel picks it), for listeners such as SNMP. */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.unref();
    s.on('error', reject);
    s.bind(0, host, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}
