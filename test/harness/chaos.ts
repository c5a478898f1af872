// The chaos suite's harness: a real `mutt serve` with default settings (only ports, the key prefix and
// the Moogsoft URL set), real Redis and PostgreSQL (the harness's, or private ones a scenario can
// kill), the mock Moogsoft, and clients that load it as operators' devices do — HTTP events paced at a
// rate and retried on 503 as rsyslog's omhttp does, syslog over TCP (with the sender's backpressure)
// and over UDP. Every event carries an id (`eid=…` in its message) and the run counts, by id, what
// was acknowledged, audited (PostgreSQL), delivered (Moogsoft), duplicated and dead-lettered, and how
// long delivery took to resume after the fault.
//
// MUTT_CHAOS=long (`npm run chaos`) runs the long versions of the scenarios, with the durations of
// docs/RELIABILITY.md; otherwise each scenario runs its short CI version, with the same criteria.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { Keys } from '../../src/core/protocol/keys.ts';
import { loadConfigOrThrow } from '../../src/runtime/config/load.ts';
import { migrate } from '../../src/runtime/migrate.ts';
import { waitForRedisPing } from '../../src/runtime/services/redis-server.ts';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import type { MockMoogsoft } from './mock-moogsoft.ts';
import { type MuttProcess, startMutt } from './mutt-process.ts';
import { freePort, freeUdpPort } from './ports.ts';
import { quietLog, type TestServices } from './services.ts';

export const LONG = process.env.MUTT_CHAOS === 'long';
/** A phase's length in milliseconds: the CI version, or the long one (`npm run chaos`). */
export const phase = (ciSeconds: number, longSeconds: number): number =>
  (LONG ? longSeconds : ciSeconds) * 1000;

const sleep = (ms: number) => abortableSleep(ms);
const EID = /eid=(\S+)/;
const eidOf = (text: unknown): string | undefined =>
  typeof text === 'string' ? EID.exec(text)?.[1] : undefined;

// ── The ledger: what the clients were told ──────────────────────────────────────────────────────────

export class Ledger {
  /** id → when the client got its acknowledgment (HTTP 2xx; UDP: sent; TCP: see TcpSyslogLoad). */
  readonly acked = new Map<string, number>();
  /** TCP events written in the last second before their connection broke: TCP acknowledges nothing. */
  readonly unconfirmed = new Set<string>();
  http503 = 0;
  first503?: number;
  last503?: number;
  httpErrors = 0;
  firstError?: number;
  lastError?: number;
  tcpStallMs = 0;
}

const message = (n: number, id: string) =>
  `%LINK-3-UPDOWN: Interface GigabitEthernet0/${n % 48}, changed state to down eid=${id}`;

/** Generates `rate` events per second, calling `emit` for each (in order) until stopped. */
class Pacer {
  private timer?: NodeJS.Timeout;
  private made = 0;
  private t0 = 0;
  private readonly rate: number;
  private readonly emit: (n: number) => void;
  constructor(rate: number, emit: (n: number) => void) {
    this.rate = rate;
    this.emit = emit;
  }
  start(): void {
    this.t0 = Date.now();
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - this.t0) * this.rate) / 1000);
      while (this.made < due) this.emit(this.made++);
    }, 10);
  }
  stop(): number {
    clearInterval(this.timer);
    return this.made;
  }
}

