// Events a UDP listener (syslog, SNMP traps) has read while Redis was unreachable. UDP cannot slow its
// senders down, so they are kept in memory up to a bound (SYSLOG_PENDING_MAX_EVENTS,
// SNMP_PENDING_MAX_EVENTS), retried with capped backoff, and handed to the shared enqueuer in the
// order they were received; what does not fit is shed and counted. A listener that stops gives them
// its shutdown grace, then gives them up (counted and logged by the listener).
import type { Enqueuer, EnqueueOutcome } from './enqueue.ts';

/** Held events per retry call. */
const RETRY_BATCH = 5000;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 1000;

export interface HeldEventsOptions {
  enqueuer: Enqueuer;
  /** Most events held. */
  max: number;
  /** Counts a retry as a hand-off of the listener (its stop waits for hand-offs). */
  track(p: Promise<void>): void;
  /** Redis answered a batch of held events (queued, or refused at the ingest-queue cap). */
  settled(outcome: EnqueueOutcome, n: number): void;
  /** `n` events were shed because `held` events already fill the buffer. */
  shed(n: number, held: number): void;
  /** The first event is held after none were: Redis has become unreachable. */
  holding(): void;
  /** Everything held has been queued. */
  recovered(): void;
  /** The number of events held changed. */
  depth(n: number): void;
  /** `n` held events were given up at shutdown (the grace ran out with Redis still unreachable). */
  lost(n: number): void;
}

export class HeldEvents {
  private readonly o: HeldEventsOptions;
  private items: string[] = [];
  private timer?: NodeJS.Timeout;
  private delay = FIRST_DELAY_MS;
  private retrying = false;
  private closing = false;
  private abandoned = false;
  /** Events of the retry push in flight (still in `items` until Redis answers). */
  private pushing = 0;

  constructor(o: HeldEventsOptions) {
    this.o = o;
  }

  get size(): number {
    return this.items.length;
  }

  /** Keeps events (after those already held) and schedules a retry; sheds what does not fit. */
  hold(items: readonly string[]): void {
    if (items.length === 0) return;
    if (this.items.length === 0) this.o.holding();
    const room = Math.max(0, this.o.max - this.items.length);
    if (items.length > room) this.o.shed(items.length - room, this.items.length);
    for (let k = 0; k < Math.min(room, items.length); k++) this.items.push(items[k]!);
    this.o.depth(this.items.length);
    this.schedule();
  }

  /** The listener is stopping: no more timed retries; it calls retryNow() until its grace runs out. */
  close(): void {
    this.closing = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Tries now, unless a try is already running. */
  retryNow(): void {
    if (this.items.length > 0 && !this.retrying) this.o.track(this.retry());
  }

  /**
   * Gives up what is still held (reported through `lost`). A retry push already in flight is not
   * counted here: it is queued if Redis answers it, and reported lost if it fails.
   */
  abandon(): void {
    this.close();
    this.abandoned = true;
    const n = this.items.length - this.pushing;
    this.items = [];
    if (n > 0) {
      this.o.depth(0);
      this.o.lost(n);
    }
  }

  private schedule(): void {
    if (this.closing || this.timer || this.items.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.o.track(this.retry());
    }, this.delay);
  }

  private async retry(): Promise<void> {
    // One retry loop at a time: two would push the same held events twice.
    if (this.retrying) return;
    this.retrying = true;
    try {
      while (this.items.length > 0) {
        const batch = this.items.slice(0, RETRY_BATCH);
        let outcome: EnqueueOutcome;
        this.pushing = batch.length;
        try {
          outcome = await this.o.enqueuer.push(batch, { bestEffort: true });
        } catch {
          this.pushing = 0;
          if (this.abandoned) {
            this.o.lost(batch.length);
            return;
          }
          this.delay = Math.min(MAX_DELAY_MS, this.delay * 2);
          this.schedule();
          return;
        }
        this.pushing = 0;
        this.items = this.items.slice(batch.length);
        this.o.depth(this.items.length);
        this.o.settled(outcome, batch.length);
      }
      this.delay = FIRST_DELAY_MS;
      if (!this.abandoned) this.o.recovered();
    } finally {
      this.retrying = false;
    }
  }
}
