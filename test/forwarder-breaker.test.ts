// The shared circuit breaker (breaker-5.lua) against a real Redis, with an injected clock: every
// transition of the state machine, the single half-open probe, its lease, and a Python MUTT 2.x node's
// view of the same keys.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BreakerReply, CircuitBreaker, probeTimeoutMs } from '../src/forwarder/breaker.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => svc.cleanup());
beforeEach(async () => {
  const k = svc.keys;
  await svc.redis.del(
    k.breakerState,
    k.breakerFailures,
    k.breakerOpenTime,
    k.breakerProbe,
    k.breakerProbeFailures,
  );
});

let now = 1_800_000_000_000;
const breaker = (
  holder: string,
  o: { threshold?: number; initialTimeoutMs?: number; maxTimeoutMs?: number } = {},
) =>
  new CircuitBreaker({
    redis: svc.redis,
    keys: svc.keys,
    threshold: o.threshold ?? 3,
    initialTimeoutMs: o.initialTimeoutMs ?? 10_000,
    maxTimeoutMs: o.maxTimeoutMs ?? 10_000,
    probeLeaseMs: 2000,
    holder,
    now: () => now,
  });
const state = () => svc.redis.get(svc.keys.breakerState);
const brief = (r: BreakerReply) => ({
  state: r.state,
  permit: r.permit,
  transition: r.transition ? `${r.transition.from}>${r.transition.to}` : '',
});

