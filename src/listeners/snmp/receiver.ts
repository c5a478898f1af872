// The SNMP trap receiver: UDP sockets, net-snmp's decoder and USM, MUTT's own checks, and the
// hand-off to the shared enqueuer.
//
//   UDP socket(s) ──► readHeader (version, USM header)
//                        │  v3: user known? security level? engine binding? HMAC digest?  (MUTT)
//                        ▼
//                    net-snmp Receiver (community check, decryption, PDU decoding; it answers
//                        │  informs and discovery through a socket shim that MUTT owns)
//                        ▼
//                    v3 timeliness (RFC 3414 §3.2 step 7) ── buildEvent ── enqueuer.push
//                                                                           │
//                     inform answer sent only now, after Redis acknowledged ◄┘
//
// net-snmp answers an InformRequest inside its message handler, before handing the notification to
// its callback. The receiver gives net-snmp a dgram-compatible shim (the documented `dgramModule`
// option) whose send() is captured while a datagram is processed, so MUTT decides when — and whether —
// the answer leaves: after Redis acknowledged the event, never before. An inform that cannot be
// queued (queue full, Redis down, shutting down) is not answered, so its sender retransmits it.
// Traps have no answer: at the queue cap they are shed and counted; while Redis is unreachable they
// wait in a bounded in-memory buffer (SNMP_PENDING_MAX_EVENTS) and are retried.
import type { RemoteInfo, Socket } from 'node:dgram';
import snmp, { type DgramLikeSocket, type Notification, type Receiver } from 'net-snmp';
import { type Enqueuer, type EnqueueOutcome, ReplicaAckError } from '../enqueue.ts';
import { HeldEvents } from '../held-events.ts';
import { bindUdp, normalizeAddress } from '../../runtime/listen.ts';
import type { Logger } from '../../runtime/logging.ts';
import {
  BerError,
  FLAG_AUTH,
  FLAG_PRIV,
  FLAG_REPORTABLE,
  type Header,
  int,
  readHeader,
  seq,
  TAG,
  tlv,
  type V3Header,
  v3Message,
  varbind,
} from './ber.ts';
import { checkAuthoritative, EngineTimes, type EngineIdentity } from './engine.ts';
import { HostNames } from '../reverse-dns.ts';
import { LruMap } from './lru.ts';
import type { AuthFailure, DecodeError, SnmpTelemetry } from './metrics.ts';
import type { MibStore } from './mib/store.ts';
import { buildEvent, type SnmpVersion } from './notification.ts';
import type { UsmUserSpec } from './usm.ts';
import { installUsmKeyCache } from './usm-keys.ts';
import type { FormatStats } from './varbinds.ts';

export interface ReceiverOptions {
  port: number;
  /** Bind address; undefined: dual-stack on every interface (IPv4-only when the host has no IPv6). */
  address?: string;
  communities: readonly string[];
  users: readonly UsmUserSpec[];
  identity: EngineIdentity;
  severity: number;
  mib?: MibStore;
  enqueuer: Enqueuer;
  telemetry: SnmpTelemetry;
  log: Logger;
  reverseDns: boolean;
  recvBufferBytes: number;
  pendingMax: number;
  /** Bounds of the per-peer caches (tests make them small). */
  limits?: { localizedKeys?: number; engineTimes?: number; informs?: number; reverseDns?: number };
  now?: () => Date;
  /** Monotonic milliseconds for USM timeliness (tests move it). */
  clock?: () => number;
}

interface Capture {
  responses: Buffer[];
  notification?: Notification;
  error?: Error & { code?: number };
}

const LEVEL = { noAuthNoPriv: 1, authNoPriv: 2, authPriv: 3 } as const;
const INFORM_DEDUP_MS = 60_000;
const VERSION_LABEL: Record<number, SnmpVersion> = { 0: 'v1', 1: 'v2c', 3: 'v3' };
const USM_STATS_NOT_IN_TIME_WINDOWS = '1.3.6.1.6.3.15.1.1.2.0';
/** Notifications with more variable bindings are refused (a datagram holds at most ~4,000). */
export const MAX_VARBINDS = 1024;

