import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  classifyError,
  classifyStatus,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryOrGiveUp,
} from './retry-policy.ts';

const NOW = Date.parse('2026-11-24T12:00:00Z');

describe('classifyStatus', () => {
  // status, Retry-After → outcome, reason, breaker effect, extra
  const rows: [number, string | undefined, Record<string, unknown>][] = [
    [200, undefined, { outcome: 'delivered', breaker: 'success' }],
    [201, undefined, { outcome: 'delivered', breaker: 'success' }],
    // Python MUTT dead-letters 202; it means Moogsoft accepted the events.
    [202, undefined, { outcome: 'delivered', breaker: 'success' }],
    [204, undefined, { outcome: 'delivered', breaker: 'success' }],
    [429, undefined, { outcome: 'retry', reason: 'http_429', breaker: 'neutral' }],
    [429, '7', { outcome: 'retry', reason: 'http_429', breaker: 'neutral', retryAfterMs: 7000 }],
    [425, undefined, { outcome: 'retry', reason: 'http_425', breaker: 'neutral' }],
    [408, undefined, { outcome: 'retry', reason: 'http_408', breaker: 'failure' }],
    [500, undefined, { outcome: 'retry', reason: 'http_500', breaker: 'failure' }],
    [502, undefined, { outcome: 'retry', reason: 'http_502', breaker: 'failure' }],
    [503, '2', { outcome: 'retry', reason: 'http_503', breaker: 'failure', retryAfterMs: 2000 }],
    [504, undefined, { outcome: 'retry', reason: 'http_504', breaker: 'failure' }],
    [599, undefined, { outcome: 'retry', reason: 'http_5xx', breaker: 'failure' }],
    [
      400,
      undefined,
      { outcome: 'reject', reason: 'http_400', breaker: 'neutral', splittable: true, auth: false },
    ],
    [
      413,
      undefined,
      { outcome: 'reject', reason: 'http_413', breaker: 'neutral', splittable: true, auth: false },
    ],
    [
      422,
      undefined,
      { outcome: 'reject', reason: 'http_422', breaker: 'neutral', splittable: true, auth: false },
    ],
    [
      401,
      undefined,
      { outcome: 'reject', reason: 'auth', breaker: 'neutral', splittable: false, auth: true },
    ],
    [
      403,
      undefined,
      { outcome: 'reject', reason: 'auth', breaker: 'neutral', splittable: false, auth: true },
    ],
    [
      407,
      undefined,
      { outcome: 'reject', reason: 'auth', breaker: 'neutral', splittable: false, auth: true },
    ],
    [404, undefined, { outcome: 'reject', reason: 'http_404', breaker: 'neutral', splittable: false }],
    [405, undefined, { outcome: 'reject', reason: 'http_405', breaker: 'neutral', splittable: false }],
    [418, undefined, { outcome: 'reject', reason: 'http_4xx', breaker: 'neutral', splittable: false }],
    [301, undefined, { outcome: 'reject', reason: 'http_3xx', breaker: 'neutral', splittable: false }],
    [102, undefined, { outcome: 'retry', reason: 'http_other', breaker: 'failure' }],
  ];
  for (const [status, after, want] of rows) {
    it(`${status}${after ? ` Retry-After: ${after}` : ''} → ${String(want.outcome)} (${(want.reason as string | undefined) ?? ''})`, () => {
      const c = classifyStatus(status, after, NOW);
      expect(c).toMatchObject({ ...want, status });
      if (!('retryAfterMs' in want)) expect(c).not.toHaveProperty('retryAfterMs');
    });
  }
});