/** One HTTP POST per event, retried until acknowledged: after Retry-After on a 503, 0.5 s after an error. */
export class HttpLoad {
  private readonly pacer: Pacer;
  private readonly pending = new Set<Promise<void>>();
  private abandoned = false;
  private readonly o: { port: () => number; key: string; rate: number; tag: string; ledger: Ledger };
  constructor(o: { port: () => number; key: string; rate: number; tag: string; ledger: Ledger }) {
    this.o = o;
    this.pacer = new Pacer(o.rate, (n) => {
      const p = this.send(n, `${o.tag}h${n}`).finally(() => this.pending.delete(p));
      this.pending.add(p);
    });
  }
  start(): this {
    this.pacer.start();
    return this;
  }
  private async send(n: number, id: string): Promise<void> {
    const body = JSON.stringify({
      hostname: `chaos-http-${n % 20}`,
      message: message(n, id),
      timestamp: new Date().toISOString(),
      syslog_severity: 3,
    });
    const l = this.o.ledger;
    while (!this.abandoned) {
      try {
        const r = await fetch(`http://127.0.0.1:${this.o.port()}/ingest`, {
          method: 'POST',
          headers: { 'X-API-KEY': this.o.key, 'Content-Type': 'application/json' },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        await r.arrayBuffer();
        if (r.status === 200) {
          l.acked.set(id, Date.now());
          return;
        }
        if (r.status === 503) {
          l.http503++;
          l.first503 ??= Date.now();
          l.last503 = Date.now();
          await sleep(Number(r.headers.get('retry-after') ?? '1') * 1000);
          continue;
        }
        throw new Error(`HTTP ${r.status}`);
      } catch {
        l.httpErrors++;
        l.firstError ??= Date.now();
        l.lastError = Date.now();
        await sleep(500);
      }
    }
  }
  /** Stops making events and waits (up to `ms`) for those in flight to be acknowledged. */
  async stop(ms = 120_000): Promise<number> {
    const made = this.pacer.stop();
    const end = Date.now() + ms;
    while (this.pending.size > 0 && Date.now() < end) await sleep(50);
    this.abandoned = true;
    return made;
  }
}

interface LoadOptions {
  port: () => number;
  rate: number;
  tag: string;
  ledger: Ledger;
}

const syslogFrame = (n: number, id: string, host: string) =>
  `<187>1 ${new Date().toISOString()} ${host}-${n % 10} chaos - - - ${message(n, id)}`;

/**
 * Syslog over one TCP connection (LF framing), as a device sends it: in order, waiting while the
 * socket's buffer is full (MUTT pauses reading under backpressure), reconnecting every 0.5 s when the
 * connection breaks and carrying on from the first event not yet written. TCP gives the sender no
 * acknowledgment, so an event counts as acknowledged once its connection stayed up a second after
 * it was written (MUTT had that second to read it) or was closed cleanly; events written in the last
 * second before a connection broke are `unconfirmed`.
 */
export class TcpSyslogLoad {
  private readonly pacer: Pacer;
  private readonly backlog: [number, string][] = [];
  private written: { id: string; at: number }[] = [];
  private socket?: Socket;
  private connected = false;
  private blockedSince?: number;
  private stopped = false;
  private promote?: NodeJS.Timeout;
  private readonly o: LoadOptions;
  constructor(o: LoadOptions) {
    this.o = o;
    this.pacer = new Pacer(o.rate, (n) => {
      this.backlog.push([n, `${o.tag}t${n}`]);
      this.pump();
    });
  }
  start(): this {
    this.connect();
    this.pacer.start();
    this.promote = setInterval(() => {
      const cut = Date.now() - 1000;
      while (this.connected && this.written.length > 0 && this.written[0]!.at <= cut) {
        const w = this.written.shift()!;
        this.o.ledger.acked.set(w.id, w.at);
      }
    }, 100);
    return this;
  }
  private connect(): void {
    if (this.stopped) return;
    const s = connect({ port: this.o.port(), host: '127.0.0.1' });
    this.socket = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      this.connected = true;
      this.pump();
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (this.socket !== s || this.stopped) return;
      const wasConnected = this.connected;
      this.connected = false;
      this.socket = undefined;
      if (this.blockedSince !== undefined) {
        this.o.ledger.tcpStallMs += Date.now() - this.blockedSince;
        this.blockedSince = undefined;
      }
      if (wasConnected) {
        for (const w of this.written) this.o.ledger.unconfirmed.add(w.id);
        this.written = [];
      }
      setTimeout(() => this.connect(), 500);
    });
  }
  private pump(): void {
    const s = this.socket;
    while (s && this.connected && this.blockedSince === undefined && this.backlog.length > 0) {
      const [n, id] = this.backlog.shift()!;
      const ok = s.write(`${syslogFrame(n, id, 'chaos-tcp')}\n`);
      this.written.push({ id, at: Date.now() });
      if (!ok) {
        this.blockedSince = Date.now();
        s.once('drain', () => {
          if (this.blockedSince !== undefined) this.o.ledger.tcpStallMs += Date.now() - this.blockedSince;
          this.blockedSince = undefined;
          this.pump();
        });
      }
    }
  }
  /** Stops making events, sends the backlog, closes the connection cleanly. */
  async stop(ms = 120_000): Promise<number> {
    const made = this.pacer.stop();
    const end = Date.now() + ms;
    while ((this.backlog.length > 0 || !this.connected) && Date.now() < end) await sleep(50);
    this.stopped = true;
    clearInterval(this.promote);
    const s = this.socket;
    if (s && this.connected && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
      });
      for (const w of this.written) this.o.ledger.acked.set(w.id, w.at);
      this.written = [];
    }
    this.connected = false;
    this.socket = undefined;
    return made;
  }
}

