// The gate between the syslog listeners and a full ingest queue. When a batch is refused at
// MAX_INGEST_QUEUE_SIZE (or Redis does not answer), the gate closes: TCP and TLS connections stop
// reading (their senders' TCP windows close) and keep what they have read. One poll loop reads the
// queue length and opens the gate once the queue is below the low-water mark (90% of the cap), so
// connections resume together instead of each retrying against a full queue. While Redis is
// unreachable the loop backs off (250 ms doubling to 1 s), so reading resumes within a second of
// Redis answering again.
import type { Redis } from 'ioredis';

export type GateReason = 'queue_full' | 'redis';

export interface GateOptions {
  redis: Pick<Redis, 'llen'>;
  queueKey: string;
  cap: number;
  /** Queue length below which a gate closed by a full queue opens again. */
  lowWater: number;
  onChange?: (closed: boolean, reason: GateReason | undefined) => void;
}

export class QueueGate {
  private readonly o: GateOptions;
  private reason?: GateReason;
  private waiters: ((opened: boolean) => void)[] = [];
  private timer?: NodeJS.Timeout;
  private delay = 100;
  private stopped = false;

  constructor(o: GateOptions) {
    this.o = o;
  }

  get closed(): boolean {
    return this.reason !== undefined;
  }

  get why(): GateReason | undefined {
    return this.reason;
  }

  close(reason: GateReason): void {
    if (this.stopped) return;
    if (this.reason === undefined) {
      this.reason = reason;
      this.delay = reason === 'redis' ? 250 : 100;
      this.o.onChange?.(true, reason);
      this.schedule();
    } else if (reason === 'redis') this.reason = reason;
  }

  /** Resolves true when the gate is (or becomes) open, false when the listener stops first. */
  wait(): Promise<boolean> {
    if (this.reason === undefined) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, this.delay);
  }

  private async poll(): Promise<void> {
    if (this.reason === undefined || this.stopped) return;
    try {
      const depth = await this.o.redis.llen(this.o.queueKey);
      const threshold = this.reason === 'queue_full' ? this.o.lowWater : this.o.cap;
      if (depth < threshold) {
        this.open();
        return;
      }
      this.delay = 100;
    } catch {
      this.reason = 'redis';
      this.delay = Math.min(1000, Math.max(250, this.delay * 2));
    }
    this.schedule();
  }

  private open(): void {
    this.reason = undefined;
    this.o.onChange?.(false, undefined);
    for (const w of this.waiters.splice(0)) w(true);
  }

  /** Stops polling; waiters learn that the gate will not open. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w(false);
  }

  /** Lets a stopping listener retry once more (tries the queue one last time before giving up). */
  async probe(): Promise<boolean> {
    try {
      const depth = await this.o.redis.llen(this.o.queueKey);
      return depth < this.o.cap;
    } catch {
      return false;
    }
  }
}
