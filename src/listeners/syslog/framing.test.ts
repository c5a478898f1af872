import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Framer } from './framing.ts';

function frames(chunks: (string | Buffer)[], maxSize = 1024) {
  const out: { text: string; truncated: boolean }[] = [];
  const f = new Framer({
    maxSize,
    onFrame: (b, truncated) => out.push({ text: b.toString('latin1'), truncated }),
  });
  for (const c of chunks) f.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  f.end();
  return { out, framer: f };
}
const texts = (chunks: (string | Buffer)[], maxSize?: number) =>
  frames(chunks, maxSize).out.map((x) => x.text);

describe('Framer', () => {
  it('detects octet counting and LF framing per frame', () => {
    expect(texts(['11 <13>1 - - a', '\n<13>line two\n', '5 hello3 abc'])).toEqual([
      '<13>1 - - a',
      '<13>line two',
      'hello',
      'abc',
    ]);
  });

  it('accepts NUL-terminated frames and CRLF', () => {
    expect(texts(['<13>a\0<13>b\0<13>c\r\n'])).toEqual(['<13>a', '<13>b', '<13>c\r']);
  });

  it('treats digits not followed by a space as the start of a line (Cisco without PRI)', () => {
    expect(texts(['123', ': *Mar  1 10:00:00: %SYS-5-X: y\n'])).toEqual([
      '123: *Mar  1 10:00:00: %SYS-5-X: y',
    ]);
    expect(texts(['0 zero\n'])).toEqual(['0 zero']);
  });

  it('an unterminated last line is a message', () => {
    expect(texts(['<13>last words'])).toEqual(['<13>last words']);
  });

  it.each([
    {
      name: 'a line longer than the limit',
      chunks: ['x'.repeat(50), 'y'.repeat(60), '\nnext\n'],
      want: [
        ['x'.repeat(50) + 'y'.repeat(50), true],
        ['next', false],
      ],
    },
    {
      name: 'an octet count over the limit',
      chunks: [`200 ${'z'.repeat(200)}4 next`],
      want: [
        ['z'.repeat(100), true],
        ['next', false],
      ],
    },
    { name: 'an octet count that is not a number', chunks: ['12x4 <13>a\n'], want: [['12x4 <13>a', false]] },
    { name: 'a count with too many digits', chunks: ['99999999999 a\n'], want: [['99999999999 a', false]] },
    {
      name: 'half a frame then the end of the stream',
      chunks: ['50 <13>only part'],
      want: [['<13>only part', true]],
    },
  ])('$name', ({ chunks, want }) => {
    const { out } = frames(chunks, 100);
    expect(out.map((x) => [x.text, x.truncated])).toEqual(want);
  });

  it('a 1 MiB line is cut at the limit without buffering it', () => {
    const got: number[] = [];
    const f = new Framer({ maxSize: 65536, onFrame: (b) => got.push(b.length) });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 16; i++) {
      f.push(chunk);
      expect(f.buffered).toBeLessThanOrEqual(65536);
    }
    f.push(Buffer.from('\n<13>after\n'));
    expect(got).toEqual([65536, 9]);
    expect(f.truncations).toBe(1);
  });

  it('gives the same frames however the stream is split', () => {
    const msg = fc.string({
      unit: fc.constantFrom('a', 'b', ' ', '<', '>', '1', '9', '\u00e9'),
      minLength: 1,
      maxLength: 40,
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(msg, fc.boolean()), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (msgs, cuts) => {
          const clean = msgs
            .map(([m, octet]) => [m.trim().replace(/^[0-9]+/, 'n'), octet] as const)
            .filter(([m]) => m.length > 0);
          const stream = Buffer.concat(
            clean.map(([m, octet]) => {
              const b = Buffer.from(m);
              return octet
                ? Buffer.concat([Buffer.from(`${b.length} `), b])
                : Buffer.concat([b, Buffer.from('\n')]);
            }),
          );
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of points) {
            chunks.push(stream.subarray(prev, p));
            prev = p;
          }
          chunks.push(stream.subarray(prev));
          const got = frames(chunks, 4096).out.map((x) => Buffer.from(x.text, 'latin1').toString());
          expect(got).toEqual(clean.map(([m]) => m));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
