// Binding listeners with errors an operator can act on: the variable that chose the port and the
// remedy (capability, another port), instead of a bare EACCES.
import { createSocket, type Socket } from 'node:dgram';
import { describePortOwner } from './portowner.ts';

export class StartupError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 78, cause?: unknown) {
    super(message, { cause });
    this.name = 'StartupError';
    this.exitCode = exitCode;
  }
}

export function bindError(
  err: NodeJS.ErrnoException,
  variable: string,
  port: number,
  proto: 'tcp' | 'udp',
): StartupError {
  const where = `${variable}=${port} (${proto})`;
  switch (err.code) {
    case 'EACCES':
      return new StartupError(
        `${where}: permission denied. Ports below 1024 need root or CAP_NET_BIND_SERVICE: ` +
          'run MUTT from its systemd unit (AmbientCapabilities=CAP_NET_BIND_SERVICE), or ' +
          '"setcap cap_net_bind_service=+ep $(readlink -f $(which node))", or choose a port >= 1024.',
        78,
        err,
      );
    case 'EADDRINUSE':
      return new StartupError(
        `${where}: address already in use, ${describePortOwner(port, proto)}. ` +
          `Stop the other program listening there, or set ${variable} to another port in /etc/mutt/mutt.env (0 turns this listener off).`,
        78,
        err,
      );
    case 'EADDRNOTAVAIL':
      return new StartupError(
        `${where}: the listen address is not on this host (check MUTT_LISTEN_ADDRESS).`,
        78,
        err,
      );
    default:
      return new StartupError(`${where}: cannot listen: ${err.message}`, 78, err);
  }
}

/** Listens on `port` (dual-stack when no host is given) and resolves with the bound port. */
export function listenTcp(
  server: import('node:net').Server,
  o: { port: number; host?: string; variable: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(bindError(err, o.variable, o.port, 'tcp'));
    server.once('error', onError);
    server.listen({ port: o.port, host: o.host }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : o.port);
    });
  });
}

/**
 * Binds a UDP socket asking for `recvBufferBytes` of receive buffer: on `address`, or dual-stack on
 * `::` (IPv4 only when the host has no IPv6). Errors name `variable`. The buffer the kernel really
 * granted (it clamps to net.core.rmem_max) is for the caller to read back and report.
 */
export async function bindUdp(o: {
  port: number;
  address?: string;
  recvBufferBytes: number;
  variable: string;
}): Promise<Socket> {
  const tryBind = (type: 'udp4' | 'udp6', address: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = createSocket({ type, ipv6Only: false, recvBufferSize: o.recvBufferBytes });
      s.once('error', reject);
      s.bind(o.port, address, () => {
        s.off('error', reject);
        resolve(s);
      });
    });
  let socket: Socket;
  try {
    if (o.address) socket = await tryBind(o.address.includes(':') ? 'udp6' : 'udp4', o.address);
    else {
      try {
        socket = await tryBind('udp6', '::');
      } catch (err) {
        // No IPv6 on this host (disabled in the kernel): IPv4 only.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL' && code !== 'EPROTONOSUPPORT') throw err;
        socket = await tryBind('udp4', '0.0.0.0');
      }
    }
  } catch (err) {
    throw bindError(err as NodeJS.ErrnoException, o.variable, o.port, 'udp');
  }
  try {
    socket.setRecvBufferSize(o.recvBufferBytes);
  } catch {
    // the kernel keeps its own limit; the size granted is reported by the caller
  }
  return socket;
}

/** An IPv4 peer of a dual-stack socket arrives as ::ffff:a.b.c.d; events carry a.b.c.d. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
