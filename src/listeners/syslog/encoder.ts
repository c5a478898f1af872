// Frames → event JSON, on the parser thread (SYSLOG_PARSER_THREAD) or on the main thread.
//
//   listener (main thread) ── batch of frames: one ArrayBuffer + offsets, transferred ──► parser thread
//                          ◄── the batch's events, same order ────────────────────────────┘
//
// Parsing and building the event are about 40 % of a message's cost on the main thread; moving them
// leaves it reading sockets and writing to Redis. Batches come back in the order they were sent (one
// thread, one message port), so events keep their order. The main thread keeps every batch until
// its events are back: if the thread fails, it parses them itself and goes on without the thread.
//
// The hand-off is not free (frames copied out, events cloned back: about 1.5–2.5 µs per message in
// the end-to-end benchmark), so by default batches go to the thread only while the main thread is
// busy (threadPolicy, on the main thread's CPU time): a node whose main thread has room — every role
// on one host, where the two cores are shared by all the stages — parses there and spends less CPU
// per event; a listener node under a flood of datagrams moves the parsing off its main thread and
// reads more.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { type Logger, LogLimiter } from '../../runtime/logging.ts';
import type { Frame, Intake } from './intake.ts';

/** What the main thread sends: the frames of a batch back to back in `data`. */
export interface ParseRequest {
  id: number;
  data: ArrayBuffer;
  /** End offset of each frame in `data`. */
  ends: Uint32Array;
  truncated: Uint8Array;
  sourceIps: string[];
  hosts: string[];
  now: Float64Array;
}

export interface ParseReply {
  id: number;
  events: string[];
  parseErrors: number;
}

/** A frame to encode, or an event already encoded (kept in place to keep the order). */
export type Item = Frame | string;

interface Pending {
  items: Item[];
  frames: number;
  intake: Intake;
  resolve: (events: string[]) => void;
}

/**
 * Frames at most on their way to the thread or back. Beyond, batches are parsed on the calling thread:
 * the main thread slows down and the kernel (UDP receive buffer, TCP window) holds what follows,
 * rather than MUTT's memory.
 */
const MAX_PENDING_FRAMES = 100_000;

/** Main-thread utilization (CPU time per wall-clock second) above which batches go to the thread. */
export const THREAD_ON_UTILIZATION = 0.75;
/**
 * Below this (counting the parsing the main thread would take back), batches are parsed on the main
 * thread again. The gap keeps the choice from flapping.
 */
export const THREAD_OFF_UTILIZATION = 0.5;
/** How often the choice is revisited. */
const POLICY_INTERVAL_MS = 200;

/**
 * The calling thread's CPU time per second of wall time since the previous call: what it costs, not
 * how long its event loop was awake — on a host whose cores are all busy, a thread waits for a core
 * with work in hand, and its event loop looks busy while handing work to another thread would only
 * add to the load. Node.js before 23.9 has no per-thread CPU clock: the event-loop utilization then.
 */
export function mainThreadUtilization(): () => number {
  const threadCpu = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  if (typeof threadCpu === 'function') {
    let cpu = threadCpu.call(process);
    let at = performance.now();
    return () => {
      const nowCpu = threadCpu.call(process);
      const now = performance.now();
      const used = nowCpu.user - cpu.user + (nowCpu.system - cpu.system);
      const u = now > at ? used / 1000 / (now - at) : 0;
      cpu = nowCpu;
      at = now;
      return u;
    };
  }
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}

/**
 * Whether batches should go to the parser thread for the next interval: `utilization` is the main
 * thread's utilization over the last one (mainThreadUtilization), `parseShare` the part of it the
 * main thread would add by parsing the messages of that interval itself (0 while it already does).
 */
export function threadPolicy(inUse: boolean, utilization: number, parseShare: number): boolean {
  if (!inUse) return utilization > THREAD_ON_UTILIZATION;
  return utilization + parseShare >= THREAD_OFF_UTILIZATION;
}

