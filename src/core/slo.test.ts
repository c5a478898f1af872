import { describe, expect, it } from 'vitest';
import { classify, componentSlo, sloQueries } from './slo.ts';

describe('classify', () => {
  it.each([
    ['ingestor', { status: 'success', reason: '' }, 'good'],
    ['ingestor', { status: 'fail', reason: 'queue_full' }, 'bad'],
    ['ingestor', { status: 'fail', reason: 'redis_unavailable' }, 'bad'],
    ['ingestor', { status: 'fail', reason: 'internal' }, 'bad'],
    // MUTT 2.x ingestors' reasons for the same faults
    ['ingestor', { status: 'fail', reason: 'redis' }, 'bad'],
    ['ingestor', { status: 'fail', reason: 'unknown' }, 'bad'],
    // the sender's errors count neither way
    ['ingestor', { status: 'fail', reason: 'auth' }, undefined],
    ['ingestor', { status: 'fail', reason: 'invalid_json' }, undefined],
    ['ingestor', { status: 'fail', reason: 'too_large' }, undefined],
    ['ingestor', { status: 'fail', reason: 'rate_limit' }, undefined],
    ['forwarder', { status: 'success', reason: '' }, 'good'],
    ['forwarder', { status: 'fail', reason: 'http_503' }, 'bad'],
    ['forwarder', { status: 'fail', reason: 'auth' }, 'bad'],
  ] as const)('%s %j → %s', (component, labels, expected) => {
    expect(classify(component, labels)).toBe(expected);
  });
});

describe('componentSlo', () => {
  it("reproduces MUTT 2.5's example: 99.9% against 99.5% burns 0.2 of the budget", () => {
    expect(componentSlo(0.995, 24, { good: 999, bad: 1 })).toEqual({
      target: 0.995,
      availability: 0.999,
      error_budget_remaining: 0.8,
      burn_rate: 0.2,
      state: 'ok',
      window_hours: 24,
      good: 999,
      total: 1000,
    });
  });
  it('states: burn rate ≤ 1 ok, ≤ 2 warn, > 2 critical; the budget goes negative once overspent', () => {
    expect(componentSlo(0.99, 24, { good: 99, bad: 1 }).state).toBe('ok'); // burn 1
    const warn = componentSlo(0.99, 24, { good: 985, bad: 15 });
    expect(warn).toMatchObject({ state: 'warn', burn_rate: 1.5, error_budget_remaining: -0.5 });
    expect(componentSlo(0.99, 24, { good: 97, bad: 3 })).toMatchObject({ state: 'critical', burn_rate: 3 });
  });
  it('says no_data when nothing was measured', () => {
    expect(componentSlo(0.99, 6, { good: 0, bad: 0 })).toMatchObject({
      availability: null,
      burn_rate: null,
      error_budget_remaining: null,
      state: 'no_data',
      window_hours: 6,
      total: 0,
    });
  });
  it('rounds pro-rated counts to whole requests', () => {
    expect(componentSlo(0.5, 1, { good: 9.6, bad: 0.4 })).toMatchObject({
      good: 10,
      total: 10,
      availability: 1,
    });
  });
});

describe('sloQueries', () => {
  it('counts over the window, fleet-wide, with the same classification as the Redis counters', () => {
    expect(sloQueries('ingestor', 24)).toEqual({
      good: 'sum(increase(mutt_ingest_requests_total{status="success"}[24h])) or vector(0)',
      bad: 'sum(increase(mutt_ingest_requests_total{status="fail",reason=~"queue_full|redis_unavailable|internal|redis|unknown"}[24h])) or vector(0)',
    });
    expect(sloQueries('forwarder', 6).bad).toBe(
      'sum(increase(mutt_moog_requests_total{status!="success"}[6h])) or vector(0)',
    );
  });
});
