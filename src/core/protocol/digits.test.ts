import { describe, expect, it } from 'vitest';
import { daysIn, digitsAt, isoMillisZMs } from './digits.ts';

describe('digitsAt', () => {
  it.each([
    ['2026-12-07', 0, 4, 2026],
    ['2026-12-07', 5, 2, 12],
    ['2026-12-07', 4, 2, -1],
    ['ab', 0, 2, -1],
  ])('%s at %i, %i digits → %i', (s, i, n, want) => {
    expect(digitsAt(s, i, n)).toBe(want);
  });
});

describe('daysIn', () => {
  it.each([
    [2024, 2, 29],
    [2026, 2, 28],
    [1900, 2, 28],
    [2000, 2, 29],
    [2026, 4, 30],
    [2026, 12, 31],
  ])('%i-%i has %i days', (y, m, want) => {
    expect(daysIn(y, m)).toBe(want);
  });
});

describe('isoMillisZMs', () => {
  it.each(['2026-12-07T21:05:09.123Z', '2024-02-29T00:00:00.000Z', '1970-01-01T00:00:00.001Z'])(
    'reads %s as Date.parse does',
    (s) => {
      expect(isoMillisZMs(s)).toBe(Date.parse(s));
    },
  );

  it.each([
    ['2026-02-29T00:00:00.000Z', 'no 29 February in 2026'],
    ['2026-13-01T00:00:00.000Z', 'month 13'],
    ['2026-12-07T24:00:00.000Z', 'hour 24'],
    ['2026-12-07T21:60:00.000Z', 'minute 60'],
    ['2026-12-07T21:05:60.000Z', 'second 60'],
    ['2026-12-07T21:05:09.123+01:00', 'an offset (another shape)'],
    ['2026-12-07T21:05:09Z', 'no milliseconds'],
    ['2026-12-07 21:05:09.123Z', 'a space for T'],
    ['2026-12-07T21:05:09.12xZ', 'a letter among the digits'],
    ['', 'empty'],
  ])('leaves %s to the general path (%s)', (s) => {
    expect(isoMillisZMs(s)).toBeUndefined();
  });
});
