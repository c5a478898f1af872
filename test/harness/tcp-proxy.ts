// A TCP proxy in front of a real server, to take it "down" for one client without stopping it for
// the other test files: cut() closes every connection and refuses new ones; restore() accepts again.
// stall() stops carrying bytes on every connection while keeping them open (a link that lags, or a
// server that hangs); resume() carries them again.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly port: number;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private stalled = false;
  private readonly target: { host: string; port: number };

  private constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.target = target;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const { freePort } = await import('./ports.ts');
    const p = new TcpProxy(await freePort(), target);
    await p.restore();
    return p;
  }

  restore(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((client) => {
        const upstream = createConnection(this.target);
        this.sockets.add(client);
        this.sockets.add(upstream);
        const pair: [Socket, Socket] = [client, upstream];
        const drop = () => {
          client.destroy();
          upstream.destroy();
          this.sockets.delete(client);
          this.sockets.delete(upstream);
          this.pairs.delete(pair);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        this.pairs.add(pair);
        if (this.stalled) {
          client.pause();
          upstream.pause();
        } else {
          client.pipe(upstream);
          upstream.pipe(client);
        }
      });
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.server = server;
        resolve();
      });
    });
  }

  /** Stops carrying bytes both ways; connections stay open and new ones are accepted but stalled. */
  stall(): void {
    this.stalled = true;
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      b.unpipe(a);
      a.pause();
      b.pause();
    }
  }

  /** Carries bytes again, starting with those that waited. */
  resume(): void {
    this.stalled = false;
    for (const [a, b] of this.pairs) {
      a.pipe(b);
      b.pipe(a);
    }
  }

  async cut(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
