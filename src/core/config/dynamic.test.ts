import { describe, expect, it } from 'vitest';
import { loadConfigOrThrow } from '../../runtime/config/load.ts';
import { validateDynamic } from './dynamic.ts';

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