export class TrapReceiver {
  private readonly o: ReceiverOptions;
  private readonly sockets: Socket[] = [];
  private receiver?: Receiver;
  private handler?: (buf: Buffer, rinfo: RemoteInfo) => void;
  private capture?: Capture;
  private readonly users = new Map<string, UsmUserSpec>();
  private readonly engineTimes: EngineTimes;
  private readonly informs: LruMap<string, { at: number; done: Promise<boolean> }>;
  private readonly names: HostNames;
  private readonly keyCache: { size: () => number };
  private readonly startedAt = performance.now();
  private handoffs = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly held: HeldEvents;
  private closing = false;
  private notInTimeWindows = 0;
  private socketsClosed = false;
  private readonly stats: FormatStats = { translated: 0, numeric: 0 };
  boundPort = 0;
  boundAddresses: string[] = [];

  constructor(o: ReceiverOptions) {
    this.o = o;
    for (const u of o.users) this.users.set(u.name, u);
    this.engineTimes = new EngineTimes(o.limits?.engineTimes ?? 10_000, o.clock);
    this.informs = new LruMap(o.limits?.informs ?? 10_000);
    this.names = new HostNames(o.reverseDns, o.limits?.reverseDns ?? 10_000);
    this.keyCache = installUsmKeyCache(o.limits?.localizedKeys);
    const t = o.telemetry;
    this.held = new HeldEvents({
      enqueuer: o.enqueuer,
      max: o.pendingMax,
      track: (p) => this.track(p),
      settled: (outcome, n) => this.settled(outcome, false, n),
      holding: () =>
        t.warn('redis', {}, 'Redis is unreachable: SNMP trap events are held in memory and retried'),
      shed: (n, held) => {
        t.dropped.inc({ reason: 'buffer_full' }, n);
        t.warn(
          'buffer_full',
          { held },
          'Redis unreachable and SNMP_PENDING_MAX_EVENTS trap events held: new traps are shed',
        );
      },
      recovered: () => o.log.info('Redis answers again: SNMP trap events held in memory are queued'),
      depth: (n) => t.pending.set(n),
      lost: (n) => {
        t.dropped.inc({ reason: 'shutdown' }, n);
        o.log.error(
          { lost: n },
          'Redis was unreachable until shutdown: SNMP trap events held in memory are lost',
        );
      },
    });
  }

  /** Sizes of the bounded caches (for metrics and tests). */
  cacheSizes(): Record<string, number> {
    return {
      localized_keys: this.keyCache.size(),
      engine_times: this.engineTimes.size,
      informs: this.informs.size,
      reverse_dns: this.names.size,
    };
  }

  /** The socket traps are read from (answers leave through it). */
  get socket(): Socket | undefined {
    return this.sockets[0];
  }

  get pendingEvents(): number {
    return this.held.size;
  }

  async start(): Promise<void> {
    await this.bind();
    const shim = this.shim();
    this.receiver = snmp.createReceiver(
      {
        port: this.boundPort,
        engineID: this.o.identity.engineId,
        dgramModule: { createSocket: () => shim },
      },
      (error, notification) => {
        const c = this.capture;
        if (!c) return; // socket errors: the real sockets report them
        if (error) c.error ??= error;
        else if (notification) c.notification = notification;
      },
    );
    const engine = this.receiver.engine;
    engine.engineBoots = this.o.identity.boots;
    // snmpEngineTime: seconds since this start (net-snmp keeps a constant).
    Object.defineProperty(engine, 'engineTime', { get: () => this.engineTime(), configurable: true });
    const authorizer = this.receiver.getAuthorizer();
    for (const c of this.o.communities) authorizer.addCommunity(c);
    for (const u of this.o.users) {
      authorizer.addUser({
        name: u.name,
        level: LEVEL[u.level],
        authProtocol: u.authProtocol ? snmp.AuthProtocols[u.authProtocol] : undefined,
        authKey: u.authKey,
        privProtocol: u.privProtocol ? snmp.PrivProtocols[u.privProtocol] : undefined,
        privKey: u.privKey,
      });
    }
  }