export interface EncoderOptions {
  /** The parser thread's script; undefined: parse on the calling thread. */
  threadUrl?: URL;
  /**
   * 'busy' (default): batches go to the thread only while the main thread is busy (threadPolicy);
   * 'always': every batch goes to the thread.
   */
  threadWhen?: 'always' | 'busy';
  /** The main thread's utilization since the previous call (tests inject it). */
  utilization?: () => number;
  /** Milliseconds, for the policy's intervals (tests inject it). */
  clock?: () => number;
  /**
   * Called when batches start or stop going to the thread: by the policy, or because the thread
   * failed (its batches are then parsed here, and every batch after them).
   */
  onThreadUse?: (inUse: boolean, cause: 'policy' | 'thread_failed') => void;
  /** Bound on the frames in flight to the thread (MAX_PENDING_FRAMES). */
  maxPendingFrames?: number;
  /** Called with the frames of a batch parsed here because the thread was too far behind. */
  onOverflow?: (frames: number) => void;
  tz: string;
  log: Logger;
}

export class Encoder {
  private readonly o: EncoderOptions;
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing = false;
  /** The latest batch's result: each batch resolves only after the one before it. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Frames in the batches the thread holds. */
  private pendingFrames = 0;
  /** Batches parsed here because the thread was MAX_PENDING_FRAMES behind. */
  overflowBatches = 0;
  private readonly logs = new LogLimiter(60_000);
  /** Whether new batches go to the thread (when there is one). */
  private inUse: boolean;
  private policyTimer?: NodeJS.Timeout;
  /** Frames encoded since the policy last looked. */
  private windowFrames = 0;
  /** Seconds per frame the main thread spends parsing (moving average of what it measured). */
  private costPerFrame = 5e-6;
  private readonly utilization: () => number;
  private readonly clock: () => number;
  private windowStarted: number;

  constructor(o: EncoderOptions) {
    this.o = o;
    this.inUse = o.threadWhen === 'always';
    this.clock = o.clock ?? (() => performance.now());
    this.windowStarted = this.clock();
    this.utilization = o.utilization ?? mainThreadUtilization();
    if (o.threadUrl) this.startThread(o.threadUrl);
    if (this.worker && o.threadWhen !== 'always') {
      this.policyTimer = setInterval(() => this.revisit(), POLICY_INTERVAL_MS);
      this.policyTimer.unref();
    }
  }

  /** True while a parser thread is there to do the work. */
  get threaded(): boolean {
    return this.worker !== undefined;
  }

  /** True while new batches go to the parser thread. */
  get threadInUse(): boolean {
    return this.worker !== undefined && this.inUse;
  }

  /** Revisits where batches are parsed (every POLICY_INTERVAL_MS; public for tests). */
  revisit(): void {
    if (!this.worker) return;
    const now = this.clock();
    const seconds = Math.max(1e-3, (now - this.windowStarted) / 1000);
    const share = this.inUse ? (this.windowFrames * this.costPerFrame) / seconds : 0;
    const next = threadPolicy(this.inUse, this.utilization(), share);
    this.windowStarted = now;
    this.windowFrames = 0;
    if (next !== this.inUse) {
      this.inUse = next;
      this.o.onThreadUse?.(next, 'policy');
    }
  }