describe('circuit breaker state machine', () => {
  it('walks CLOSED → OPEN → HALF_OPEN → CLOSED, one step per row', async () => {
    const a = breaker('a');
    const b = breaker('b');
    // Every opening below falls on a whole second: its timeout is 10 s × 0.75 (probeTimeoutMs).
    now = 1_800_000_000_000;
    // [who, operation, clock advance ms, expected reply]
    const steps: [CircuitBreaker, 'acquire' | 'success' | 'failure', number, ReturnType<typeof brief>][] = [
      [a, 'acquire', 0, { state: 'CLOSED', permit: 1, transition: '' }],
      [a, 'failure', 0, { state: 'CLOSED', permit: 0, transition: '' }],
      [b, 'failure', 0, { state: 'CLOSED', permit: 0, transition: '' }],
      // a success resets the count of consecutive failures
      [a, 'success', 0, { state: 'CLOSED', permit: 0, transition: '' }],
      [a, 'failure', 0, { state: 'CLOSED', permit: 0, transition: '' }],
      [b, 'failure', 0, { state: 'CLOSED', permit: 0, transition: '' }],
      [a, 'failure', 0, { state: 'OPEN', permit: 0, transition: 'CLOSED>OPEN' }],
      // open: nobody sends, and late failures change nothing
      [b, 'acquire', 1000, { state: 'OPEN', permit: 0, transition: '' }],
      [b, 'failure', 0, { state: 'OPEN', permit: 0, transition: '' }],
      [a, 'acquire', 6499, { state: 'OPEN', permit: 0, transition: '' }],
      // the timeout has passed: the first caller becomes the probe, the other waits
      [b, 'acquire', 1, { state: 'HALF_OPEN', permit: 2, transition: 'OPEN>HALF_OPEN' }],
      [a, 'acquire', 0, { state: 'HALF_OPEN', permit: 0, transition: '' }],
      // the probe failed: open again, for twice the timeout at most (here CIRCUIT_BREAKER_TIMEOUT)
      [b, 'failure', 500, { state: 'OPEN', permit: 0, transition: 'HALF_OPEN>OPEN' }],
      [a, 'acquire', 7499, { state: 'OPEN', permit: 0, transition: '' }],
      [a, 'acquire', 1, { state: 'HALF_OPEN', permit: 2, transition: 'OPEN>HALF_OPEN' }],
      // the probe succeeded: closed, count reset
      [a, 'success', 0, { state: 'CLOSED', permit: 0, transition: 'HALF_OPEN>CLOSED' }],
      [b, 'acquire', 0, { state: 'CLOSED', permit: 1, transition: '' }],
    ];
    for (const [i, [who, op, advance, want]] of steps.entries()) {
      now += advance;
      const r = op === 'acquire' ? await who.acquire() : await who.record(op);
      expect(brief(r), `step ${i}: ${op}`).toEqual(want);
    }
    expect(await svc.redis.get(svc.keys.breakerFailures)).toBe('0');
  });

  it('backs its probes off: about 1 s, 2 s, 4 s, then every 8 s while Moogsoft stays down; a success resets it', async () => {
    now = 1_800_000_050_000;
    const backoff = breaker('a', { initialTimeoutMs: 1000, maxTimeoutMs: 8000 });
    for (let i = 0; i < 2; i++) await backoff.record('failure');
    expect((await backoff.record('failure')).waitMs).toBe(probeTimeoutMs(0, 1000, 8000, now));
    const waits: number[] = [];
    for (let probe = 0; probe < 6; probe++) {
      const opened = now;
      // Just before the timeout: still open, and peek agrees with the script.
      const before = await backoff.acquire();
      expect(before.permit).toBe(0);
      expect(before.waitMs).toBe(probeTimeoutMs(probe, 1000, 8000, opened));
      expect((await backoff.peek()).openForMs).toBe(before.waitMs);
      now = opened + before.waitMs - 1;
      expect((await backoff.acquire()).permit).toBe(0);
      now += 1;
      expect((await backoff.acquire()).permit).toBe(2);
      waits.push(now - opened);
      // The probe takes a while (an odd number of milliseconds) and fails.
      now += 137;
      const r = await backoff.record('failure');
      expect(r.transition).toEqual({ from: 'HALF_OPEN', to: 'OPEN' });
    }
    // Doubling to the maximum, each wait shortened by up to a quarter, never beyond the maximum.
    [1000, 2000, 4000, 8000, 8000, 8000].forEach((nominal, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(nominal * 0.75);
      expect(waits[i]).toBeLessThanOrEqual(nominal);
    });
    // …and not all the same: probes do not fall into step with a regularly flapping Moogsoft.
    expect(new Set(waits.slice(3)).size).toBeGreaterThan(1);
    expect(await svc.redis.get(svc.keys.breakerProbeFailures)).toBe('6');
    // The next probe succeeds: closed, and the next opening starts from the initial timeout again.
    now += 8000;
    expect((await backoff.acquire()).permit).toBe(2);
    expect((await backoff.record('success')).state).toBe('CLOSED');
    expect(await svc.redis.exists(svc.keys.breakerProbeFailures)).toBe(0);
    for (let i = 0; i < 3; i++) await backoff.record('failure');
    expect((await backoff.acquire()).waitMs).toBe(probeTimeoutMs(0, 1000, 8000, now));
  });

  it('forgets the probe backoff of an episode another implementation closed', async () => {
    now = 1_800_000_060_000;
    const backoff = breaker('a', { threshold: 1, initialTimeoutMs: 100, maxTimeoutMs: 400 });
    await backoff.record('failure');
    now += 100;
    expect((await backoff.acquire()).permit).toBe(2);
    await backoff.record('failure');
    expect(await svc.redis.get(svc.keys.breakerProbeFailures)).toBe('1');
    // The count lives four maximum timeouts (in Redis time) after the last failed probe.
    expect(await svc.redis.pttl(svc.keys.breakerProbeFailures)).toBeGreaterThan(1500);
    expect(await svc.redis.pttl(svc.keys.breakerProbeFailures)).toBeLessThanOrEqual(1600);
  });

  it('says how long to wait while open', async () => {
    now = 1_800_000_100_000; // a whole second: the timeout is 7.5 s
    const a = breaker('a');
    for (let i = 0; i < 3; i++) await a.record('failure');
    now += 4000;
    const r = await a.acquire();
    expect(r.permit).toBe(0);
    expect(r.waitMs).toBe(3500);
    expect(await a.peek()).toEqual({ state: 'OPEN', openForMs: 3500 });
  });

  it('writes the PROTOCOL.md keys as Python MUTT 2.x reads them', async () => {
    now = 1_800_000_200_500;
    const a = breaker('a');
    for (let i = 0; i < 3; i++) await a.record('failure');
    expect(await state()).toBe('OPEN');
    expect(await svc.redis.get(svc.keys.breakerFailures)).toBe('3');
    expect(await svc.redis.get(svc.keys.breakerOpenTime)).toBe('1800000200.500');
  });

  it('follows a breaker a Python node opened (open_time in epoch seconds)', async () => {
    now = 1_800_000_300_000;
    await svc.redis.set(svc.keys.breakerState, 'OPEN');
    await svc.redis.set(svc.keys.breakerOpenTime, String(now / 1000 - 7)); // 7.5 s timeout
    const a = breaker('a');
    expect((await a.acquire()).permit).toBe(0);
    now += 500;
    expect(brief(await a.acquire())).toEqual({ state: 'HALF_OPEN', permit: 2, transition: 'OPEN>HALF_OPEN' });
  });

  it('hands the probe to another forwarder when the prober vanished (lease expiry)', async () => {
    now = 1_800_000_400_000;
    const a = breaker('a');
    const b = breaker('b');
    for (let i = 0; i < 3; i++) await a.record('failure');
    now += 10_000;
    expect((await a.acquire()).permit).toBe(2); // a probes, then dies without a verdict
    expect((await b.acquire()).permit).toBe(0);
    await new Promise((r) => setTimeout(r, 2100)); // the lease lives in Redis time
    expect((await b.acquire()).permit).toBe(2);
  });

  it('a neutral answer (429, 4xx) gives the probe lease back without a verdict', async () => {
    now = 1_800_000_500_000;
    const a = breaker('a');
    const b = breaker('b');
    for (let i = 0; i < 3; i++) await a.record('failure');
    now += 10_000;
    expect((await a.acquire()).permit).toBe(2);
    expect(brief(await a.record('neutral'))).toEqual({ state: 'HALF_OPEN', permit: 0, transition: '' });
    expect((await b.acquire()).permit).toBe(2);
  });

  it('neutral answers never touch the failure count', async () => {
    now = 1_800_000_600_000;
    const a = breaker('a');
    await a.record('failure');
    for (let i = 0; i < 10; i++) await a.record('neutral');
    expect(await svc.redis.get(svc.keys.breakerFailures)).toBe('1');
    expect(await state()).toBeNull();
  });

  it('trusts a CLOSED answer for closedCacheMs, then asks Redis again', async () => {
    now = 1_800_000_700_000;
    const cached = new CircuitBreaker({
      redis: svc.redis,
      keys: svc.keys,
      threshold: 3,
      initialTimeoutMs: 10_000,
      maxTimeoutMs: 10_000,
      probeLeaseMs: 2000,
      holder: 'c',
      closedCacheMs: 100,
      now: () => now,
    });
    expect((await cached.acquire()).state).toBe('CLOSED');
    // Another node opens the breaker: within the cache window this node still sends…
    await svc.redis.set(svc.keys.breakerState, 'OPEN');
    await svc.redis.set(svc.keys.breakerOpenTime, String(now / 1000));
    now += 50;
    expect((await cached.acquire()).permit).toBe(1);
    // …and after it, it sees the open breaker.
    now += 51;
    expect(brief(await cached.acquire())).toEqual({ state: 'OPEN', permit: 0, transition: '' });
  });

  it('reports successes of a closed breaker at most once per closedCacheMs', async () => {
    now = 1_800_000_800_000;
    const cached = new CircuitBreaker({
      redis: svc.redis,
      keys: svc.keys,
      threshold: 3,
      initialTimeoutMs: 10_000,
      maxTimeoutMs: 10_000,
      probeLeaseMs: 2000,
      holder: 'c',
      closedCacheMs: 100,
      now: () => now,
    });
    await cached.acquire();
    await svc.redis.set(svc.keys.breakerFailures, '2'); // another node's failures
    await cached.record('success'); // the first success is reported: the count resets
    expect(await svc.redis.get(svc.keys.breakerFailures)).toBe('0');
    await svc.redis.set(svc.keys.breakerFailures, '2');
    now += 50;
    await cached.record('success'); // within the window: not sent
    expect(await svc.redis.get(svc.keys.breakerFailures)).toBe('2');
    now += 60;
    await cached.record('success');
    expect(await svc.redis.get(svc.keys.breakerFailures)).toBe('0');
    // Failures are always reported, and a transition ends the trust at once.
    await cached.record('failure');
    await cached.record('failure');
    expect(brief(await cached.record('failure'))).toEqual({
      state: 'OPEN',
      permit: 0,
      transition: 'CLOSED>OPEN',
    });
    expect((await cached.acquire()).permit).toBe(0);
  });
});