  private engineTime(): number {
    return Math.floor((performance.now() - this.startedAt) / 1000);
  }

  private async bind(): Promise<void> {
    const socket = await bindUdp({
      port: this.o.port,
      address: this.o.address,
      recvBufferBytes: this.o.recvBufferBytes,
      variable: 'SNMP_TRAP_PORT',
    });
    socket.on('message', (buf, rinfo) => this.onDatagram(socket, buf, rinfo));
    socket.on('error', (err) => this.o.telemetry.warn('socket', { err: err.message }, 'SNMP socket error'));
    this.sockets.push(socket);
    const a = socket.address();
    this.boundPort = a.port;
    this.boundAddresses = [`${a.address}:${a.port}`];
  }

  /** Kernel receive buffer actually granted (bytes). */
  recvBufferSize(): number {
    try {
      return this.sockets[0]?.getRecvBufferSize() ?? 0;
    } catch {
      return 0;
    }
  }

  /** The dgram-compatible object net-snmp's Listener drives; the real sockets stay MUTT's. */
  private shim(): DgramLikeSocket {
    return {
      on: (event: string, fn: (...args: never[]) => void) => {
        if (event === 'message')
          this.handler = (buf, rinfo) => (fn as unknown as (b: Buffer, r: RemoteInfo) => void)(buf, rinfo);
        return undefined;
      },
      bind: () => undefined,
      send: (buf: Buffer, offset: number, length: number) => {
        // Called synchronously while net-snmp processes a datagram: hold the answer.
        this.capture?.responses.push(Buffer.from(buf.subarray(offset, offset + length)));
      },
      close: (cb?: () => void) => cb?.(),
      address: () => this.sockets[0]?.address(),
    };
  }

  private send(socket: Socket, rinfo: RemoteInfo, responses: readonly Buffer[]): void {
    if (this.socketsClosed) return;
    const failed = (err: Error) =>
      this.o.telemetry.warn(
        'send',
        { err: err.message, source_ip: normalizeAddress(rinfo.address) },
        'sending an SNMP answer failed',
      );
    for (const r of responses) {
      try {
        socket.send(r, rinfo.port, rinfo.address, (err) => err && failed(err));
      } catch (err) {
        failed(err as Error);
      }
    }
  }

  private fail(
    kind: 'auth' | 'decode',
    reason: AuthFailure | DecodeError,
    rinfo: RemoteInfo,
    extra: Record<string, unknown> = {},
  ): void {
    this.o.telemetry.fail(kind, reason, { source_ip: normalizeAddress(rinfo.address), ...extra });
  }

