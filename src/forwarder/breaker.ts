// The Moogsoft circuit breaker: a thin client of the shared state machine in breaker-5.lua (its header
// draws the states). The state lives in the PROTOCOL.md keys, so every forwarder on the Redis — this
// node's workers, other MUTT nodes, Python MUTT 2.x — sees one breaker. The clock is injected.
//
// Half-open probes back off: the breaker stays open CIRCUIT_BREAKER_INITIAL_TIMEOUT before the first
// probe, twice as long after each probe that failed, at most CIRCUIT_BREAKER_TIMEOUT (each wait
// shortened by up to a quarter, so probes do not fall into step with a regularly flapping Moogsoft).
// So delivery resumes within seconds of a short outage, and within CIRCUIT_BREAKER_TIMEOUT of a long
// one, with about one request per timeout reaching a Moogsoft that is down.
import type { Keys } from '../core/protocol/keys.ts';
import type { ScriptedRedis } from '../core/protocol/scripts.ts';
import type { BreakerEffect } from './retry-policy.ts';

export const BREAKER_STATES = ['CLOSED', 'OPEN', 'HALF_OPEN'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];
/** `mutt_circuit_breaker_state` values. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { CLOSED: 0, OPEN: 1, HALF_OPEN: 2 };

export interface BreakerReply {
  state: BreakerState;
  /** acquire: 0 wait, 1 send, 2 send as the half-open probe. */
  permit: 0 | 1 | 2;
  /** The transition this call made, if any. */
  transition?: { from: BreakerState; to: BreakerState };
  waitMs: number;
}

export interface CircuitBreakerOptions {
  redis: ScriptedRedis;
  keys: Pick<
    Keys,
    'breakerState' | 'breakerFailures' | 'breakerOpenTime' | 'breakerProbe' | 'breakerProbeFailures'
  >;
  threshold: number;
  /** How long the breaker stays open before the first probe (CIRCUIT_BREAKER_INITIAL_TIMEOUT). */
  initialTimeoutMs: number;
  /** The longest it stays open between probes (CIRCUIT_BREAKER_TIMEOUT). */
  maxTimeoutMs: number;
  /** How long a probe may take before another forwarder may probe instead. */
  probeLeaseMs: number;
  /** Unique id of this forwarder (its pod). */
  holder: string;
  /**
   * Trust a CLOSED answer this long without asking Redis again, and report successes of a closed
   * breaker at most this often (0: ask every time). At hundreds of requests a second this saves two
   * Redis round trips per request; the cost is at most this long of sending after another node
   * opened the breaker — no worse than a request already in flight when it opened.
   */
  closedCacheMs?: number;
  now?: () => number;
}

/**
 * How long the breaker stays open after `failedProbes` probes failed, for a breaker that opened at
 * `openedMs` (as breaker-5.lua computes it): initial · 2^n, at most the maximum, shortened by up to a
 * quarter by a fraction read off the milliseconds of the opening time, so probes do not fall into
 * step with a Moogsoft that flaps at a regular period.
 */
export function probeTimeoutMs(
  failedProbes: number,
  initialMs: number,
  maxMs: number,
  openedMs: number,
): number {
  const t = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(0, failedProbes), 40));
  return Math.floor(t * (0.75 + (0.25 * (Math.round(openedMs) % 1000)) / 1000));
}

const asState = (s: string): BreakerState =>
  (BREAKER_STATES as readonly string[]).includes(s) ? (s as BreakerState) : 'CLOSED';

export class CircuitBreaker {
  private readonly o: CircuitBreakerOptions;
  private readonly now: () => number;
  private readonly cacheMs: number;
  /** Until when the last answer (CLOSED) is trusted. */
  private closedUntil = 0;
  private lastSuccessReport = Number.NEGATIVE_INFINITY;

  constructor(o: CircuitBreakerOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.cacheMs = o.closedCacheMs ?? 0;
  }

  private remember(r: BreakerReply): BreakerReply {
    this.closedUntil = r.state === 'CLOSED' && this.cacheMs > 0 ? this.now() + this.cacheMs : 0;
    return r;
  }

  private get knownClosed(): boolean {
    return this.now() < this.closedUntil;
  }

  private async call(op: 'acquire' | 'success' | 'failure' | 'release'): Promise<BreakerReply> {
    const { redis, keys, threshold, initialTimeoutMs, maxTimeoutMs, probeLeaseMs, holder } = this.o;
    const [state, permit, transition, waitMs] = await redis.muttBreaker(
      keys.breakerState,
      keys.breakerFailures,
      keys.breakerOpenTime,
      keys.breakerProbe,
      keys.breakerProbeFailures,
      op,
      Math.round(this.now()),
      threshold,
      maxTimeoutMs,
      probeLeaseMs,
      holder,
      initialTimeoutMs,
    );
    const reply: BreakerReply = {
      state: asState(state),
      permit: permit === 1 || permit === 2 ? permit : 0,
      waitMs: Number(waitMs),
    };
    if (transition) {
      const [from, to] = transition.split('>');
      reply.transition = { from: asState(from ?? ''), to: asState(to ?? '') };
    }
    return reply;
  }

  /** May a request go out now? permit 0 means wait about waitMs and ask again. */
  async acquire(): Promise<BreakerReply> {
    if (this.knownClosed) return { state: 'CLOSED', permit: 1, waitMs: 0 };
    return this.remember(await this.call('acquire'));
  }

  /** Reports what a request's answer said about Moogsoft (neutral gives a probe lease back). */
  async record(effect: BreakerEffect): Promise<BreakerReply> {
    if (effect === 'neutral') {
      // Only a probe holds a lease, and a probe is never sent while the breaker is known closed.
      if (this.knownClosed) return { state: 'CLOSED', permit: 0, waitMs: 0 };
      return this.remember(await this.call('release'));
    }
    if (effect === 'success' && this.knownClosed) {
      if (this.now() - this.lastSuccessReport < this.cacheMs)
        return { state: 'CLOSED', permit: 0, waitMs: 0 };
      this.lastSuccessReport = this.now();
    }
    return this.remember(await this.call(effect));
  }

  /** Gives back a probe lease unused (shutting down). */
  release(): Promise<BreakerReply> {
    return this.call('release');
  }

  /** The state without changing it, and how long an OPEN breaker stays open (read-only). */
  async peek(): Promise<{ state: BreakerState; openForMs: number }> {
    if (this.knownClosed) return { state: 'CLOSED', openForMs: 0 };
    const { keys } = this.o;
    const [state, openTime, probes] = await this.o.redis.mget(
      keys.breakerState,
      keys.breakerOpenTime,
      keys.breakerProbeFailures,
    );
    const s = asState(state ?? 'CLOSED');
    if (s !== 'OPEN') return { state: s, openForMs: 0 };
    const opened = Number(openTime) * 1000;
    if (openTime === null || !Number.isFinite(opened)) return { state: s, openForMs: 0 };
    const failed = Number(probes ?? 0) || 0;
    const left =
      opened + probeTimeoutMs(failed, this.o.initialTimeoutMs, this.o.maxTimeoutMs, opened) - this.now();
    return { state: s, openForMs: Math.max(0, Math.ceil(left)) };
  }
}
