// HTTP ingest (PROTOCOL.md, "HTTP API"): POST /ingest and its /api/v1, /api/v2 aliases, plus /health
// and /metrics on the same port, as Python MUTT's ingestor serves them.
//
// A request is answered 200 only after Redis acknowledged the Lua call that pushed its events and
// counted them in the metrics buckets. Every failure is a MuttError with a stable reason: it becomes a
// JSON body naming the problem, a `mutt_ingest_requests_total{status="fail",reason}` count and at most
// one log line per reason per minute.
import { randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import type { SlidingWindowLimiter } from '../../core/rate-limit.ts';
import { ApiKeyRing } from '../../core/security.ts';
import { MuttError } from '../../errors.ts';
import { type Logger, LogLimiter } from '../../runtime/logging.ts';
import { normalizeAddress } from '../../runtime/listen.ts';
import type { HealthReport } from '../../runtime/health.ts';
import { type Enqueuer, RedisUnavailableError, ReplicaAckError } from '../enqueue.ts';
import type { IngestMetrics } from './metrics.ts';
import { acceptableCorrelationId, parseBody, prepareEvent } from './parse.ts';

export const INGEST_PATHS = ['/ingest', '/api/v1/ingest', '/api/v2/ingest'] as const;
/** Seconds a client should wait after a 503. */
export const RETRY_AFTER_SECONDS = 5;

export type { HealthReport };

export interface IngestAppOptions {
  /** The key (or the current and previous keys, following rotations) clients send in X-API-KEY. */
  apiKey: string | undefined | ApiKeyRing;
  required: readonly string[];
  maxBodyBytes: number;
  enqueuer: Enqueuer;
  rateLimiter?: SlidingWindowLimiter;
  metrics: IngestMetrics;
  log: Logger;
  health: () => Promise<HealthReport>;
  metricsText: () => Promise<{ contentType: string; body: string }>;
  now?: () => Date;
}

type Env = {
  Bindings: {
    incoming?: {
      headers: Record<string, string | string[] | undefined>;
      socket?: { remoteAddress?: string };
    };
  };
};

/**
 * A request header. Under @hono/node-server the Node request's plain header object is read directly,
 * which avoids building a WHATWG Headers object per request (measurably cheaper on the hot path);
 * in-process requests (app.request) fall back to Hono's accessor.
 */
function header(c: Context<Env>, name: string): string | undefined {
  const incoming = c.env?.incoming;
  if (incoming) {
    const v = incoming.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }
  return c.req.header(name);
}

export function createIngestApp(o: IngestAppOptions): Hono<Env> {
  const app = new Hono<Env>();
  const keys = o.apiKey instanceof ApiKeyRing ? o.apiKey : new ApiKeyRing(o.apiKey);
  const limiter = new LogLimiter(60_000);
  const now = o.now ?? (() => new Date());
  const decoder = new TextDecoder();
  const success = o.metrics.requests.labels({ status: 'success', reason: '' });
  const eventsQueued = o.metrics.events.labels({ status: 'queued' });
  const eventsRejected = o.metrics.events.labels({ status: 'rejected' });

  const fail = (c: Context<Env>, err: unknown, cid: string, sourceIp: string | undefined): Response => {
    const e =
      err instanceof MuttError
        ? err
        : err instanceof ReplicaAckError
          ? new MuttError('REPLICA_TIMEOUT', undefined, {
              headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
              cause: err,
            })
          : err instanceof RedisUnavailableError
            ? new MuttError('REDIS_UNAVAILABLE', undefined, {
                headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
                cause: err,
              })
            : new MuttError('INTERNAL', undefined, { cause: err });
    o.metrics.requests.inc({ status: 'fail', reason: e.reason });
    const suppressed = limiter.take(e.reason);
    if (suppressed >= 0) {
      const fields = {
        correlation_id: cid,
        source_ip: sourceIp,
        reason: e.reason,
        status: e.status,
        suppressed,
      };
      if (e.code === 'INTERNAL') o.log.error({ ...fields, err }, 'ingest request failed');
      else if (e.code === 'REDIS_UNAVAILABLE' || e.code === 'REPLICA_TIMEOUT')
        o.log.error({ ...fields, err: (err as Error).message }, e.message);
      else o.log.warn({ ...fields, detail: e.message }, 'ingest request refused');
    }
    for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
    c.header('X-Correlation-ID', cid);
    return c.json(
      { status: 'error', message: e.message, correlation_id: cid, ...e.details },
      e.status as 400,
    );
  };

  async function readBody(c: Context<Env>): Promise<string> {
    const lengthHeader = header(c, 'content-length');
    if (lengthHeader !== undefined && header(c, 'transfer-encoding') === undefined) {
      if (Number(lengthHeader) > o.maxBodyBytes) throw tooLarge(o.maxBodyBytes);
      return c.req.text();
    }
    // Chunked: count while reading and stop at the limit; the rest is never read.
    const body = c.req.raw.body;
    if (!body) return '';
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > o.maxBodyBytes) {
        void reader.cancel().catch(() => {});
        throw tooLarge(o.maxBodyBytes);
      }
      chunks.push(value);
    }
    return decoder.decode(Buffer.concat(chunks));
  }

  async function ingest(c: Context<Env>): Promise<Response> {
    const started = performance.now();
    const given = header(c, 'x-correlation-id');
    const requestCid = acceptableCorrelationId(given) ? given : randomUUID();
    const remote = c.env?.incoming?.socket?.remoteAddress;
    const sourceIp = remote === undefined ? undefined : normalizeAddress(remote);
    try {
      const match = keys.check(header(c, 'x-api-key'));
      if (!match) throw new MuttError('UNAUTHORIZED');
      if (match === 'previous') o.metrics.previousKey.inc();
      if (o.rateLimiter) {
        const a = await o.rateLimiter.acquire().catch((err) => {
          throw new RedisUnavailableError(err);
        });
        if (!a.ok) {
          const retryAfter = Math.max(1, Math.ceil(a.retryAfterMs / 1000));
          throw new MuttError('RATE_LIMITED', undefined, {
            details: { retry_after: retryAfter },
            headers: { 'Retry-After': String(retryAfter) },
          });
        }
      }
      const parsed = parseBody(await readBody(c));
      const receivedAt = now().toISOString();
      const required = o.required;

      if (parsed.kind === 'single') {
        // X-Correlation-ID wins, then the event's own `_correlation_id`, then a new UUID.
        const p = prepareEvent(parsed.value, {
          required,
          correlationId: acceptableCorrelationId(given) ? given : undefined,
          fallbackCorrelationId: () => requestCid,
          receivedAt,
          sourceIp,
        });
        if (!p.ok) throw new MuttError('INVALID_EVENT', p.error);
        const cid = p.correlationId;
        const r = await o.enqueuer.push([p.json]);
        if (!r.ok) throw queueFull(r.depth, r.limit);
        success.inc();
        eventsQueued.inc();
        return jsonResponse(
          200,
          { status: 'queued', correlation_id: cid, queue_depth: r.depth },
          { 'X-Correlation-ID': cid },
        );
      }

      // Batch item i is traced as `<request correlation id>:<i>` unless it brings its own id; the
      // result lists the id only then, which keeps the answer to a large batch small.
      const results: Record<string, unknown>[] = [];
      const jsons: string[] = [];
      parsed.items.forEach((item, index) => {
        if (!item.ok) {
          results.push({ index, status: 'error', message: item.error });
          return;
        }
        const p = prepareEvent(item.value, {
          required,
          fallbackCorrelationId: () => `${requestCid}:${index}`,
          receivedAt,
          sourceIp,
        });
        if (p.ok) {
          jsons.push(p.json);
          results.push(
            p.own
              ? { index, status: 'queued', correlation_id: p.correlationId }
              : { index, status: 'queued' },
          );
        } else {
          results.push({ index, status: 'error', message: p.error });
        }
      });
      const rejected = results.length - jsons.length;
      if (jsons.length === 0) {
        throw new MuttError('INVALID_EVENT', `No valid event in the batch of ${results.length}`, {
          details: { results },
        });
      }
      const r = await o.enqueuer.push(jsons);
      if (!r.ok) throw queueFull(r.depth, r.limit);
      success.inc();
      eventsQueued.inc(jsons.length);
      if (rejected > 0) eventsRejected.inc(rejected);
      return jsonResponse(
        200,
        {
          status: 'queued',
          correlation_id: requestCid,
          queue_depth: r.depth,
          queued: jsons.length,
          rejected,
          results,
        },
        { 'X-Correlation-ID': requestCid },
      );
    } catch (err) {
      return fail(c, err, requestCid, sourceIp);
    } finally {
      o.metrics.latency.observe((performance.now() - started) / 1000);
    }
  }

  app.get('/health', async (c) => {
    const h = await o.health();
    return c.json(h, h.status === 'healthy' ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    const m = await o.metricsText();
    return c.body(m.body, 200, { 'Content-Type': m.contentType });
  });
  for (const path of INGEST_PATHS) {
    app.post(path, ingest);
    app.all(path, (c) => {
      c.header('Allow', 'POST');
      return c.json(
        { status: 'error', message: `Method ${c.req.method} not allowed on ${path}: use POST` },
        405,
      );
    });
  }
  app.notFound((c) => c.json({ status: 'error', message: `Not found: ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    o.log.error({ err }, 'unhandled error in HTTP ingest');
    return c.json({ status: 'error', message: 'Internal error' }, 500);
  });
  return app;
}

/**
 * A JSON response with plain-object headers: @hono/node-server writes it straight to the socket
 * without building WHATWG Headers, which matters at tens of thousands of requests per second.
 */
function jsonResponse(status: number, body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function tooLarge(limit: number): MuttError {
  return new MuttError('BODY_TOO_LARGE', `Request body larger than ${limit} bytes`, {
    details: { limit_bytes: limit },
    // Closing the connection is what keeps the server from reading the rest of the body.
    headers: { Connection: 'close' },
  });
}

function queueFull(depth: number, limit: number): MuttError {
  return new MuttError('QUEUE_FULL', undefined, {
    details: { queue_depth: depth, queue_limit: limit },
    headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
  });
}
