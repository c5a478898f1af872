// Syslog over TCP (SYSLOG_TCP_PORT) and TLS (SYSLOG_TLS_PORT, RFC 5425): one server per port, one
// Connection per peer, sharing the framing (framing.ts) and the parsing.
//
//   socket ──data──► Framer ──frames──► Intake (parse, event JSON) ──► batch
//                                                                       │ one batch in flight per
//                                                                       ▼ connection, the next fills
//                                                     enqueuer.push ◄── in-flight batch
//                                                          │
//                      refused at the queue cap / Redis unreachable: the gate closes, the socket is
//                      paused (the sender's TCP window closes), the batch is kept and pushed again
//                      once the gate opens — nothing read is dropped.
//
// Memory per connection is bounded: the batch being filled pauses the socket at BATCH_EVENTS
// events or BATCH_BYTES bytes, and the framer holds at most SYSLOG_MAX_MESSAGE_SIZE of a frame.
import { type Server, type Socket, createServer } from 'node:net';
import { type TLSSocket, createServer as createTlsServer } from 'node:tls';
import { type Enqueuer, ReplicaAckError } from '../enqueue.ts';
import { listenTcp, normalizeAddress } from '../../runtime/listen.ts';
import type { Logger } from '../../runtime/logging.ts';
import type { ServerCertificate } from '../../runtime/tls.ts';
import type { QueueGate } from './backpressure.ts';
import { Framer } from './framing.ts';
import type { HostNames } from '../reverse-dns.ts';
import type { Encoder } from './encoder.ts';
import { type Frame, Intake } from './intake.ts';
import type { SyslogTelemetry } from './metrics.ts';

export interface StreamOptions {
  transport: 'tcp' | 'tls';
  variable: 'SYSLOG_TCP_PORT' | 'SYSLOG_TLS_PORT';
  port: number;
  address?: string;
  /** The TLS listener's certificate (and CA for client certificates), reloadable on SIGHUP. */
  certificate?: ServerCertificate;
  maxSize: number;
  tz: string;
  /** Milliseconds of silence before a connection is closed; 0: never. */
  idleTimeoutMs: number;
  maxConnections: number;
  enqueuer: Enqueuer;
  /** Frames → event JSON (on the parser thread when there is one). */
  encoder: Encoder;
  gate: QueueGate;
  telemetry: SyslogTelemetry;
  log: Logger;
  hostnames: HostNames;
}

const BATCH_EVENTS = 2000;
const BATCH_BYTES = 1024 * 1024;

export class StreamListener {
  readonly o: StreamOptions;
  private server?: Server;
  private readonly conns = new Set<Connection>();
  readonly intake: Intake;
  closing = false;
  boundPort = 0;

  constructor(o: StreamOptions) {
    this.o = o;
    this.intake = new Intake(o.transport, o.tz, o.telemetry);
  }

  get connections(): number {
    return this.conns.size;
  }

  async start(): Promise<void> {
    const o = this.o;
    const t = o.telemetry;
    const transport = o.transport;
    let server: Server;
    if (transport === 'tls') {
      const s = createTlsServer({ handshakeTimeout: 10_000, ...o.certificate?.options() }, (socket) =>
        this.accept(socket),
      );
      o.certificate?.attach(s);
      s.on('tlsClientError', (err, socket) => {
        t.closed.inc({ transport, reason: 'tls_handshake' });
        t.warn(
          'tls_handshake',
          {
            err: err.message,
            code: (err as NodeJS.ErrnoException).code,
            source_ip: normalizeAddress(socket.remoteAddress ?? ''),
          },
          'syslog TLS handshake failed (no or untrusted client certificate, or not TLS): connection closed',
        );
      });
      server = s;
    } else server = createServer((socket) => this.accept(socket));
    server.maxConnections = o.maxConnections;
    server.on('drop', (data) => {
      t.closed.inc({ transport, reason: 'max_connections' });
      t.warn(
        `${transport}_max_connections`,
        { source_ip: normalizeAddress(data?.remoteAddress ?? ''), limit: o.maxConnections },
        'SYSLOG_TCP_MAX_CONNECTIONS syslog connections are open: a new connection was refused',
      );
    });
    server.on('error', (err) => t.warn(`${transport}_server`, { err: err.message }, 'syslog server error'));
    this.server = server;
    this.boundPort = await listenTcp(server, { port: o.port, host: o.address, variable: o.variable });
  }

