// Syslog over UDP (SYSLOG_UDP_PORT): one dual-stack socket with a large kernel receive buffer.
// Datagrams read within 2 ms (at most 1,000 of them) become one batch: parsed on the parser thread
// (encoder.ts), then handed to the shared enqueuer (one Lua call for all of them). UDP has no way to slow a sender down: at the ingest-queue cap a batch is shed and
// counted; while Redis is unreachable events wait in a bounded buffer and are retried.
import type { RemoteInfo, Socket } from 'node:dgram';
import type { Enqueuer, EnqueueOutcome } from '../enqueue.ts';
import { HeldEvents } from '../held-events.ts';
import { bindUdp, normalizeAddress } from '../../runtime/listen.ts';
import type { Logger } from '../../runtime/logging.ts';
import type { HostNames } from '../reverse-dns.ts';
import type { Encoder, Item } from './encoder.ts';
import { Intake } from './intake.ts';
import type { SyslogTelemetry } from './metrics.ts';

export interface UdpOptions {
  port: number;
  /** Bind address; undefined: dual-stack on every interface (IPv4-only when the host has no IPv6). */
  address?: string;
  recvBufferBytes: number;
  maxSize: number;
  tz: string;
  enqueuer: Enqueuer;
  /** Frames → event JSON (on the parser thread when there is one). */
  encoder: Encoder;
  telemetry: SyslogTelemetry;
  log: Logger;
  hostnames: HostNames;
  pendingMax: number;
}

/** A batch leaves after FLUSH_MS or at FLUSH_AT events, whichever comes first. */
const FLUSH_MS = 2;
const FLUSH_AT = 1000;

export class UdpListener {
  private readonly o: UdpOptions;
  private socket?: Socket;
  private readonly intake: Intake;
  private batch: Item[] = [];
  private scheduled = false;
  private timer?: NodeJS.Timeout;
  private handoffs = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly held: HeldEvents;
  private closing = false;
  boundPort = 0;
  boundAddress = '';

  constructor(o: UdpOptions) {
    this.o = o;
    this.intake = new Intake('udp', o.tz, o.telemetry);
    const t = o.telemetry;
    this.held = new HeldEvents({
      enqueuer: o.enqueuer,
      max: o.pendingMax,
      track: (p) => this.track(p),
      settled: (outcome, n) => this.settled(outcome, n),
      holding: () =>
        t.warn('udp_redis', {}, 'Redis is unreachable: UDP syslog events are held in memory and retried'),
      shed: (n, held) => {
        t.shed.inc({ transport: 'udp', reason: 'buffer_full' }, n);
        t.warn(
          'udp_buffer_full',
          { held },
          'Redis unreachable and SYSLOG_PENDING_MAX_EVENTS UDP syslog events held: new messages are shed',
        );
      },
      recovered: () => o.log.info('Redis answers again: UDP syslog events held in memory are queued'),
      depth: (n) => t.pending.set(n),
      lost: (n) => {
        t.shed.inc({ transport: 'udp', reason: 'shutdown' }, n);
        o.log.error(
          { lost: n },
          'Redis was unreachable until shutdown: UDP syslog events held in memory are lost',
        );
      },
    });
  }

  get pendingEvents(): number {
    return this.held.size;
  }

  async start(): Promise<void> {
    const socket = await bindUdp({
      port: this.o.port,
      address: this.o.address,
      recvBufferBytes: this.o.recvBufferBytes,
      variable: 'SYSLOG_UDP_PORT',
    });
    socket.on('message', (buf, rinfo) => this.onDatagram(buf, rinfo));
    socket.on('error', (err) =>
      this.o.telemetry.warn('udp_socket', { err: err.message }, 'syslog UDP socket error'),
    );
    this.socket = socket;
    const a = socket.address();
    this.boundPort = a.port;
    this.boundAddress = `${a.address}:${a.port}`;
  }

  /** Kernel receive buffer granted (bytes, as the kernel reports it). */
  recvBufferSize(): number {
    try {
      return this.socket?.getRecvBufferSize() ?? 0;
    } catch {
      return 0;
    }
  }

  /** Handles one datagram (public so tests can feed datagrams larger than UDP allows). */
  onDatagram(buf: Buffer, rinfo: Pick<RemoteInfo, 'address'>): void {
    // An empty datagram carries nothing to queue.
    if (this.closing || buf.length === 0) return;
    const now = Date.now();
    const truncated = buf.length > this.o.maxSize;
    if (truncated) buf = buf.subarray(0, this.o.maxSize);
    const ip = normalizeAddress(rinfo.address);
    const h = this.o.hostnames;
    let host = ip;
    if (h.enabled) {
      const name = h.cached(ip);
      if (name === undefined) {
        // Parsed now (its reception time), queued once the name is known.
        const e = this.intake.event(buf, truncated, ip, ip, now);
        const named = e.hostname === ip;
        this.track(
          (named ? h.resolve(ip) : Promise.resolve(ip)).then((n) => {
            if (named) e.hostname = n;
            this.add(JSON.stringify(e));
          }),
        );
        return;
      }
      host = name;
    }
    this.intake.received(buf.length, truncated);
    this.add({ buf, truncated, sourceIp: ip, fallbackHost: host, now });
  }

  private add(item: Item): void {
    this.batch.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      this.handoffs++;
      // A few milliseconds of datagrams make one batch: at a trickle, one Lua call per datagram
      // would cost Redis and MUTT far more than the messages themselves.
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
    } else if (this.batch.length >= FLUSH_AT) {
      clearTimeout(this.timer);
      this.flush();
    }
  }

  private flush(): void {
    this.scheduled = false;
    this.timer = undefined;
    const batch = this.batch;
    this.batch = [];
    void this.o.encoder.encode(this.intake, batch).then((items) => {
      this.intake.flush();
      if (this.held.size > 0) {
        // Held events go first, so events reach Redis in the order they were received.
        this.held.hold(items);
        this.settle();
        return;
      }
      // UDP acknowledges nothing: events the replicas did not confirm in time still count as queued.
      this.o.enqueuer.push(items, { bestEffort: true }).then(
        (outcome) => {
          this.settled(outcome, items.length);
          this.settle();
        },
        () => {
          this.held.hold(items);
          this.settle();
        },
      );
    });
  }

  private settled(outcome: EnqueueOutcome, n: number): void {
    const t = this.o.telemetry;
    if (outcome.ok) {
      t.queued.inc({ transport: 'udp' }, n);
      return;
    }
    t.shed.inc({ transport: 'udp', reason: 'queue_full' }, n);
    t.warn(
      'udp_queue_full',
      { depth: outcome.depth, limit: outcome.limit },
      'ingest queue full (MAX_INGEST_QUEUE_SIZE): UDP syslog messages are shed',
    );
  }

  private track(p: Promise<unknown>): void {
    this.handoffs++;
    p.then(
      () => this.settle(),
      (err: unknown) => {
        this.o.log.error({ err: (err as Error).message }, 'syslog UDP hand-off failed');
        this.settle();
      },
    );
  }

  private settle(): void {
    if (--this.handoffs === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private idle(): Promise<void> {
    return this.handoffs === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops reading, then waits until every datagram read has been handed to the enqueuer; events held
   * while Redis is unreachable get `graceMs` more, then are counted as shed.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
    this.held.close();
    const deadline = Date.now() + graceMs;
    while ((this.handoffs > 0 || this.held.size > 0) && Date.now() < deadline) {
      this.held.retryNow();
      await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 100))]);
    }
    this.intake.flush();
    this.held.abandon();
  }
}
