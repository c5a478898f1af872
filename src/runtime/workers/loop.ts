// The one shape of every long-running loop (alerter, forwarder, remediation, janitors):
// - run() refuses to start twice;
// - the body loops until close() is called, and every wait is abortable;
// - transient failures (Redis or PostgreSQL unreachable) are retried with capped backoff and logged
//   at most once per interval; anything else propagates and the worker is restarted by its supervisor;
// - close() is idempotent (it returns the same promise) and runs cleanup steps in order, each
//   guarded, after the body has finished the batch in hand.
import type { Logger } from '../logging.ts';
import { LogLimiter } from '../logging.ts';
import { abortableSleep } from '../sleep.ts';

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01', // PostgreSQL admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '25006', // read_only_sql_transaction: the primary became a replica (failover)
  'MUTT_NO_PRIMARY', // no member of DB_HOST accepts writes yet (runtime/pg-primary.ts)
  // A refused password or certificate: fixed on the server or in the secrets (a rotation, Vault, a
  // SIGHUP) without restarting MUTT; connections keep trying meanwhile.
  '28P01',
  '28000',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/** Connection-level failures worth waiting out (as opposed to bugs and bad data). */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && TRANSIENT_CODES.has(e.code)) return true;
  const m = e.message ?? '';
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    /^(WRONGPASS|NOAUTH)\b|Connection is closed|Stream isn't writeable|connect ECONNREFUSED|Connection terminated|timeout exceeded when trying to connect|LOADING|READONLY|MASTERDOWN|UNBLOCKED|Client network socket disconnected|Command timed out|is not queryable|the database system is (starting up|shutting down)/i.test(
      m,
    )
  );
}

export abstract class Loop {
  protected readonly log: Logger;
  protected readonly abort = new AbortController();
  private running?: Promise<void>;
  private closing?: Promise<void>;
  private readonly limiter = new LogLimiter(30_000);

  constructor(log: Logger) {
    this.log = log;
  }

  get closed(): boolean {
    return this.abort.signal.aborted;
  }

  run(): Promise<void> {
    if (this.running) throw new Error(`${this.constructor.name} is already running`);
    this.running = this.main();
    return this.running;
  }

  /** The loop body: `while (!this.closed) { … }`. */
  protected abstract main(): Promise<void>;

  /** Cleanup steps, run in order after the body finished; each is guarded. */
  protected cleanupSteps(): [string, () => Promise<unknown>][] {
    return [];
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort(new Error('closing'));
      try {
        await this.running;
      } catch (err) {
        this.log.error({ err }, 'loop ended with an error');
      }
      for (const [name, step] of this.cleanupSteps()) {
        try {
          await step();
        } catch (err) {
          this.log.warn({ step: name, err: (err as Error).message }, 'cleanup step failed');
        }
      }
    })();
    return this.closing;
  }

  /** Sleeps unless closing; resolves early (without throwing) when close() is called. */
  protected async sleep(ms: number): Promise<void> {
    await abortableSleep(ms, this.abort.signal).catch(() => {});
  }

  /**
   * Runs `fn`, waiting out transient failures with capped exponential backoff (logged at most every
   * 30 s per `what`). Returns undefined when closed while waiting. Other errors propagate.
   *
   * `finish: true` marks a step that completes work already done (acknowledging what was delivered,
   * recording an outcome): it runs even while closing and keeps retrying until it succeeds, since
   * skipping it would redo the work; the supervisor's stop deadline bounds the wait.
   */
  protected async retryIfFailed<T>(
    what: string,
    fn: () => Promise<T>,
    opts: { finish?: boolean } = {},
  ): Promise<T | undefined> {
    const finish = opts.finish === true;
    for (let attempt = 0; finish || !this.closed; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isTransient(err) || (this.closed && !finish)) throw err;
        const delay = Math.min(2000, 100 * 2 ** Math.min(attempt, 6));
        const suppressed = this.limiter.take(what);
        if (suppressed >= 0) {
          this.log.warn(
            { err: (err as Error).message, retry_in_ms: delay, suppressed },
            `${what} failed; retrying`,
          );
        }
        // An abortable sleep returns at once while closing; a finishing step must really wait.
        if (finish && this.closed) await new Promise((r) => setTimeout(r, delay));
        else await this.sleep(delay);
      }
    }
    return undefined;
  }
}
