// A mock Moogsoft REST LAM for tests and benchmarks: a real HTTP(S) server that records every request,
// validates every event against the REST LAM fields MUTT sends (PROTOCOL.md, "Forwarder → Payload"),
// checks the credentials it was told to expect, and answers as told: any status (200, 202, 400, 401,
// 429, 500, 503, …) with optional Retry-After and delay, a reset connection, no answer at all, a body
// that is not JSON, or a 10 MB body. Moogsoft is an external service, so this is the one test double
// in MUTT's tests; Redis and PostgreSQL are always real.
//
// Free of vitest imports: benchmarks use it too.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour =
  | {
      kind: 'status';
      status: number;
      body?: string;
      headers?: Record<string, string>;
      /** Answer after this long. */
      delayMs?: number;
    }
  /** Close the connection without answering. */
  | { kind: 'reset' }
  /** Read the request and never answer. */
  | { kind: 'hang' }
  /** A JSON content type with a body that is not JSON. */
  | { kind: 'invalid_json'; status?: number }
  /** A very large body (10 MB by default). */
  | { kind: 'huge'; status?: number; bytes?: number };

type StatusBehaviour = Extract<Behaviour, { kind: 'status' }>;
export const ok = (status = 200, extra: Partial<StatusBehaviour> = {}): StatusBehaviour => ({
  kind: 'status',
  status,
  body: JSON.stringify({ success: true, message: 'Event Processed' }),
  ...extra,
});
export const fail = (
  status: number,
  message = 'failure',
  extra: Partial<StatusBehaviour> = {},
): StatusBehaviour => ({
  kind: 'status',
  status,
  body: JSON.stringify({ success: false, message }),
  ...extra,
});

export interface RecordedRequest {
  /** Date.now() when the request body had arrived. */
  at: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  bytes: number;
  /** The events of the request (unless keepEvents is false). */
  events: Record<string, unknown>[];
  /** external_id of each event, in order. */
  ids: string[];
  /** Payload or authentication problems found (empty when the request was valid). */
  problems: string[];
  /** The status answered, or what happened instead. */
  answer: number | 'reset' | 'hang';
}

export interface MockMoogsoftOptions {
  host?: string;
  port?: number;
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Credentials to require (401 otherwise). */
  auth?:
    | { bearer: string }
    | { basic: { user: string; password: string } }
    | { authToken: string }
    | { apiKey: string };
  /** Payload shape to require: `{"events":[…]}`, one object per request, or either. */
  payload?: 'batch' | 'single' | 'any';
  /** Keep the event objects (default) or only their ids and times (long benchmarks). */
  keepEvents?: boolean;
  /**
   * `false`: neither parse nor validate bodies, only read each event's external_id from the text
   * (capacity benchmarks, where the mock shares the CPU with the MUTT it measures). Default true.
   */
  validate?: boolean;
}

const REQUIRED_STRINGS = ['signature', 'source_id', 'external_id', 'source'] as const;
/** How an event's id starts in a request body MUTT sends (JSON.stringify: no spaces). */
const EXTERNAL_ID = '"external_id":"';
const STRINGS = ['manager', 'class', 'agent', 'agent_location', 'type', 'description'] as const;

/** The problems of one REST LAM event, as MUTT sends them (empty when valid). */
export function eventProblems(e: unknown): string[] {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return ['an event must be a JSON object'];
  const o = e as Record<string, unknown>;
  const p: string[] = [];
  for (const k of REQUIRED_STRINGS)
    if (typeof o[k] !== 'string' || o[k].length === 0) p.push(`${k}: a non-empty string is required`);
  for (const k of STRINGS) if (typeof o[k] !== 'string') p.push(`${k}: a string is required`);
  if (!Number.isInteger(o.severity) || (o.severity as number) < 0 || (o.severity as number) > 5)
    p.push('severity: an integer 0-5 is required');
  if (!Number.isInteger(o.agent_time) || (o.agent_time as number) < 1e9 || (o.agent_time as number) > 1e11)
    p.push('agent_time: epoch seconds are required');
  if (o.custom_info === null || typeof o.custom_info !== 'object' || Array.isArray(o.custom_info))
    p.push('custom_info: an object is required');
  return p;
}

