import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonLenient, replaceNonFinite } from './json.ts';

describe('parseJsonLenient', () => {
  it('reads Python json.dumps output with NaN and Infinity as null', () => {
    expect(parseJsonLenient('{"a": NaN, "b": Infinity, "c": -Infinity, "d": [1, NaN]}')).toEqual({
      a: null,
      b: null,
      c: null,
      d: [1, null],
    });
  });

  it('leaves the words inside strings alone', () => {
    expect(parseJsonLenient('{"m": "NaN Infinity -Infinity \\" NaN", "x": NaN}')).toEqual({
      m: 'NaN Infinity -Infinity " NaN',
      x: null,
    });
  });

  it('still rejects invalid JSON with the parser message', () => {
    expect(() => parseJsonLenient('{"a": nan}')).toThrow(SyntaxError);
    expect(() => parseJsonLenient('{')).toThrow(SyntaxError);
  });

  it('agrees with JSON.parse on any valid JSON', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(parseJsonLenient(text)).toEqual(JSON.parse(text));
        expect(replaceNonFinite(text)).toBe(text.includes('"') ? replaceNonFinite(text) : text);
      }),
    );
  });
});
