import { describe, expect, it } from 'vitest';
import { REQUEST_FAILURE_REASONS } from './metrics.ts';
import { classifyError, classifyStatus } from './retry-policy.ts';

describe('REQUEST_FAILURE_REASONS', () => {
  it('holds every reason the retry policy gives a failed request', () => {
    const known = new Set<string>(REQUEST_FAILURE_REASONS);
    for (let status = 100; status <= 599; status++) {
      const c = classifyStatus(status);
      if (c.outcome !== 'delivered') expect(known.has(c.reason), `HTTP ${status} → ${c.reason}`).toBe(true);
    }
    const errors = [
      Object.assign(new Error('t'), { name: 'TimeoutError' }),
      Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
      Object.assign(new Error('x'), { code: 'ENOTFOUND' }),
      Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' }),
      Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }),
    ];
    for (const e of errors) expect(known.has(classifyError(e).reason), e.message).toBe(true);
  });
});