export class MockMoogsoft {
  readonly requests: RecordedRequest[] = [];
  url = '';
  port = 0;
  private server?: http.Server;
  private readonly o: MockMoogsoftOptions;
  private behaviour: Behaviour | ((r: RecordedRequest) => Behaviour | undefined) = ok();
  private health?: Behaviour;
  private queued: Behaviour[] = [];
  private rejectWhen?: { pred: (e: Record<string, unknown>) => boolean; status: number };
  private readonly sockets = new Set<Socket>();
  /** Kept as answers go out, so that polling them costs nothing (benchmarks poll often). */
  private accepted: string[] = [];
  private unique = new Set<string>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(o: MockMoogsoftOptions) {
    this.o = o;
  }

  static async start(o: MockMoogsoftOptions = {}): Promise<MockMoogsoft> {
    const m = new MockMoogsoft(o);
    await m.listen();
    return m;
  }

  private async listen(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const server = this.o.tls
      ? https.createServer({ key: this.o.tls.key, cert: this.o.tls.cert }, handler)
      : http.createServer(handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // Failed TLS handshakes are part of some tests; they must not crash the mock.
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) =>
      server.listen(this.o.port ?? 0, this.o.host ?? '127.0.0.1', resolve),
    );
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/events`;
  }

  /** How to answer from now on (a function may look at the request; undefined means 200). */
  respond(b: Behaviour | ((r: RecordedRequest) => Behaviour | undefined)): void {
    this.behaviour = b;
  }

  /** The next `n` POSTs get `b`, before the standing behaviour applies again. */
  next(n: number, b: Behaviour): void {
    for (let i = 0; i < n; i++) this.queued.push(b);
  }

  /** How GET (health probes) is answered; by default like the standing behaviour. */
  respondToHealth(b: Behaviour | undefined): void {
    this.health = b;
  }

  /** Requests carrying an event that matches get `status` (400 by default), as a LAM rejecting one bad event. */
  rejectEvents(pred: (e: Record<string, unknown>) => boolean, status = 400): void {
    this.rejectWhen = { pred, status };
  }

  /** Forgets recorded requests (behaviours stay). */
  clear(): void {
    this.requests.length = 0;
    this.accepted = [];
    this.unique = new Set();
  }

  // ── Queries ────────────────────────────────────────────────────────────────────────────────
  /** Requests that carried a payload (POST). */
  posts(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST');
  }
  /** external_id of every event answered with 2xx, in answer order (duplicates included). */
  acceptedIds(): string[] {
    return this.accepted;
  }
  acceptedEvents(): Record<string, unknown>[] {
    return this.posts()
      .filter((r) => typeof r.answer === 'number' && r.answer >= 200 && r.answer <= 299)
      .flatMap((r) => r.events);
  }
  uniqueAcceptedIds(): ReadonlySet<string> {
    return this.unique;
  }
  /** Accepted events beyond the first delivery of each id. */
  duplicates(): number {
    return this.accepted.length - this.unique.size;
  }
  /** Requests whose payload or credentials were wrong. */
  invalid(): RecordedRequest[] {
    return this.requests.filter((r) => r.problems.length > 0);
  }

  /** Polls until `pred` holds. */
  async until(pred: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`mock Moogsoft: ${what} not reached in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // ── Serving ────────────────────────────────────────────────────────────────────────────────
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const rec: RecordedRequest = {
      at: Date.now(),
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      bytes: body.byteLength,
      events: [],
      ids: [],
      problems: [],
      answer: 0,
    };
    this.requests.push(rec);
    let parsed: unknown;
    if (rec.method === 'POST' && this.o.validate === false) {
      const text = body.toString('utf8');
      for (let i = text.indexOf(EXTERNAL_ID); i >= 0; i = text.indexOf(EXTERNAL_ID, i + 1)) {
        const from = i + EXTERNAL_ID.length;
        rec.ids.push(text.slice(from, text.indexOf('"', from)));
      }
      return this.answer(res, rec, this.queued.shift() ?? this.standing(rec));
    }
    if (rec.method === 'POST') {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        rec.problems.push('the body is not JSON');
      }
      if (parsed !== undefined) this.readEvents(parsed, rec);
    }
    const authProblem = this.checkAuth(req, parsed);
    if (authProblem) {
      rec.problems.push(authProblem);
      return this.answer(res, rec, {
        kind: 'status',
        status: 401,
        body: JSON.stringify({ success: false, message: 'Authentication failed' }),
      });
    }
    if (rec.method !== 'POST') return this.answer(res, rec, this.health ?? this.standing(rec));
    if (rec.problems.length > 0)
      return this.answer(res, rec, {
        kind: 'status',
        status: 400,
        body: JSON.stringify({ success: false, message: rec.problems.join('; ') }),
      });
    const one = this.queued.shift();
    if (one) return this.answer(res, rec, one);
    if (this.rejectWhen && rec.events.some((e) => this.rejectWhen!.pred(e))) {
      const bad = rec.events.filter((e) => this.rejectWhen!.pred(e)).map((e) => e.external_id);
      return this.answer(res, rec, {
        kind: 'status',
        status: this.rejectWhen.status,
        body: JSON.stringify({ success: false, message: `Invalid event(s): ${bad.join(', ')}` }),
      });
    }
    return this.answer(res, rec, this.standing(rec));
  }

  private standing(rec: RecordedRequest): Behaviour {
    return typeof this.behaviour === 'function' ? (this.behaviour(rec) ?? ok()) : this.behaviour;
  }

  private readEvents(parsed: unknown, rec: RecordedRequest): void {
    const mode = this.o.payload ?? 'batch';
    let events: unknown[];
    if (
      parsed !== null &&
      typeof parsed === 'object' &&
      Array.isArray((parsed as { events?: unknown }).events)
    ) {
      if (mode === 'single') rec.problems.push('expected one event object, got {"events":[…]}');
      events = (parsed as { events: unknown[] }).events;
      if (events.length === 0) rec.problems.push('events: empty');
    } else {
      if (mode === 'batch') rec.problems.push('expected {"events":[…]}');
      events = [parsed];
    }
    for (const e of events) {
      const p = eventProblems(e);
      rec.problems.push(...p);
      const o = (e ?? {}) as Record<string, unknown>;
      rec.ids.push(String(o.external_id));
      if (this.o.keepEvents !== false) rec.events.push(o);
    }
  }

  private checkAuth(req: IncomingMessage, body: unknown): string | undefined {
    const a = this.o.auth;
    if (!a) return undefined;
    if ('bearer' in a)
      return req.headers.authorization === `Bearer ${a.bearer}` ? undefined : 'bad bearer token';
    if ('basic' in a) {
      const want = `Basic ${Buffer.from(`${a.basic.user}:${a.basic.password}`).toString('base64')}`;
      return req.headers.authorization === want ? undefined : 'bad basic credentials';
    }
    if ('apiKey' in a) return req.headers.apikey === a.apiKey ? undefined : 'bad apiKey header';
    if (req.method !== 'POST') return undefined; // a GET carries no body, hence no auth_token
    const token =
      body && typeof body === 'object' ? (body as { auth_token?: unknown }).auth_token : undefined;
    return token === a.authToken ? undefined : 'bad auth_token';
  }

  private answered(rec: RecordedRequest, status: number): void {
    rec.answer = status;
    if (rec.method !== 'POST' || status < 200 || status > 299) return;
    for (const id of rec.ids) {
      this.accepted.push(id);
      this.unique.add(id);
    }
  }

  private answer(res: ServerResponse, rec: RecordedRequest, b: Behaviour): void {
    res.on('error', () => {});
    switch (b.kind) {
      case 'reset':
        rec.answer = 'reset';
        res.socket?.destroy();
        return;
      case 'hang':
        rec.answer = 'hang';
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      case 'invalid_json':
        this.answered(rec, b.status ?? 200);
        res.writeHead(b.status ?? 200, { 'Content-Type': 'application/json' });
        res.end('{"success": tru');
        return;
      case 'huge': {
        this.answered(rec, b.status ?? 200);
        const bytes = b.bytes ?? 10 * 1024 * 1024;
        res.writeHead(b.status ?? 200, {
          'Content-Type': 'application/json',
          'Content-Length': String(bytes),
        });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let left = bytes;
        const pump = () => {
          while (left > 0) {
            const n = Math.min(left, chunk.byteLength);
            left -= n;
            if (!res.write(n === chunk.byteLength ? chunk : chunk.subarray(0, n))) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      case 'status': {
        const send = () => {
          // A client that gave up early still had its events processed, as a real LAM would have.
          this.answered(rec, b.status);
          if (res.destroyed) return;
          res.writeHead(b.status, { 'Content-Type': 'application/json', ...b.headers });
          res.end(b.body ?? '');
        };
        if (b.delayMs) setTimeout(send, b.delayMs);
        else send();
      }
    }
  }
}