  private accept(socket: Socket | TLSSocket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const c = new Connection(this, socket);
    this.conns.add(c);
    this.o.telemetry.connections.set({ transport: this.o.transport }, this.conns.size);
    void c.done.then(() => {
      this.conns.delete(c);
      this.o.telemetry.connections.set({ transport: this.o.transport }, this.conns.size);
    });
  }

  /**
   * Stops accepting and reading; resolves once everything read has been handed to the enqueuer
   * (batches held at a full queue or while Redis is unreachable get `graceMs`, then are logged as lost).
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    if (this.conns.size > 0)
      this.o.telemetry.closed.inc({ transport: this.o.transport, reason: 'shutdown' }, this.conns.size);
    for (const c of this.conns) c.shutdown();
    const all = Promise.all([...this.conns].map((c) => c.done));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'grace'>((resolve) => (timer = setTimeout(() => resolve('grace'), graceMs)));
    const r = await Promise.race([all, grace]);
    if (timer) clearTimeout(timer);
    if (r === 'grace') {
      let lost = 0;
      for (const c of this.conns) lost += c.abandon();
      if (lost > 0)
        this.o.log.error(
          { lost, transport: this.o.transport },
          'the ingest queue stayed full or Redis unreachable until shutdown: syslog messages read from TCP connections are lost',
        );
      await all;
    }
    await closed;
    this.intake.flush();
  }
}

class Connection {
  private readonly l: StreamListener;
  private readonly socket: Socket;
  private readonly framer: Framer;
  private readonly ip: string;
  private host: string;
  private batch: Frame[] = [];
  private batchBytes = 0;
  private inflight?: Frame[];
  /** The in-flight batch's events, once encoded (kept for the retries of a refused push). */
  private encoded?: string[];
  private paused = false;
  private blocked = false;
  private ended = false;
  private closed = false;
  private abandoned = false;
  private resolveDone!: () => void;
  readonly done: Promise<void>;

  constructor(l: StreamListener, socket: Socket) {
    this.l = l;
    this.socket = socket;
    this.ip = normalizeAddress(socket.remoteAddress ?? '');
    this.host = this.ip;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.framer = new Framer({
      maxSize: l.o.maxSize,
      onFrame: (frame, truncated) => {
        l.intake.received(frame.length, truncated);
        this.batch.push({
          buf: frame,
          truncated,
          sourceIp: this.ip,
          fallbackHost: this.host,
          now: Date.now(),
        });
        this.batchBytes += frame.length;
      },
    });
    socket.setNoDelay(true);
    if (l.o.idleTimeoutMs > 0) socket.setTimeout(l.o.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (err) => {
      const t = l.o.telemetry;
      t.closed.inc({ transport: l.o.transport, reason: 'socket_error' });
      t.warn(`${l.o.transport}_socket`, { err: err.message, source_ip: this.ip }, 'syslog connection error');
    });
    socket.on('close', () => {
      this.closed = true;
      this.onEnd();
    });
    const h = l.o.hostnames;
    if (h.enabled) {
      const cached = h.cached(this.ip);
      if (cached !== undefined) this.host = cached;
      else {
        // Frames are encoded with the name: read nothing until it is known (a second at most).
        socket.pause();
        void h.resolve(this.ip).then((name) => {
          this.host = name;
          if (!this.paused && !this.ended) socket.resume();
        });
      }
    }
  }

  private onData(chunk: Buffer): void {
    this.framer.push(chunk);
    this.pump();
  }

  private onTimeout(): void {
    const l = this.l;
    // A connection paused by backpressure is silent because MUTT stopped reading it.
    if (this.paused || this.blocked) {
      this.socket.setTimeout(l.o.idleTimeoutMs);
      return;
    }
    l.o.telemetry.closed.inc({ transport: l.o.transport, reason: 'idle_timeout' });
    l.o.telemetry.warn(
      `${l.o.transport}_idle`,
      { source_ip: this.ip, seconds: l.o.idleTimeoutMs / 1000 },
      'syslog connection idle for SYSLOG_TCP_IDLE_TIMEOUT: closed',
    );
    this.socket.destroy();
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    // An unterminated last line, or an incomplete octet-counted frame (flagged), is still a message.
    this.framer.end();
    this.pump();
    this.finishIfIdle();
  }

