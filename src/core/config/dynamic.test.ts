import { describe, expect, it } from 'vitest';
import { loadConfigOrThrow } from '../../runtime/config/load.ts';
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

const config = loadConfigOrThrow({ ALERTER_BATCH_SIZE: '200' }, { defaultEnvFile: '/nonexistent' });

describe('validateDynamic', () => {
  // Each row: key, value → the error (or the value stored).
  const rows: [string, string, { error: string } | { value: string }][] = [
    [
      'alerter_queue_shed_threshold',
      '199',
      {
        error:
          'alerter_queue_shed_threshold: "199": expected at least ALERTER_BATCH_SIZE (200): one batch can add that many alerts, so a lower threshold defers or sheds after every batch',
      },
    ],
    [
      'alerter_queue_shed_threshold',
      '0',
      {
        error:
          'alerter_queue_shed_threshold: "0": expected at least ALERTER_BATCH_SIZE (200); 0 would defer or shed every batch, whatever the alert queue holds',
      },
    ],
    [
      'alerter_queue_shed_threshold',
      '-5',
      { error: 'alerter_queue_shed_threshold: "-5" is not an integer >= ALERTER_BATCH_SIZE' },
    ],
    ['alerter_queue_shed_threshold', ' 200 ', { value: '200' }],
    ['alerter_shed_mode', 'DLQ', { value: 'dlq' }],
  ];
  for (const [key, value, want] of rows) {
    it(`${key}=${JSON.stringify(value)} → ${'error' in want ? 'refused' : want.value}`, () => {
      const r = validateDynamic(key, value, config);
      if ('error' in want) expect(r).toEqual({ ok: false, error: want.error });
      else expect(r).toEqual({ ok: true, value: want.value });
    });
  }
});