/** Syslog over UDP, one datagram per event; an event counts as acknowledged once sent. */
export class UdpSyslogLoad {
  private readonly pacer: Pacer;
  private readonly socket = dgram.createSocket('udp4');
  constructor(o: LoadOptions) {
    this.pacer = new Pacer(o.rate, (n) => {
      const id = `${o.tag}u${n}`;
      this.socket.send(syslogFrame(n, id, 'chaos-udp'), o.port(), '127.0.0.1', (err) => {
        if (!err) o.ledger.acked.set(id, Date.now());
      });
    });
  }
  start(): this {
    this.pacer.start();
    return this;
  }
  async stop(): Promise<number> {
    const made = this.pacer.stop();
    await sleep(100);
    this.socket.close();
    return made;
  }
}

// ── Servers a scenario may kill ─────────────────────────────────────────────────────────────────────

/** A redis-server with AOF (fsync every second), as MUTT's deployments run it, that can be killed. */
export class KillableRedis {
  private child?: ChildProcess;
  private readonly binary: string;
  private readonly dir: string;
  readonly port: number;
  private constructor(binary: string, dir: string, port: number) {
    this.binary = binary;
    this.dir = dir;
    this.port = port;
  }
  static async start(binary: string, dir: string): Promise<KillableRedis> {
    mkdirSync(dir, { recursive: true });
    const r = new KillableRedis(binary, dir, await freePort());
    await r.restart();
    return r;
  }
  async restart(): Promise<void> {
    this.child = spawn(
      this.binary,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    await waitForRedisPing({ host: '127.0.0.1', port: this.port }, AbortSignal.timeout(60_000));
  }
  async kill9(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
  stop(): Promise<void> {
    return this.kill9();
  }
}

/** Keeps a result in MUTT_CHAOS_REPORT (set by `npm run chaos`) for its table. */
function writeReport(name: string, data: unknown): void {
  const dir = process.env.MUTT_CHAOS_REPORT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name.replace(/\W+/g, '-')}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

/** A measurement (not a scenario) for the report. */
export function record(measurement: string, figures: Record<string, unknown>): void {
  writeReport(measurement, { measurement, figures, loadAverage: loadavg()[0] });
}

// ── A run ───────────────────────────────────────────────────────────────────────────────────────────

export interface Fault {
  /** What was done, in words. */
  what: string;
  start: number;
  end: number;
}

export interface Tally {
  scenario: string;
  version: 'ci' | 'long';
  load: string;
  fault: string;
  faultSeconds: number;
  acknowledged: number;
  /** TCP events in flight when their connection broke (no acknowledgment exists for them). */
  unconfirmed: number;
  unconfirmedArrived: number;
  audited: number;
  auditDuplicates: number;
  delivered: number;
  deliveryDuplicates: number;
  deadLettered: number;
  deadLetteredByCode: Record<string, number>;
  /** Acknowledged, yet neither delivered nor in a DLQ. */
  lost: number;
  /** Acknowledged, yet with no audit row. */
  notAudited: number;
  http503: number;
  http503Seconds: number;
  /** HTTP requests that got no answer (connection refused or reset), and over how many seconds. */
  httpRefused: number;
  httpRefusedSeconds: number;
  tcpStallSeconds: number;
  /** From the end of the fault to the first delivery after it. */
  resumeSeconds?: number;
  /** From the end of the fault to the delivery of the last event acknowledged before it ended. */
  caughtUpSeconds?: number;
  loadAverage: number;
}

export interface ChaosOptions {
  name: string;
  svc: TestServices;
  mock: MockMoogsoft;
  /** Events per second of each client. */
  http?: number;
  tcp?: number;
  udp?: number;
  /** Redis other than the harness's (a KillableRedis). */
  redis?: { host: string; port: number };
  /** PostgreSQL other than the file's database (a private server). */
  postgres?: { host: string; port: number; user: string; database: string };
}

/** The rule every chaos event matches: audited and forwarded. */
const RULE_SQL = `INSERT INTO alert_rules (match_string, match_type, priority, prod_handling, dev_handling, team_assignment)
  SELECT 'eid=', 'contains', 10, 'Page_and_ticket', 'Page_and_ticket', 'NETO'
  WHERE NOT EXISTS (SELECT 1 FROM alert_rules WHERE match_string = 'eid=')`;

export class ChaosRun {
  readonly ledger = new Ledger();
  readonly env: Record<string, string>;
  readonly keys: Keys;
  readonly redis: Redis;
  readonly pool: pg.Pool;
  readonly processes: MuttProcess[] = [];
  private loads: (HttpLoad | TcpSyslogLoad | UdpSyslogLoad)[] = [];
  /** Prefix of this run's event ids. */
  readonly tag = `${randomBytes(3).toString('hex')}-`;
  private readonly o: ChaosOptions;

  private constructor(o: ChaosOptions, env: Record<string, string>) {
    this.o = o;
    this.env = env;
    this.keys = new Keys(loadConfigOrThrow(env, { defaultEnvFile: '/dev/null' }));
    const r = o.redis ?? o.svc.services.redis;
    this.redis = new Redis({ host: r.host, port: r.port, maxRetriesPerRequest: null });
    this.redis.on('error', () => {});
    const p = o.postgres ?? {
      host: o.svc.services.postgres.host,
      port: o.svc.services.postgres.port,
      user: o.svc.services.postgres.user,
      database: o.svc.database,
    };
    this.pool = new pg.Pool({ ...p, max: 2, connectionTimeoutMillis: 2000 });
    this.pool.on('error', () => {});
  }

  /** Starts MUTT with default settings, adds the rule, and starts the clients. */
  static async start(o: ChaosOptions): Promise<ChaosRun> {
    const r = o.redis ?? o.svc.services.redis;
    const env: Record<string, string> = {
      ...o.svc.env,
      MUTT_KEY_PREFIX: `${o.svc.prefix}:${randomBytes(3).toString('hex')}`,
      MUTT_DATA_DIR: join(o.svc.tmp, `chaos-${o.name}`),
      REDIS_HOST: r.host,
      REDIS_PORT: String(r.port),
      SERVER_PORT_INGESTOR: String(await freePort()),
      SYSLOG_TCP_PORT: o.tcp ? String(await freePort()) : '0',
      SYSLOG_UDP_PORT: o.udp ? String(await freeUdpPort()) : '0',
      MOOG_WEBHOOK_URL: o.mock.url,
    };
    if (o.postgres) {
      Object.assign(env, {
        DB_HOST: o.postgres.host,
        DB_PORT: String(o.postgres.port),
        DB_USER: o.postgres.user,
        DB_NAME: o.postgres.database,
      });
    }
    const run = new ChaosRun(o, env);
    // The schema and the rule are there before MUTT starts: its alerter loads the rule at once.
    await migrate(run.pool, quietLog());
    await run.pool.query(RULE_SQL);
    await run.startMutt();
    const started = await run.mutt.waitForMessage('alerter started', 120_000);
    if (Number(started.rules) < 1) throw new Error('the alerter started without the chaos rule');
    await run.mutt.waitForMessage('forwarder started', 60_000);
    const tag = run.tag;
    const port = (name: string) => () => Number(env[name]);
    const l = run.ledger;
    if (o.http)
      run.loads.push(
        new HttpLoad({
          port: port('SERVER_PORT_INGESTOR'),
          key: env.INGEST_API_KEY!,
          rate: o.http,
          tag,
          ledger: l,
        }).start(),
      );
    if (o.tcp)
      run.loads.push(
        new TcpSyslogLoad({ port: port('SYSLOG_TCP_PORT'), rate: o.tcp, tag, ledger: l }).start(),
      );
    if (o.udp)
      run.loads.push(
        new UdpSyslogLoad({ port: port('SYSLOG_UDP_PORT'), rate: o.udp, tag, ledger: l }).start(),
      );
    return run;
  }

  get mutt(): MuttProcess {
    return this.processes.at(-1)!;
  }

  /** Starts a `mutt serve` (again) with the run's environment; resolves once it runs. */
  async startMutt(): Promise<MuttProcess> {
    const p = startMutt(this.env);
    this.processes.push(p);
    await p.running(120_000);
    return p;
  }

  /** kill -9 of the running MUTT. */
  async kill9(): Promise<void> {
    const p = this.mutt;
    p.kill('SIGKILL');
    await p.exited();
  }

  /** Stops the clients (each finishes sending and waits for its acknowledgments). */
  async stopLoad(): Promise<void> {
    await Promise.all(this.loads.map((l) => l.stop()));
  }

  /** Ids of every item in the DLQs, by DLQ code. */
  async deadLettered(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const key of [this.keys.alerterDlq, this.keys.moogDlq, this.keys.deadLetter]) {
      for (const raw of await this.redis.lrange(key, 0, -1)) {
        let code = 'unknown';
        let id: string | undefined;
        try {
          const item = JSON.parse(raw) as Record<string, unknown>;
          const c =
            item._dead_from !== undefined ? `dead:${JSON.stringify(item._dead_from)}` : item._dlq_code;
          code = typeof c === 'string' ? c : 'unknown';
          const event = item.raw_json as Record<string, unknown> | undefined;
          id = eidOf(item.message) ?? eidOf(item.message_body) ?? eidOf(event?.message) ?? eidOf(item._raw);
        } catch {
          id = eidOf(raw);
        }
        if (id) out.set(id, code);
      }
    }
    return out;
  }

  /** First delivery time of each id Moogsoft accepted, and how many deliveries in all. */
  delivered(): { first: Map<string, number>; total: number } {
    const first = new Map<string, number>();
    let total = 0;
    for (const r of this.o.mock.posts()) {
      if (typeof r.answer !== 'number' || r.answer < 200 || r.answer > 299) continue;
      for (const e of r.events) {
        const id = eidOf(e.description);
        if (!id?.startsWith(this.tag)) continue;
        total++;
        if (!first.has(id)) first.set(id, r.at);
      }
    }
    return { first, total };
  }

  async audited(): Promise<Map<string, number>> {
    const rows = (
      await this.pool.query<{ eid: string; n: number }>(
        `SELECT (regexp_match(raw_message::json->>'message', 'eid=(\\S+)'))[1] AS eid, count(*)::int AS n
           FROM event_audit_log WHERE raw_message LIKE $1 GROUP BY 1`,
        [`%eid=${this.tag}%`],
      )
    ).rows;
    return new Map(rows.filter((r) => r.eid).map((r) => [r.eid, r.n]));
  }

  /** Waits until every acknowledged event is delivered or dead-lettered, and MUTT holds nothing. */
  async settle(timeoutMs = phase(120, 300)): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const { first } = this.delivered();
      const dlq = await this.deadLettered();
      const missing = [...this.ledger.acked.keys()].filter((id) => !first.has(id) && !dlq.has(id)).length;
      const held = await this.held();
      if (missing === 0 && held === 0) return;
      if (Date.now() > end)
        throw new Error(
          `${this.o.name}: ${missing} acknowledged events neither delivered nor dead-lettered, ${held} still held by MUTT, after ${timeoutMs / 1000} s:\n${this.mutt.tail(15)}`,
        );
      await sleep(250);
    }
  }

  /** Events and alerts MUTT still holds in Redis (queues, processing and retry lists). */
  private async held(): Promise<number> {
    const lists = [
      ...(await this.redis.keys(this.keys.alerterProcessingPattern)),
      ...(await this.redis.keys(this.keys.moogProcessingPattern)),
    ];
    const lens = await Promise.all(
      [this.keys.ingestQueue, this.keys.alertQueue, ...lists].map((k) => this.redis.llen(k)),
    );
    return lens.reduce((a, b) => a + b, 0);
  }

  /** Counts everything by id and writes the figures (console and MUTT_CHAOS_REPORT). */
  async tally(o: { load: string; fault?: Fault }): Promise<Tally> {
    const acked = this.ledger.acked;
    const { first, total } = this.delivered();
    const audit = await this.audited();
    const dlq = await this.deadLettered();
    const byCode: Record<string, number> = {};
    for (const code of dlq.values()) byCode[code] = (byCode[code] ?? 0) + 1;
    const ackedIds = [...acked.keys()];
    let auditRows = 0;
    for (const n of audit.values()) auditRows += n;
    const f = o.fault;
    let resume: number | undefined;
    let caughtUp: number | undefined;
    const unconfirmed = [...this.ledger.unconfirmed].filter((id) => !acked.has(id));
    if (f) {
      // Resumed: the first delivery after the fault ended. Caught up: the last delivery of an event
      // acknowledged (or sent, for TCP) before the fault ended.
      for (const d of first.values()) if (d >= f.end) resume = resume === undefined ? d : Math.min(resume, d);
      const before = [...acked].filter(([, at]) => at <= f.end).map(([id]) => id);
      for (const id of [...before, ...unconfirmed]) {
        const d = first.get(id);
        if (d !== undefined && d >= f.end) caughtUp = caughtUp === undefined ? d : Math.max(caughtUp, d);
      }
      caughtUp ??= f.end;
    }
    const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms / 100) / 10);
    const t: Tally = {
      scenario: this.o.name,
      version: LONG ? 'long' : 'ci',
      load: o.load,
      fault: f?.what ?? 'none',
      faultSeconds: f ? Math.round((f.end - f.start) / 1000) : 0,
      acknowledged: acked.size,
      unconfirmed: unconfirmed.length,
      unconfirmedArrived: unconfirmed.filter((id) => first.has(id) || audit.has(id)).length,
      audited: audit.size,
      auditDuplicates: auditRows - audit.size,
      delivered: first.size,
      deliveryDuplicates: total - first.size,
      deadLettered: dlq.size,
      deadLetteredByCode: byCode,
      lost: ackedIds.filter((id) => !first.has(id) && !dlq.has(id)).length,
      notAudited: ackedIds.filter((id) => !audit.has(id) && !dlq.has(id)).length,
      http503: this.ledger.http503,
      http503Seconds:
        this.ledger.first503 === undefined ? 0 : seconds(this.ledger.last503! - this.ledger.first503)!,
      httpRefused: this.ledger.httpErrors,
      httpRefusedSeconds:
        this.ledger.firstError === undefined ? 0 : seconds(this.ledger.lastError! - this.ledger.firstError)!,
      tcpStallSeconds: seconds(this.ledger.tcpStallMs)!,
      resumeSeconds: f && resume !== undefined ? seconds(resume - f.end) : undefined,
      caughtUpSeconds: f && caughtUp !== undefined ? seconds(caughtUp - f.end) : undefined,
      loadAverage: Number(loadavg()[0]!.toFixed(2)),
    };
    console.log(`chaos ${JSON.stringify(t)}`);
    writeReport(this.o.name, t);
    return t;
  }

  async close(): Promise<void> {
    for (const l of this.loads) await l.stop(1000).catch(() => 0);
    for (const p of this.processes)
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.kill('SIGTERM');
        await p.exited(60_000).catch(() => p.kill('SIGKILL'));
      }
    this.redis.disconnect();
    await this.pool.end();
  }
}

