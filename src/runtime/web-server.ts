// The HTTP(S) servers of MUTT (ingest on SERVER_PORT_INGESTOR, the admin server on SERVER_PORT_WEBUI):
// a Hono fetch handler served over HTTP, or over HTTPS when the listener has a certificate
// (./tls.ts ServerCertificate, reloaded on SIGHUP), with the same timeouts everywhere and errors
// that name the port variable.
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createAdaptorServer } from '@hono/node-server';
import { listenTcp } from './listen.ts';
import type { ServerCertificate } from './tls.ts';

export type FetchHandler = Parameters<typeof createAdaptorServer>[0]['fetch'];

export interface WebServerOptions {
  fetch: FetchHandler;
  port: number;
  host?: string;
  /** The variable that chose the port, for bind errors (`SERVER_PORT_INGESTOR`). */
  variable: string;
  /** HTTPS with this certificate; plain HTTP when undefined. */
  tls?: ServerCertificate;
}

export interface WebServer {
  server: HttpServer | HttpsServer;
  port: number;
  /** `http` or `https`. */
  scheme: 'http' | 'https';
  /** Stops accepting; in-flight requests get `graceMs`, then their connections are closed. */
  close(graceMs?: number): Promise<void>;
}

/** Creates the server (HTTPS when `tls` is given) without listening. */
export function createWebServer(o: Pick<WebServerOptions, 'fetch' | 'tls'>): HttpServer | HttpsServer {
  const server = (
    o.tls
      ? createAdaptorServer({
          fetch: o.fetch,
          createServer: createHttpsServer,
          serverOptions: o.tls.options(),
        })
      : createAdaptorServer({ fetch: o.fetch })
  ) as HttpServer | HttpsServer;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  if (o.tls) o.tls.attach(server as HttpsServer);
  return server;
}

/** Creates the server and listens; resolves with the bound port. */
export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const server = createWebServer(o);
  const port = await listenTcp(server, { port: o.port, host: o.host, variable: o.variable });
  return {
    server,
    port,
    scheme: o.tls ? 'https' : 'http',
    close: (graceMs = 10_000) => closeServer(server, graceMs),
  };
}

export function closeServer(server: HttpServer | HttpsServer, graceMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