  /** The listener stops: read nothing more; what was read is still handed over. */
  shutdown(): void {
    if (!this.ended) {
      this.socket.pause();
      this.ended = true;
      this.framer.end();
      this.pump();
    }
    this.finishIfIdle();
  }

  /** Gives up on what could not be handed over (shutdown grace exceeded); returns how many. */
  abandon(): number {
    const lost = (this.inflight?.length ?? 0) + this.batch.length;
    this.abandoned = true;
    this.inflight = undefined;
    this.encoded = undefined;
    this.batch = [];
    this.finishIfIdle();
    return lost;
  }

  private setPaused(p: boolean): void {
    if (p === this.paused) return;
    this.paused = p;
    const g = this.l.o.telemetry.paused;
    if (p) {
      this.socket.pause();
      g.inc({ transport: this.l.o.transport });
    } else {
      g.dec({ transport: this.l.o.transport });
      if (!this.ended) this.socket.resume();
    }
  }

  private pump(): void {
    if (this.abandoned) return;
    if (this.inflight) {
      if (this.batch.length >= BATCH_EVENTS || this.batchBytes >= BATCH_BYTES) this.setPaused(true);
      return;
    }
    if (this.batch.length === 0) return;
    this.inflight = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    void this.send();
  }

  private async send(): Promise<void> {
    const l = this.l;
    const t = l.o.telemetry;
    const transport = l.o.transport;
    const frames = this.inflight;
    if (!frames || this.abandoned) return;
    this.encoded = await l.o.encoder.encode(l.intake, frames);
    l.intake.flush();
    for (;;) {
      const items = this.encoded;
      if (!items || this.abandoned) return;
      // Behind a closed gate, wait instead of knocking on a full queue.
      if (l.o.gate.closed) {
        this.blocked = true;
        this.setPaused(true);
        const opened = await l.o.gate.wait();
        if (!opened && !(await l.o.gate.probe())) {
          // Stopping: try again until the listener's grace runs out (abandon()).
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
      }
      try {
        const outcome = await l.o.enqueuer.push(items);
        if (!outcome.ok) {
          l.o.gate.close('queue_full');
          t.warn(
            'stream_queue_full',
            { depth: outcome.depth, limit: outcome.limit },
            'ingest queue full (MAX_INGEST_QUEUE_SIZE): syslog TCP/TLS connections are paused until it drains',
          );
          continue;
        }
      } catch (err) {
        if (err instanceof ReplicaAckError) {
          // The master has the batch; wait for the replicas rather than pushing it again.
          t.warn(
            'stream_replicas',
            { err: err.message },
            'Redis replicas do not confirm writes in time (REDIS_MIN_REPLICAS_ACK): syslog TCP/TLS connections are paused until they do',
          );
          this.setPaused(true);
          if (!(await this.awaitReplicas(err.epoch))) continue;
        } else {
          l.o.gate.close('redis');
          t.warn(
            'stream_redis',
            { err: (err as Error).message },
            'Redis is unreachable: syslog TCP/TLS connections are paused and what they sent is kept',
          );
          continue;
        }
      }
      if (this.abandoned) return;
      t.queued.inc({ transport }, items.length);
      this.inflight = undefined;
      this.encoded = undefined;
      this.blocked = false;
      this.setPaused(false);
      this.pump();
      this.finishIfIdle();
      return;
    }
  }

  /**
   * Waits until the replicas confirm a batch the master has: true once they do, false when the
   * connection it was written on was lost (whether it survived is unknown: it is pushed again).
   */
  private async awaitReplicas(epoch: number): Promise<boolean> {
    for (;;) {
      if (this.abandoned) return false;
      const r = await this.l.o.enqueuer.confirmReplicas(epoch);
      if (r === 'confirmed') return true;
      if (r === 'lost') return false;
      // WAIT itself waited; a failing one (not a lost connection) is not retried in a tight loop.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private finishIfIdle(): void {
    if (!this.ended || (!this.abandoned && (this.inflight || this.batch.length > 0))) return;
    if (this.paused) {
      this.paused = false;
      this.l.o.telemetry.paused.dec({ transport: this.l.o.transport });
    }
    if (!this.closed) this.socket.destroy();
    this.resolveDone();
  }
}