/** The defaults that bound duplicates: what one alerter worker and one forwarder worker hold. */
export const IN_HAND = {
  /** Two alerter batches (ALERTER_BATCH_SIZE 500): audited at once, not yet settled. */
  auditRows: 2 * 500,
  /** MOOG_MAX_IN_FLIGHT (4) requests of MOOG_BATCH_SIZE (100) alerts. */
  deliveries: 4 * 100,
};

/**
 * The pass criteria of docs/RELIABILITY.md: nothing acknowledged lost or left unaudited; for a
 * transient fault nothing dead-lettered; duplicates at most the batches MUTT had in hand at each crash
 * (IN_HAND), and one crash's worth for a fault that kills no MUTT process; delivery resumed within 10 s of
 * the end of the fault. Returns the failures (empty when it passes), so a test shows them all at once.
 */
export function criteria(
  t: Tally,
  o: { transient: boolean; crashes?: number; expectDeadLettered?: number },
): string[] {
  const bad: string[] = [];
  const crashes = Math.max(1, o.crashes ?? 1);
  if (t.acknowledged === 0) bad.push('nothing was acknowledged');
  if (t.lost > 0) bad.push(`${t.lost} acknowledged events lost`);
  if (t.notAudited > 0) bad.push(`${t.notAudited} acknowledged events without an audit row`);
  if (o.transient && t.deadLettered > 0)
    bad.push(
      `${t.deadLettered} events dead-lettered for a transient fault: ${JSON.stringify(t.deadLetteredByCode)}`,
    );
  if (o.expectDeadLettered !== undefined && t.deadLettered !== o.expectDeadLettered)
    bad.push(`${t.deadLettered} dead-lettered, expected ${o.expectDeadLettered}`);
  if (t.auditDuplicates > IN_HAND.auditRows * crashes) bad.push(`${t.auditDuplicates} duplicate audit rows`);
  if (t.deliveryDuplicates > IN_HAND.deliveries * crashes)
    bad.push(`${t.deliveryDuplicates} duplicate deliveries`);
  if (t.fault !== 'none') {
    if (t.resumeSeconds === undefined) bad.push('no delivery after the fault ended');
    else if (t.resumeSeconds > 10) bad.push(`delivery resumed ${t.resumeSeconds} s after the fault ended`);
  }
  return bad;
}