describe('classifyError', () => {
  const rows: [string, unknown, string][] = [
    [
      'our deadline',
      Object.assign(new Error('no complete answer'), { name: 'TimeoutError', code: 'ETIMEDOUT' }),
      'timeout',
    ],
    [
      'refused',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'connection_refused',
    ],
    ['reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'connection_reset'],
    ['hang up', new Error('socket hang up'), 'connection_reset'],
    ['broken pipe', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'connection_reset'],
    ['DNS', Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), 'dns'],
    [
      'unknown CA',
      Object.assign(new Error('unable to verify'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      'tls',
    ],
    ['self-signed', Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'tls'],
    ['wrong host', Object.assign(new Error('altname'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'tls'],
    ['anything else', new Error('???'), 'network'],
    ['not an error', undefined, 'network'],
  ];
  for (const [name, err, reason] of rows) {
    it(`${name} → retry (${reason}), a breaker failure`, () => {
      expect(classifyError(err)).toEqual({ outcome: 'retry', reason, breaker: 'failure' });
    });
  }
});

describe('parseRetryAfter', () => {
  const rows: [string | undefined, number | undefined][] = [
    [undefined, undefined],
    ['', undefined],
    ['soon', undefined],
    ['0', 0],
    ['5', 5000],
    ['1.5', 1500],
    [' 30 ', 30_000],
    ['Tue, 24 Nov 2026 12:00:10 GMT', 10_000],
    ['Tue, 24 Nov 2026 11:59:00 GMT', 0], // in the past: at once
    ['86400', MAX_RETRY_AFTER_MS], // a day: cut to the ceiling
  ];
  for (const [value, ms] of rows) {
    it(`${JSON.stringify(value)} → ${String(ms)}`, () => {
      expect(parseRetryAfter(value, NOW)).toBe(ms);
    });
  }
});

describe('backoffDelay (full jitter)', () => {
  const o = { baseMs: 1000, maxMs: 60_000 };
  // retries so far, random() → delay
  const rows: [number, number, number][] = [
    [0, 0.999999, 999],
    [1, 0.999999, 1999],
    [2, 0.5, 2000],
    [3, 0.999999, 7999],
    [5, 0.999999, 31_999],
    [6, 0.999999, 59_999], // 64 s capped at 60 s
    [40, 0.999999, 59_999], // no overflow
    [3, 0, 0], // full jitter reaches zero
  ];
  for (const [retries, r, want] of rows) {
    it(`after ${retries} retries with random ${r} → ${want} ms`, () => {
      expect(backoffDelay(retries, o, () => r)).toBe(want);
    });
  }

  it('honours Retry-After as a floor', () => {
    expect(backoffDelay(0, o, () => 0.5, 30_000)).toBe(30_000);
    expect(backoffDelay(6, o, () => 0.9, 1000)).toBe(54_000);
  });

  it('stays within [0, min(max, base·2^n)) for any random value', () => {
    for (let n = 0; n < 10; n++) {
      for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) {
        const d = backoffDelay(n, o, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(Math.min(o.maxMs, o.baseMs * 2 ** n));
      }
    }
  });
});

describe('retryOrGiveUp', () => {
  const rows: [number, number, 'retry' | 'dlq', 'retry' | 'retry_exhausted' | 'dlq'][] = [
    [0, 5, 'retry', 'retry'],
    [4, 5, 'retry', 'retry'],
    // More than MOOG_MAX_RETRIES retries: retried all the same, and reported (the default)…
    [5, 5, 'retry', 'retry_exhausted'],
    [90, 5, 'retry', 'retry_exhausted'],
    [0, 0, 'retry', 'retry_exhausted'],
    // …or dead-lettered as MUTT 2.x does (MOOG_RETRY_EXHAUSTED_MODE=dlq).
    [4, 5, 'dlq', 'retry'],
    [5, 5, 'dlq', 'dlq'],
    [9, 5, 'dlq', 'dlq'],
    [0, 0, 'dlq', 'dlq'], // MOOG_MAX_RETRIES=0: no retry at all
  ];
  for (const [sofar, max, mode, want] of rows) {
    it(`${sofar} retries so far, MOOG_MAX_RETRIES=${max}, MOOG_RETRY_EXHAUSTED_MODE=${mode} → ${want}`, () => {
      expect(retryOrGiveUp(sofar, max, mode)).toBe(want);
    });
  }
});
