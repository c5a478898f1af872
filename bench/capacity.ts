// Capacity ladder (`npm run bench -- pipeline --ladder`): the highest rate one node with every role
// holds end to end — syslog over UDP → listener → ingest queue → alerter (rule match, audit row
// committed in PostgreSQL) → alert queue → forwarder → the mock Moogsoft — with the quick start's
// embedded Redis (AOF everysec) and PostgreSQL (default durability).
//
// Each step sends at a fixed rate (open loop) for --seconds (30 by default); it passes when every
// message sent reached the mock exactly once, has exactly one audit row, and the last one arrived
// at most LAG_LIMIT_S after the last send (the node kept up rather than building a backlog). The
// ladder stops at the first step that fails. For every step it reports the CPU each stage spent per
// event: listener (main thread and syslog parser), alerter and forwarder threads, MUTT's other
// threads (V8 helpers), Redis, PostgreSQL, and beside them the benchmark's own: its process, the
// native UDP sender (bench/tools/udp-blast.c) and the Moogsoft stand-in (bench/tools/moog-sink.mjs).
import { loadavg } from 'node:os';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freeUdpPort } from '../test/harness/ports.ts';
import { SCRIPTS } from '../src/core/protocol/scripts.ts';
import { abortableSleep } from '../src/runtime/sleep.ts';
import { diffCpu, ownCpuSeconds, STAGES, type Stage, stageCpu } from './lib/cpu.ts';
import { treeCpuSeconds } from './lib/ladder.ts';
import { cpuReference, fmt, machine, scratchDir } from './lib/env.ts';
import { startMutt } from './lib/mutt.ts';
import { writeSection } from './lib/report.ts';
import { applyUdpSysctl, blastUdp, nativeUdpSender, openLoopUdp } from './lib/udp.ts';

export const DEFAULT_RATES = [10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000];
/** The last alert may arrive at most this long after the last send for a step to pass. */
const LAG_LIMIT_S = 2;
const MARK = 'cap';

/** An RFC 3164 Cisco-style line of about 150 bytes with a unique token at a fixed offset. */
function template(): { buf: Buffer; at: number } {
  const head = `<187>Nov 24 12:00:00 edge-router-17 %LINK-3-UPDOWN: Interface GigabitEthernet1/0/17, changed state to down [${MARK} `;
  const buf = Buffer.from(`${head}s00-0000000000]`);
  return { buf, at: head.length };
}

function datagram(base: Buffer, at: number, step: number, n: number): Buffer {
  const b = Buffer.from(base);
  b[at + 1] = 48 + Math.floor(step / 10);
  b[at + 2] = 48 + (step % 10);
  let v = n;
  for (let i = 13; i >= 4; i--) {
    b[at + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return b;
}

interface SinkStats {
  /** Messages of the current step that arrived at least once, and arrivals beyond the first. */
  delivered: number;
  duplicates: number;
  /** Arrivals of any step (warm-up probes and stragglers of an earlier step included). */
  arrivals: number;
}

/** The Moogsoft stand-in in a process of its own (bench/tools/moog-sink.mjs). */
class Sink {
  private readonly waiting = new Map<
    number,
    { resolve: (s: SinkStats) => void; reject: (e: Error) => void }
  >();
  private exited?: Error;
  private next = 0;
  private readonly child: ChildProcess;
  readonly url: string;

  private constructor(child: ChildProcess, url: string) {
    this.child = child;
    this.url = url;
    child.on('message', (m: { type: string; id: number } & SinkStats) => {
      if (m.type !== 'stats') return;
      this.waiting.get(m.id)?.resolve(m);
      this.waiting.delete(m.id);
    });
    // A stand-in that dies fails the run instead of leaving it waiting for an answer forever.
    child.on('exit', (code, signal) => {
      this.exited = new Error(`moog-sink exited (${signal ?? `code ${code}`})`);
      for (const w of this.waiting.values()) w.reject(this.exited);
      this.waiting.clear();
    });
  }

  static start(): Promise<Sink> {
    const child = fork('bench/tools/moog-sink.mjs', [], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`moog-sink exited with ${code}`)));
      child.once('message', (m: { type: string; port: number }) => {
        if (m.type === 'listening') resolve(new Sink(child, `http://127.0.0.1:${m.port}/`));
      });
    });
  }

  /** Starts counting `step`, whose messages are numbered 0 … size-1 (done when it resolves). */
  reset(step: number, size: number): Promise<SinkStats> {
    return this.ask({ type: 'reset', step, size });
  }

  stats(): Promise<SinkStats> {
    return this.ask({ type: 'stats' });
  }

  private ask(m: Record<string, unknown>): Promise<SinkStats> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...m, id });
    });
  }

  /** CPU seconds the sink has used. */
  cpuSeconds(): number {
    return treeCpuSeconds(this.child.pid!);
  }

  close(): void {
    this.exited = new Error('moog-sink closed');
    this.child.removeAllListeners('exit');
    this.child.kill();
  }
}

