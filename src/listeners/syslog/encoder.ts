// Frames → event JSON, on the parser thread (SYSLOG_PARSER_THREAD) or on the main thread.
//
//   listener (main thread) ── batch of frames: one ArrayBuffer + offsets, transferred ──► parser thread
//                          ◄── the batch's events, same order ────────────────────────────┘
//
// Parsing and building the event are about 40 % of a message's cost on the main thread; moving them
// leaves it reading sockets and writing to Redis. Batches come back in the order they were sent (one
// thread, one message port), so events keep their order. The main thread keeps every batch until
// its events are back: if the thread fails, it parses them itself and goes on without the thread.
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

export interface EncoderOptions {
  /** The parser thread's script; undefined: parse on the calling thread. */
  threadUrl?: URL;
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

  constructor(o: EncoderOptions) {
    this.o = o;
    if (o.threadUrl) this.startThread(o.threadUrl);
  }

  /** True while a parser thread does the work. */
  get threaded(): boolean {
    return this.worker !== undefined;
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
    const w = this.worker;
    if (!w) return;
    const deadline = Date.now() + 5000;
    while (this.pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await w.terminate();
  }
}