  /** Handles one datagram as read from `socket` (public so tests can feed datagrams larger than UDP allows). */
  onDatagram(socket: Socket, buf: Buffer, rinfo: RemoteInfo): void {
    const t = this.o.telemetry;
    t.packets.inc();
    if (this.closing) {
      // Stopping: the socket stays open only to answer informs already queued.
      t.dropped.inc({ reason: 'shutdown' });
      return;
    }
    let header: Header;
    try {
      header = readHeader(buf);
    } catch (err) {
      const unsupported = err instanceof BerError && err.message.startsWith('unknown SNMP version');
      this.fail('decode', unsupported ? 'unsupported_version' : 'malformed', rinfo);
      return;
    }
    let user: UsmUserSpec | undefined;
    let counted = false;
    if (header.version === 3) {
      const verdict = this.checkUsm(header.v3, buf);
      // 'discovery' (empty user, noAuthNoPriv) goes on to net-snmp, which answers with a Report
      // carrying our engine ID, boots and time.
      if (verdict !== 'ok' && verdict !== 'discovery') {
        const reportable = verdict === 'unknown_user' && (header.v3.flags & FLAG_REPORTABLE) !== 0;
        this.fail('auth', verdict, rinfo, { user: header.v3.userName.slice(0, 64) });
        if (!reportable) return;
        counted = true;
        t.reports.inc({ kind: 'unknown_user' });
      }
      user = this.users.get(header.v3.userName);
    }

    const c: Capture = { responses: [] };
    this.capture = c;
    try {
      this.handler!(buf, rinfo);
    } catch {
      c.error ??= Object.assign(new Error('decoder failure'), { code: -1 });
    } finally {
      this.capture = undefined;
    }

    if (c.error) {
      if (!counted) this.classifyError(c.error, header, rinfo);
      this.send(socket, rinfo, c.responses); // reports only
      return;
    }
    if (!c.notification) {
      // Discovery (or an unknown user's reportable message, already counted): net-snmp's Report.
      if (!counted) t.reports.inc({ kind: 'discovery' });
      this.send(socket, rinfo, c.responses);
      return;
    }
    const pdu = c.notification.pdu;
    const version = VERSION_LABEL[header.version]!;
    const inform = pdu.type === snmp.PduType.InformRequest;
    if (header.version === 3) {
      const v3 = header.v3;
      if (!user) {
        // net-snmp admits user-less noAuthNoPriv messages; MUTT only admits configured users.
        this.fail('auth', 'unknown_user', rinfo, { user: v3.userName.slice(0, 64) });
        return;
      }
      if (v3.flags & FLAG_AUTH) {
        const ours = v3.engineId.equals(this.o.identity.engineId);
        const verdict = ours
          ? checkAuthoritative(
              { boots: this.o.identity.boots, time: this.engineTime() },
              { boots: v3.engineBoots, time: v3.engineTime },
            )
          : this.engineTimes.check(v3.engineId, v3.engineBoots, v3.engineTime);
        if (verdict !== 'ok') {
          this.fail('auth', verdict, rinfo, {
            user: user.name,
            engine_id: v3.engineId.toString('hex'),
            inform,
          });
          // The sender learns our boots and time from the report and retransmits (RFC 3414 §4).
          if (ours && (v3.flags & FLAG_REPORTABLE) !== 0) {
            this.send(socket, rinfo, [this.notInTimeWindowReport(v3, user, pdu.id)]);
            t.reports.inc({ kind: 'not_in_time_window' });
          }
          return;
        }
      }
    }
    if (pdu.varbinds.length > MAX_VARBINDS) {
      this.fail('decode', 'too_many_varbinds', rinfo, { version, varbinds: pdu.varbinds.length });
      return;
    }
    const sourceIp = normalizeAddress(rinfo.address);
    const built = buildEvent({
      version,
      pdu: pdu,
      sourceIp,
      receivedAt: this.o.now?.() ?? new Date(),
      inform,
      engineId: header.version === 3 ? header.v3.engineId : undefined,
      severity: this.o.severity,
      mib: this.o.mib,
      stats: this.stats,
    });
    this.flushStats();
    if ('error' in built) {
      this.fail('decode', 'no_trap_oid', rinfo, { version });
      return;
    }
    t.received.inc({ version, pdu: inform ? 'inform' : 'trap' });
    const dedupKey = inform
      ? `${rinfo.address}|${rinfo.port}|${version}|${pdu.id}|${built.trapOid}`
      : undefined;
    if (dedupKey) {
      const seen = this.informs.get(dedupKey);
      if (seen && performance.now() - seen.at < INFORM_DEDUP_MS) {
        t.informsDuplicate.inc();
        this.track(seen.done.then((ok) => ok && this.answer(socket, rinfo, c.responses)));
        return;
      }
    }
    const done = this.enqueue(built.event, built.needsReverseDns ? sourceIp : undefined, inform);
    if (dedupKey) {
      this.informs.set(dedupKey, { at: performance.now(), done });
      // Not queued: the retransmission must try again rather than wait on this attempt.
      void done.then((ok) => ok || this.informs.delete(dedupKey));
    }
    if (inform) this.track(done.then((ok) => ok && this.answer(socket, rinfo, c.responses)));
    else this.track(done);
  }