const stepToken = (step: number) => `s${String(step).padStart(2, '0')}-`;

/** INFO commandstats → calls and µs per command. */
function commandStats(info: string): Map<string, { calls: number; usec: number }> {
  const m = new Map<string, { calls: number; usec: number }>();
  for (const line of info.split('\n')) {
    const r = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (r) m.set(r[1]!, { calls: Number(r[2]), usec: Number(r[3]) });
  }
  return m;
}

export interface CapacityStep {
  rate: number;
  sent: number;
  achieved: number;
  delivered: number;
  duplicates: number;
  audited: number;
  auditedDistinct: number;
  /** Seconds from the last send to the arrival of the last alert at the mock. */
  lag: number;
  /** Largest ingest + alert queue backlog seen during the step. */
  backlog: number;
  /** CPU µs per event by stage, and the benchmark process's own. */
  perEvent: Record<Stage | 'bench', number>;
  /** Cores used by MUTT and its servers during the step (sending and draining). */
  cores: number;
  passed: boolean;
  why?: string;
}

export interface CapacityOptions {
  seconds: number;
  rates: readonly number[];
  env?: Record<string, string>;
  /** Also log every Redis command's time (SLOWLOG) and print the time of each Lua script per event. */
  profile?: boolean;
  /**
   * `native` (default): bench/tools/udp-blast.c when a C compiler is there (sendmmsg, about half the
   * CPU per datagram of Node's dgram), else Node; `node`: Node's dgram.
   */
  sender?: 'native' | 'node';
}

const SCRIPT_BY_SHA = new Map(
  Object.entries(SCRIPTS).map(([name, s]) => [
    createHash('sha1').update(`-- mutt v1 ${name}\n${s.lua}`).digest('hex'),
    name,
  ]),
);

/** SLOWLOG entries → µs per EVALSHA script name (or command name). */
function slowlogByScript(entries: unknown[]): Map<string, { calls: number; usec: number }> {
  const m = new Map<string, { calls: number; usec: number }>();
  for (const e of entries as [number, number, number, string[]][]) {
    const args = e[3];
    const name =
      args[0]?.toLowerCase() === 'evalsha' ? (SCRIPT_BY_SHA.get(args[1] ?? '') ?? 'script?') : args[0]!;
    const v = m.get(name) ?? { calls: 0, usec: 0 };
    v.calls++;
    v.usec += e[2];
    m.set(name, v);
  }
  return m;
}

