import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { requiredLiteral } from './regex.ts';

describe('requiredLiteral', () => {
  it.each([
    ['BGP-5-ADJCHANGE.*neighbor \\d+', 'bgp-5-adjchange'],
    ['SYS-\\d-CONFIG_I', '-config_i'],
    ['chassis-2.*(lost|timeout \\d+)', 'chassis-2'],
    ['%LINK-3-UPDOWN', '%link-3-updown'],
    ['fan\\.tray (\\d+) failed', 'fan.tray '],
    ['abcd?ef', 'abc'],
    ['abcdx*', 'abcd'],
    ['abcdx{0,3}yz', 'abcd'],
    ['abcx+yzw', 'abcx'],
    ['ab|cdefgh', undefined],
    ['(abc|def)', undefined],
    ['[abcdef]+', undefined],
    ['\\x41\\x42\\x43', undefined],
    ['\\p{Greek}abc', 'abc'],
    ['\\Qa.b|c\\Ezzzz', 'zzzz'],
    ['été', undefined],
    ['%LINK-[[:digit:]]-UPDOWN', '-updown'],
    ['[a[:digit:]]xyz', 'xyz'],
    ['[[:^space:]]abc', 'abc'],
    ['ab', undefined],
    ['x\\.{2}yzw', 'yzw'],
  ])('%s → %s', (pattern, want) => {
    expect(requiredLiteral(pattern)).toBe(want);
  });

  it('names a literal every match of the pattern contains (random patterns and texts)', () => {
    const piece = fc.oneof(
      fc.constantFrom('a', 'b', 'c', 'ab', 'bca', 'X', '-', ' '),
      fc.constantFrom(
        '\\d',
        '.',
        '.*',
        '[ab]',
        '\\.',
        '\\-',
        '\\x41',
        '(a|b)',
        '[[:alpha:]]',
        '[a[:digit:]]',
        '[[:^space:]]-',
        '(?:bc)?',
        'a?',
        'b*',
        'c+',
        'a{0,2}',
        '^',
        '$',
      ),
    );
    const pattern = fc.array(piece, { minLength: 1, maxLength: 8 }).map((p) => p.join(''));
    const text = fc.stringMatching(/^[abcX .A1-]{0,16}$/);
    fc.assert(
      fc.property(pattern, fc.array(text, { minLength: 1, maxLength: 10 }), (p, texts) => {
        const lit = requiredLiteral(p);
        if (lit === undefined) return;
        const re = RE2JS.compile(p, RE2JS.CASE_INSENSITIVE);
        for (const t of texts) if (re.test(t)) expect(t.toLowerCase()).toContain(lit);
      }),
      { numRuns: 2000 },
    );
  });
});
