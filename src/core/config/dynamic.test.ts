import { describe, expect, it } from 'vitest';
import { DYNAMIC_KEYS, validateDynamic } from './dynamic.ts';

describe('validateDynamic: SLO keys', () => {
  it.each([
    ['slo_ingest_success_target', '0.995', '0.995'],
    ['slo_ingest_success_target', ' .999 ', '0.999'],
    ['slo_forward_success_target', '9.9e-1', '0.99'],
    ['slo_window_hours', '168', '168'],
  ])('%s = %j is accepted as %j', (key, value, clean) => {
    expect(validateDynamic(key, value)).toEqual({ ok: true, value: clean });
  });

  it.each([
    ['slo_ingest_success_target', '1'],
    ['slo_ingest_success_target', '1.0'],
    ['slo_ingest_success_target', '0'],
    ['slo_ingest_success_target', '-0.1'],
    ['slo_ingest_success_target', '99.5'],
    ['slo_ingest_success_target', '99.5%'],
    ['slo_forward_success_target', 'NaN'],
    ['slo_forward_success_target', 'Infinity'],
    ['slo_forward_success_target', ''],
    ['slo_window_hours', '0'],
    ['slo_window_hours', '721'],
    ['slo_window_hours', '1.5'],
  ])('%s = %j is rejected with the reason', (key, value) => {
    const r = validateDynamic(key, value);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain(
        `${key}: "${value}" is not ${DYNAMIC_KEYS[key as keyof typeof DYNAMIC_KEYS].expected}`,
      );
    }
  });

  it('falls back to the static variables, or their defaults for a service that does not carry them', () => {
    const c = { SLO_WINDOW_HOURS: 12 } as never;
    expect(DYNAMIC_KEYS.slo_window_hours.fallback(c)).toBe(12);
    expect(DYNAMIC_KEYS.slo_ingest_success_target.fallback(c)).toBe(0.995);
    expect(DYNAMIC_KEYS.slo_forward_success_target.fallback(c)).toBe(0.99);
  });
});