async function until(pred: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms`);
    await abortableSleep(200);
  }
}

export async function capacityLadder(o: CapacityOptions): Promise<{
  steps: CapacityStep[];
  env: Record<string, string>;
  sysctl: string;
  sender: string;
}> {
  const blaster = o.sender === 'node' ? undefined : nativeUdpSender();
  const sender = blaster
    ? 'the native sender bench/tools/udp-blast.c (sendmmsg)'
    : "Node's dgram (`socket.send` per datagram)";
  const sysctl = applyUdpSysctl();
  const dir = scratchDir('capacity');
  const mock = await Sink.start();
  const udp = await freeUdpPort();
  const env: Record<string, string> = {
    // The stand-in has no rate limit of its own; a real one's limit is set by its operator.
    MOOG_RATE_LIMIT: '1000000',
    // Requests of 500 alerts rather than the default 100, as docs/SCALING.md advises above about
    // 10,000 alerts/s: each request costs the forwarder, Redis and the receiver the same whatever
    // it carries (about 5 µs per alert less in all at 27,500/s).
    MOOG_BATCH_SIZE: '500',
    ...o.env,
  };
  const mutt = await startMutt({
    MUTT_DATA_DIR: join(dir, 'data'),
    INGEST_API_KEY: 'bench-capacity-key',
    SERVER_PORT_INGESTOR: '0',
    SERVER_PORT_WEBUI: '0',
    SYSLOG_UDP_PORT: String(udp),
    SYSLOG_TCP_PORT: '0',
    SYSLOG_TLS_PORT: '0',
    SNMP_TRAP_PORT: '0',
    MOOG_WEBHOOK_URL: mock.url,
    MOOG_AUTH_MODE: 'none',
    ...env,
  });
  const pid = mutt.child.pid!;
  const db = new pg.Pool({
    host: join(dir, 'data', 'postgres', 'run'),
    port: 5432,
    user: 'mutt_user',
    database: 'mutt_db',
    max: 1,
  });
  const redis = new Redis({ path: join(dir, 'data', 'redis', 'redis.sock') });
  const { buf, at } = template();
  const steps: CapacityStep[] = [];
  try {
    await until(
      async () => {
        try {
          await db.query('SELECT 1 FROM alert_rules LIMIT 1');
          return true;
        } catch {
          return false;
        }
      },
      120_000,
      'schema',
    );
    await db.query(
      `INSERT INTO alert_rules (match_string, match_type, priority, prod_handling, dev_handling, team_assignment)
       VALUES ('LINK-3-UPDOWN', 'contains', 10, 'Page_and_ticket', 'Ignore', 'NETO')`,
    );
    const sock = (await import('node:dgram')).createSocket('udp4');
    await new Promise<void>((r) => sock.connect(udp, '127.0.0.1', () => r()));
    // Warm-up: probes until one went all the way through as a handled event (rules loaded, audited,
    // forwarded), not as the meta-alert of unhandled ones.
    let probe = 0;
    await until(
      async () => {
        sock.send(datagram(buf, at, 99, probe++));
        if ((await mock.stats()).arrivals === 0) return false;
        const r = await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM event_audit_log WHERE raw_message LIKE $1',
          [`%[${MARK} ${stepToken(99)}%`],
        );
        return Number(r.rows[0]!.n) > 0;
      },
      120_000,
      'the first handled alert at the mock',
    );
    sock.close();
    await abortableSleep(2000);

    for (let k = 0; k < o.rates.length; k++) {
      const rate = o.rates[k]!;
      const step = k + 1;
      if (o.profile) {
        await redis.config('SET', 'slowlog-log-slower-than', '0');
        await redis.config('SET', 'slowlog-max-len', '1000000');
        await redis.slowlog('RESET');
      }
      const cmds0 = commandStats(await redis.info('commandstats'));
      await mock.reset(step, Math.round(rate * o.seconds) + 1);
      const cpu0 = stageCpu(pid);
      const own0 = ownCpuSeconds() + mock.cpuSeconds();
      let backlog = 0;
      const queues = { ingest: 0, alert: 0 };
      const sampler = setInterval(() => {
        void redis
          .pipeline()
          .llen('mutt:ingest_queue')
          .llen('mutt:alert_queue')
          .exec()
          .then((r) => {
            const ingest = Number(r?.[0]?.[1] ?? 0);
            const alert = Number(r?.[1]?.[1] ?? 0);
            queues.ingest = Math.max(queues.ingest, ingest);
            queues.alert = Math.max(queues.alert, alert);
            backlog = Math.max(backlog, ingest + alert);
          });
      }, 500);
      process.stderr.write(`capacity: sending ${fmt(rate)}/s for ${o.seconds} s\n`);
      // The native sender's CPU is its own process's: added to the benchmark's below.
      const {
        sent,
        elapsed,
        cpu: senderCpu,
      } = blaster
        ? await blastUdp(blaster, udp, rate, o.seconds, datagram(buf, at, step, 0), at + 4)
        : { ...(await openLoopUdp(udp, rate, o.seconds, (n) => datagram(buf, at, step, n))), cpu: 0 };
      const sentAt = performance.now();
      // Wait until everything arrived, or nothing more arrives for 5 s.
      let last = -1;
      let lastChange = performance.now();
      let lastArrival = performance.now();
      for (;;) {
        const n = (await mock.stats()).delivered;
        if (n !== last) {
          last = n;
          lastChange = performance.now();
          lastArrival = lastChange;
        }
        if (n >= sent || performance.now() - lastChange > 5000) break;
        await abortableSleep(20);
      }
      clearInterval(sampler);
      const lag = Math.max(0, (lastArrival - sentAt) / 1000);
      // A step that stopped short: were the rest lost or only late? Up to 60 s more tells.
      const { delivered, duplicates } = await mock.stats();
      let late = '';
      if (delivered < sent) {
        const before = delivered;
        const q0 = await redis.llen('mutt:ingest_queue');
        for (let t = 0; t < 60_000 && (await mock.stats()).delivered < sent; t += 500)
          await abortableSleep(500);
        const after = (await mock.stats()).delivered;
        late = `; ${fmt(after - before)} more arrived within 60 s (${fmt(sent - after)} still missing; ingest queue ${fmt(q0)} when the step stopped)`;
        for (const w of mutt.warnings().slice(-10)) process.stderr.write(`  mutt: ${w}\n`);
      }
      const cpu = diffCpu(cpu0, stageCpu(pid));
      const cmds = commandStats(await redis.info('commandstats'));
      if (o.profile) {
        await redis.config('SET', 'slowlog-log-slower-than', '10000');
        const log = slowlogByScript((await redis.slowlog('GET', -1)) as unknown[]);
        await redis.slowlog('RESET');
        process.stderr.write(
          `  redis by script: ${[...log]
            .sort((x, y) => y[1].usec - x[1].usec)
            .slice(0, 10)
            .map(([n, c]) => `${n} ${fmt(c.calls / sent, 3)} calls ${fmt(c.usec / sent, 2)} µs`)
            .join(', ')}\n`,
        );
      }
      const own = ownCpuSeconds() + mock.cpuSeconds() - own0 + senderCpu;
      const a = (
        await db.query<{ n: string; d: string }>(
          `SELECT count(*) AS n, count(DISTINCT substring(raw_message from '\\[${MARK} (s[0-9]+-[0-9]+)\\]')) AS d
             FROM event_audit_log WHERE raw_message LIKE $1`,
          [`%[${MARK} ${stepToken(step)}%`],
        )
      ).rows[0]!;
      const perEvent = {} as Record<Stage | 'bench', number>;
      for (const s of STAGES) perEvent[s] = (cpu[s] / sent) * 1e6;
      perEvent.bench = (own / sent) * 1e6;
      const total = STAGES.reduce((x, s) => x + cpu[s], 0);
      const r: CapacityStep = {
        rate,
        sent,
        achieved: sent / elapsed,
        delivered,
        duplicates,
        audited: Number(a.n),
        auditedDistinct: Number(a.d),
        lag,
        backlog,
        perEvent,
        cores: total / (elapsed + lag),
        passed: false,
      };
      const problems: string[] = [];
      if (delivered < sent)
        problems.push(`${fmt(sent - delivered)} not delivered within 5 s of the last arrival${late}`);
      if (r.duplicates > 0) problems.push(`${fmt(r.duplicates)} delivered twice`);
      if (r.audited !== sent || r.auditedDistinct !== sent)
        problems.push(`${fmt(r.audited)} audit rows (${fmt(r.auditedDistinct)} distinct) for ${fmt(sent)}`);
      if (lag > LAG_LIMIT_S) problems.push(`last alert ${fmt(lag, 1)} s after the last send`);
      const dlq = await redis.llen('mutt:dlq:alerter');
      if (dlq > 0) problems.push(`${fmt(dlq)} in the alerter DLQ`);
      r.passed = problems.length === 0;
      r.why = problems.join('; ');
      steps.push(r);
      process.stderr.write(
        `capacity: ${fmt(rate)}/s offered, ${fmt(r.achieved)}/s sent, ${fmt(delivered)} of ${fmt(sent)} delivered, ` +
          `${fmt(r.audited)} audited, lag ${fmt(lag, 1)} s, backlog ≤ ${fmt(backlog)} (ingest queue ≤ ${fmt(queues.ingest)}, alert queue ≤ ${fmt(queues.alert)}), ${fmt(r.cores * 100)} % CPU; µs/event ` +
          `${[...STAGES, 'bench' as const].map((s) => `${s} ${fmt(perEvent[s], 1)}`).join(', ')}` +
          ` (sender ${fmt((senderCpu / sent) * 1e6, 1)})` +
          `${r.passed ? '' : ` — FAILED: ${r.why}`}\n`,
      );
      // Where Redis's time goes: calls and µs per event of each command (Lua scripts by their SHA).
      const top = [...cmds]
        .map(([name, c]) => {
          const b = cmds0.get(name) ?? { calls: 0, usec: 0 };
          return { name, calls: (c.calls - b.calls) / sent, usec: (c.usec - b.usec) / sent };
        })
        .filter((c) => c.calls > 0)
        .sort((x, y) => y.usec - x.usec)
        .slice(0, 8);
      process.stderr.write(
        `  redis per event: ${top.map((c) => `${c.name} ${fmt(c.calls, 3)} calls ${fmt(c.usec, 2)} µs`).join(', ')}\n`,
      );
      if (!r.passed) break;
      // Let PostgreSQL and Redis settle (checkpoint, AOF rewrite) between steps.
      await abortableSleep(3000);
    }
    return { steps, env, sysctl: sysctl.note, sender };
  } finally {
    sysctl.restore();
    redis.disconnect();
    await db.end();
    await mutt.stop();
    mock.close();
    // The ladder's Redis and PostgreSQL data (gigabytes after a few steps) are not kept.
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ladder's section of docs/BENCHMARKS.md. */
export async function capacityBench(o: CapacityOptions & { command: string }): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const refBefore = cpuReference();
  const { steps, env, sysctl, sender } = await capacityLadder(o);
  const loadAfter = loadavg()[0]!;
  const refAfter = cpuReference();
  const best = steps.filter((s) => s.passed).at(-1);
  const failed = steps.find((s) => !s.passed);
  const col = (s: CapacityStep, k: Stage | 'bench') => fmt(s.perEvent[k], 1);
  const mutt = (s: CapacityStep) => STAGES.reduce((x, k) => x + s.perEvent[k], 0);
  const rows = steps
    .map(
      (s) =>
        `| ${fmt(s.rate)} | ${fmt(s.achieved)} | ${fmt(s.delivered)} / ${fmt(s.sent)} | ${fmt(s.audited)} | ${fmt(s.lag, 1)} s | ${fmt(s.backlog)} | ${STAGES.map((k) => col(s, k)).join(' | ')} | **${fmt(mutt(s), 1)}** | ${col(s, 'bench')} | ${fmt(s.cores * 100)} % | ${s.passed ? 'pass' : `fail: ${s.why}`} |`,
    )
    .join('\n');
  const top = best ?? steps[0];
  const ceiling = top && {
    rate: top.rate,
    total: mutt(top),
    bench: top.perEvent.bench,
    bound: 2_000_000 / (mutt(top) + top.perEvent.bench),
  };
  const envText = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const md = `## Capacity: one node end to end

Command: \`${o.command}\`. Measured ${new Date().toISOString().slice(0, 10)} on: ${machine()}; 1-minute load average ${fmt(loadBefore, 1)} before and ${fmt(loadAfter, 1)} after the run (on 2 cores, anything above about 1 is other work competing with MUTT); ${sysctl}. The machine's speed, for comparing runs on this shared host: ${fmt(refBefore, 2)} µs before and ${fmt(refAfter, 2)} µs after the run per JSON round trip of a 400-byte event (\`cpuReference\` in bench/lib/env.ts; the same code costs proportionally more CPU per event when it is higher).
MUTT: one \`mutt serve\` with every role, as the quick start runs it — embedded Redis (Unix socket, AOF \`everysec\`) and PostgreSQL (default durability: fsync, synchronous_commit on) — one \`contains\` rule that forwards every event, MOOG_WEBHOOK_URL at a Moogsoft stand-in in a process of its own (bench/tools/moog-sink.mjs: answers as the REST LAM does, counts every message by its token); settings besides the defaults: \`${envText}\`. Load: RFC 3164 Cisco lines of about 150 bytes over UDP, each with a unique token, at fixed rates (open loop) for ${o.seconds} s per step, sent by ${sender}. A step passes when every message sent reached the mock exactly once, has exactly one audit row, and the last alert arrived at most ${LAG_LIMIT_S} s after the last send. CPU per event is the CPU time of each stage from the step's first send until its last alert arrived, divided by the messages sent (threads of the MUTT process by name; the embedded redis-server; the PostgreSQL processes).

**Highest rate held: ${best ? `${fmt(best.rate)} events/s` : 'none of the steps'}** (target ≥ 30,000 events/s: ${best && best.rate >= 30_000 ? 'met' : 'not met'})${failed ? `; the next step, ${fmt(failed.rate)}/s, failed (${failed.why})` : ''}.

| offered /s | sent /s | delivered | audited | lag | max backlog | listener µs | alerter µs | forwarder µs | MUTT other µs | Redis µs | PostgreSQL µs | total µs/event | bench µs | CPU (MUTT + servers) | |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${rows}

The µs columns are CPU time per event; 2 cores give 2,000,000 µs of CPU per second, shared by MUTT, its servers and the benchmark (its process, the sender and the Moogsoft stand-in: the bench column), so the total per event bounds the rate: 2,000,000 ÷ (total + bench) events/s${ceiling ? ` — at the ${fmt(ceiling.rate)}/s step ${fmt(ceiling.total, 1)} + ${fmt(ceiling.bench, 1)} µs, a ceiling of ${fmt(ceiling.bound)} events/s if nothing else ran on the machine (${fmt(2_000_000 / ceiling.total)} events/s with the load generator and the mock on other hosts)` : ''}. The CPU column is what MUTT and its servers used during the step, 100 % being one core: well below 200 % while the step fails means other work on the machine took the rest.
`;
  writeSection('capacity', md);
  process.stdout.write(`${md}\n`);
}
