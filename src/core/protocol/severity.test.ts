import { describe, expect, it } from 'vitest';
import { severityNumber } from './severity.ts';

describe('severityNumber', () => {
  const rows: [unknown, number | undefined][] = [
    [0, 0],
    [7, 7],
    [8, undefined],
    [-1, undefined],
    [3.5, undefined],
    ['4', 4],
    [' 2 ', 2],
    ['9', undefined],
    ['Warning', 4],
    ['warn', 4],
    ['ERR', 3],
    ['error', 3],
    ['crit', 2],
    ['Critical', 2],
    ['emerg', 0],
    ['panic', 0],
    ['alert', 1],
    ['notice', 5],
    ['info', 6],
    ['Informational', 6],
    ['debug', 7],
    ['Major', undefined],
    [null, undefined],
    [true, undefined],
  ];
  for (const [input, want] of rows) {
    it(`${JSON.stringify(input)} → ${want}`, () => expect(severityNumber(input)).toBe(want));
  }
});