  private startThread(url: URL): void {
    const w = new Worker(url, { workerData: { tz: this.o.tz }, name: 'syslog-parser' });
    w.on('message', (r: ParseReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      this.pendingFrames -= p.frames;
      p.intake.addParseErrors(r.parseErrors);
      if (r.events.length === p.items.length) p.resolve(r.events);
      else {
        // Put the thread's events back between the ones encoded before (kept in place).
        let e = 0;
        p.resolve(p.items.map((it) => (typeof it === 'string' ? it : r.events[e++]!)));
      }
    });
    const failed = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      if (!this.closing)
        this.o.log.error({ err: why }, 'the syslog parser thread failed: the main thread parses from now on');
      clearInterval(this.policyTimer);
      if (this.inUse) {
        this.inUse = false;
        this.o.onThreadUse?.(false, 'thread_failed');
      }
      // Every batch it held is parsed here, in order (the map keeps insertion order).
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        this.pendingFrames -= p.frames;
        p.resolve(this.inline(p.intake, p.items));
      }
    };
    w.on('error', (err: Error) => failed(err.message));
    w.on('exit', (code) => failed(`exited with code ${code}`));
    w.unref();
    this.worker = w;
  }

  /**
   * The events of `items`, in order. Never rejects. Batches resolve in the order they were given,
   * whether or not they went to the thread (a batch of events encoded before, or one encoded here,
   * does not overtake a batch still on the thread).
   */
  encode(intake: Intake, items: Item[]): Promise<string[]> {
    const result = this.encodeNow(intake, items);
    const ordered = this.tail.then(() => result);
    this.tail = ordered;
    return ordered;
  }

  private encodeNow(intake: Intake, items: Item[]): Promise<string[]> {
    const w = this.worker;
    if (!w || items.length === 0) return Promise.resolve(this.inline(intake, items));
    let frames = 0;
    let bytes = 0;
    for (const it of items)
      if (typeof it !== 'string') {
        frames++;
        bytes += it.buf.length;
      }
    if (frames === 0) return Promise.resolve(items as string[]);
    this.windowFrames += frames;
    if (!this.inUse) {
      const started = performance.now();
      const events = this.inline(intake, items);
      const perFrame = (performance.now() - started) / 1000 / frames;
      this.costPerFrame += (perFrame - this.costPerFrame) * Math.min(1, frames / 1000);
      return Promise.resolve(events);
    }
    if (this.pendingFrames + frames > (this.o.maxPendingFrames ?? MAX_PENDING_FRAMES)) {
      this.overflowBatches++;
      this.o.onOverflow?.(frames);
      const suppressed = this.logs.take('overflow');
      if (suppressed >= 0)
        this.o.log.warn(
          { pending_frames: this.pendingFrames, overflow_batches: this.overflowBatches, suppressed },
          'the syslog parser thread is behind: the main thread parses too (reading slows down)',
        );
      return Promise.resolve(this.inline(intake, items));
    }
    const data = new ArrayBuffer(bytes);
    const view = new Uint8Array(data);
    const req: ParseRequest = {
      id: this.nextId++,
      data,
      ends: new Uint32Array(frames),
      truncated: new Uint8Array(frames),
      sourceIps: new Array<string>(frames),
      hosts: new Array<string>(frames),
      now: new Float64Array(frames),
    };
    let k = 0;
    let at = 0;
    for (const it of items) {
      if (typeof it === 'string') continue;
      view.set(it.buf, at);
      at += it.buf.length;
      req.ends[k] = at;
      req.truncated[k] = it.truncated ? 1 : 0;
      req.sourceIps[k] = it.sourceIp;
      req.hosts[k] = it.fallbackHost;
      req.now[k] = it.now;
      k++;
    }
    return new Promise((resolve) => {
      this.pending.set(req.id, { items, frames, intake, resolve });
      this.pendingFrames += frames;
      try {
        w.postMessage(req, [data]);
      } catch (err) {
        this.pending.delete(req.id);
        this.pendingFrames -= frames;
        this.o.log.error(
          { err: (err as Error).message },
          'could not hand a batch to the syslog parser thread',
        );
        resolve(this.inline(intake, items));
      }
    });
  }

  private inline(intake: Intake, items: Item[]): string[] {
    return items.map((it) => (typeof it === 'string' ? it : intake.encode(it)));
  }

  /** Stops the thread once the batches it holds are back (or parses them here). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.policyTimer);
    const w = this.worker;
    if (!w) return;
    const deadline = Date.now() + 5000;
    while (this.pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await w.terminate();
  }
}
