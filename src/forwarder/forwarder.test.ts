import { describe, expect, it } from 'vitest';
import { pythonAlert } from '../../test/fixtures/alerts.ts';
import { type Alert, parseAlert } from './alert.ts';
import { batchesOf } from './forwarder.ts';

const alert = (i: number, size = 0): Alert => {
  const p = parseAlert(JSON.stringify(pythonAlert(i, size ? { message_body: 'x'.repeat(size) } : {})));
  if (!p.ok) throw new Error(p.reason);
  return p.alert;
};
const shape = (bs: Alert[][]) => bs.map((b) => b.length);
const big = alert(0, 3000).raw.length;

describe('batchesOf', () => {
  // alerts (count × size in bytes), MOOG_BATCH_SIZE, byte budget → batch sizes
  const rows: [string, Alert[], number, number, number[]][] = [
    ['none', [], 100, 1000, []],
    ['fewer than a batch', Array.from({ length: 3 }, (_, i) => alert(i)), 100, 1e9, [3]],
    ['by count', Array.from({ length: 250 }, (_, i) => alert(i)), 100, 1e9, [100, 100, 50]],
    ['single-object mode', Array.from({ length: 3 }, (_, i) => alert(i)), 1, 1e9, [1, 1, 1]],
    ['by bytes', Array.from({ length: 10 }, (_, i) => alert(i, 3000)), 100, big * 3.5, [3, 3, 3, 1]],
    [
      'an alert larger than the budget still goes, alone',
      [alert(1, 50_000), alert(2), alert(3)],
      100,
      10_000,
      [1, 2],
    ],
  ];
  for (const [name, alerts, max, bytes, want] of rows) {
    it(name, () => {
      const b = batchesOf(alerts, max, bytes);
      expect(shape(b)).toEqual(want);
      expect(b.flat()).toEqual(alerts); // nothing lost, order kept
    });
  }
});
