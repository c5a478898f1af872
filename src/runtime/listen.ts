// Binding listeners with errors an operator can act on: the variable that chose the port and the
// remedy (capability, another port), instead of a bare EACCES.

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
        `${where}: address already in use. Another process listens on it (see "ss -lntup | grep :${port}"): stop it or choose another port.`,
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
