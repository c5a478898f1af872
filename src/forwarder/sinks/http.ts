// A small HTTP(S) client for sinks, on Node's own http/https modules: keep-alive connections, one
// deadline for the whole exchange (connect, send, answer), answers read up to a bound and the rest
// discarded, TLS verified by default with an optional private CA. Node's built-in fetch cannot take
// a per-client CA without the separate undici package, and these few needs do not justify one.
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export interface HttpClientOptions {
  /** Base URL; requests may name another URL on the same scheme. */
  url: string;
  timeoutMs: number;
  /** Bytes of an answer kept; the rest is discarded and the connection closed. */
  maxResponseBytes: number;
  /** PEM file of the CA(s) to trust instead of the system list. */
  caFile?: string;
  /** Verify the server certificate and host name (https). */
  verify: boolean;
  maxSockets: number;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The answer's first maxResponseBytes, as UTF-8. */
  body: string;
  /** The answer was longer than maxResponseBytes. */
  truncated: boolean;
  latencyMs: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'HEAD';
  url?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The error for a request that took longer than the deadline. */
export class HttpTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

export class HttpClient {
  private readonly o: HttpClientOptions;
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(o: HttpClientOptions) {
    this.o = o;
    this.base = new URL(o.url);
    const common = { keepAlive: true, noDelay: true, maxSockets: o.maxSockets, scheduling: 'lifo' as const };
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({
            ...common,
            rejectUnauthorized: o.verify,
            ...(o.caFile ? { ca: readFileSync(o.caFile) } : {}),
          })
        : new http.Agent(common);
  }

  /** Sends a request; rejects only when no HTTP answer arrived (transport error or timeout). */
  async request(r: HttpRequest): Promise<HttpAnswer> {
    try {
      return await this.once(r);
    } catch (err) {
      // A keep-alive connection the server closed just as it was reused fails before the request
      // reached the server: try once more on a fresh connection (Node's documented pattern).
      if ((err as { reusedSocket?: boolean }).reusedSocket) return this.once(r);
      throw err;
    }
  }

  private once(r: HttpRequest): Promise<HttpAnswer> {
    const url = r.url ? new URL(r.url) : this.base;
    const lib = url.protocol === 'https:' ? https : http;
    const started = performance.now();
    const body = r.body === undefined ? undefined : Buffer.from(r.body, 'utf8');
    const max = this.o.maxResponseBytes;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const done = (err: Error | undefined, answer?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(answer!);
      };
      const req = lib.request(url, {
        method: r.method,
        agent: this.agent,
        headers: {
          ...r.headers,
          ...(body ? { 'Content-Length': String(body.byteLength) } : {}),
        },
      });
      const timer = setTimeout(() => {
        const err = new HttpTimeoutError(this.o.timeoutMs);
        done(err);
        req.destroy(err);
      }, this.o.timeoutMs);
      req.on('error', (err: Error & { reusedSocket?: boolean }) => {
        if (req.reusedSocket && !(err instanceof HttpTimeoutError)) err.reusedSocket = true;
        done(err);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        const finish = () => {
          done(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            truncated,
            latencyMs: performance.now() - started,
          });
        };
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          const room = max - size;
          if (chunk.byteLength > room) {
            chunks.push(chunk.subarray(0, Math.max(0, room)));
            size = max;
            truncated = true;
            // Enough is read: answer now and drop the connection rather than read megabytes.
            finish();
            res.destroy();
            return;
          }
          chunks.push(chunk);
          size += chunk.byteLength;
        });
        res.on('end', finish);
        res.on('error', (err) => done(err));
        res.on('close', () => {
          if (!res.complete && !truncated)
            done(Object.assign(new Error('answer cut off'), { code: 'ECONNRESET' }));
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A bounded, single-line excerpt of an answer for logs and DLQ reasons, with secrets blanked. */
export function excerpt(text: string, secrets: readonly (string | undefined)[], max = 300): string {
  let s = text;
  for (const secret of secrets) if (secret && secret.length >= 4) s = s.split(secret).join('[redacted]');
  s = s
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