  private answer(socket: Socket, rinfo: RemoteInfo, responses: readonly Buffer[]): void {
    this.send(socket, rinfo, responses);
    this.o.telemetry.informsAnswered.inc();
  }

  private flushStats(): void {
    if (this.stats.translated > 0) this.o.telemetry.oids.inc({ result: 'translated' }, this.stats.translated);
    if (this.stats.numeric > 0) this.o.telemetry.oids.inc({ result: 'numeric' }, this.stats.numeric);
    this.stats.translated = 0;
    this.stats.numeric = 0;
  }

  /** Counts a hand-off in progress (event on its way to Redis, inform answer pending) until it settles. */
  private track(p: Promise<unknown>): void {
    this.handoffs++;
    const settled = () => {
      if (--this.handoffs === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    p.then(settled, (err: unknown) => {
      this.o.log.error({ err: (err as Error).message }, 'SNMP event hand-off failed');
      settled();
    });
  }

  private idle(): Promise<void> {
    return this.handoffs === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** RFC 3414 §3.2 step 7a: an authenticated (authNoPriv) Report carrying usmStatsNotInTimeWindows.0. */
  private notInTimeWindowReport(v3: V3Header, user: UsmUserSpec, requestId: number): Buffer {
    const proto = snmp.AuthProtocols[user.authProtocol!]!;
    const authLength = snmp.Authentication.algorithms[proto]!.AUTHENTICATION_CODE_LENGTH;
    const engineId = this.o.identity.engineId;
    const pdu = tlv(TAG.Report, [
      int(requestId),
      int(0),
      int(0),
      seq(varbind(USM_STATS_NOT_IN_TIME_WINDOWS, int(++this.notInTimeWindows, TAG.Counter32))),
    ]);
    const msg = v3Message({
      msgId: v3.msgId,
      flags: FLAG_AUTH,
      engineId,
      boots: this.o.identity.boots,
      time: this.engineTime(),
      userName: user.name,
      authLength,
      contextEngineId: engineId,
      pdu,
    });
    const h = readHeader(msg);
    if (h.version === 3)
      snmp.Authentication.writeParameters(
        msg,
        proto,
        user.authKey!,
        engineId,
        msg.subarray(h.v3.authParams.start, h.v3.authParams.end),
      );
    return msg;
  }

  /** USM checks MUTT makes before net-snmp touches the message (see the module header). */
  private checkUsm(v3: V3Header, buf: Buffer): 'ok' | 'discovery' | AuthFailure {
    if (v3.securityModel !== 3) return 'unsupported_security_level';
    const user = this.users.get(v3.userName);
    if (!user) return v3.userName === '' && (v3.flags & FLAG_AUTH) === 0 ? 'discovery' : 'unknown_user';
    const wantAuth = user.level !== 'noAuthNoPriv';
    const wantPriv = user.level === 'authPriv';
    // Discovery probes carry an empty user name (RFC 3414 §4), so a configured user must use its level.
    if (wantAuth !== ((v3.flags & FLAG_AUTH) !== 0) || wantPriv !== ((v3.flags & FLAG_PRIV) !== 0))
      return 'unsupported_security_level';
    const ours = v3.engineId.equals(this.o.identity.engineId);
    if (!ours && user.engineIds.length > 0 && !user.engineIds.includes(v3.engineId.toString('hex')))
      return 'unknown_engine_id';
    if (wantAuth) {
      const digest = buf.subarray(v3.authParams.start, v3.authParams.end);
      if (v3.engineId.length === 0) return 'unknown_engine_id';
      const proto = snmp.AuthProtocols[user.authProtocol!]!;
      if (!snmp.Authentication.isAuthentic(buf, proto, user.authKey!, v3.engineId, digest))
        return 'wrong_digest';
    }
    return 'ok';
  }

  private classifyError(err: Error & { code?: number }, header: Header, rinfo: RemoteInfo): void {
    // net-snmp's messages can contain the community or user record: never log them.
    const msg = err.message ?? '';
    if (msg.startsWith('Local community not found'))
      this.fail('auth', 'bad_community', rinfo, { version: VERSION_LABEL[header.version] });
    else if (msg.startsWith('Local user not found')) this.fail('auth', 'unknown_user', rinfo);
    else if (err.code === snmp.ResponseInvalidCode.ECouldNotDecrypt)
      this.fail('auth', 'decryption_error', rinfo);
    else if (err.code === snmp.ResponseInvalidCode.EAuthFailure) this.fail('auth', 'wrong_digest', rinfo);
    else if (msg.includes('requires privacy') || msg.includes('requires authentication'))
      this.fail('auth', 'unsupported_security_level', rinfo);
    else if (err instanceof snmp.RequestInvalidError) this.fail('decode', 'unsupported_pdu', rinfo);
    else this.fail('decode', 'malformed', rinfo);
  }

  /** Resolves true once Redis acknowledged the event, false when it was shed or buffered. */
  private async enqueue(
    event: Record<string, unknown>,
    reverseOf: string | undefined,
    inform: boolean,
  ): Promise<boolean> {
    if (reverseOf && this.o.reverseDns) event.hostname = await this.names.resolve(reverseOf);
    const item = JSON.stringify(event);
    if (!inform && this.held.size > 0) {
      // Held events go first, so traps reach Redis in the order they were received.
      this.held.hold([item]);
      return false;
    }
    let outcome: EnqueueOutcome;
    try {
      // A trap acknowledges nothing; an inform is answered only once its event is safe.
      outcome = await this.o.enqueuer.push([item], { bestEffort: !inform });
    } catch (err) {
      if (inform) {
        const replicas = err instanceof ReplicaAckError;
        this.o.telemetry.informsUnanswered.inc({
          reason: replicas ? 'replica_timeout' : 'redis_unavailable',
        });
        this.o.telemetry.warn(
          replicas ? 'replicas' : 'redis',
          { err: (err as Error).message },
          replicas
            ? 'Redis replicas do not confirm writes in time (REDIS_MIN_REPLICAS_ACK): SNMP informs are not answered, so their senders retransmit'
            : 'Redis is unreachable: SNMP informs are not answered, so their senders retransmit',
        );
        return false;
      }
      this.held.hold([item]);
      return false;
    }
    return this.settled(outcome, inform, 1);
  }

  private settled(outcome: EnqueueOutcome, inform: boolean, n: number): boolean {
    const t = this.o.telemetry;
    if (outcome.ok) {
      t.queued.inc(n);
      return true;
    }
    if (inform) t.informsUnanswered.inc({ reason: 'queue_full' });
    else t.dropped.inc({ reason: 'queue_full' }, n);
    t.warn(
      'queue_full',
      { depth: outcome.depth, limit: outcome.limit },
      'ingest queue full (MAX_INGEST_QUEUE_SIZE): SNMP traps are shed and informs left unanswered',
    );
    return false;
  }

  /**
   * Stops reading, then waits until every event read has been handed to the enqueuer; trap events
   * held while Redis is unreachable get `graceMs` more, then are counted as lost.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.held.close();
    const deadline = Date.now() + graceMs;
    while ((this.handoffs > 0 || this.held.size > 0) && Date.now() < deadline) {
      this.held.retryNow();
      await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 100))]);
    }
    this.socketsClosed = true;
    await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.receiver?.close();
    this.held.abandon();
  }
}
