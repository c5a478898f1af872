import { describe, expect, it } from 'vitest';
import { parseEnvFile } from './envfile.ts';

describe('parseEnvFile (systemd EnvironmentFile= syntax)', () => {
  const cases: [string, string, Record<string, string>][] = [
    ['plain assignment', 'A=b', { A: 'b' }],
    ['comments and blank lines', '# c\n; c\n\nA=1\n', { A: '1' }],
    ['whitespace around the value is dropped, interior kept', 'A=  x  y  \n', { A: 'x  y' }],
    ['whitespace around the name', '  A =1', { A: '1' }],
    ['no inline comments', 'A=b # c', { A: 'b # c' }],
    ['single quotes are verbatim', "A='x \\n $y'", { A: 'x \\n $y' }],
    ['single quotes span lines', "A='x\ny'\nB=2", { A: 'x\ny', B: '2' }],
    ['double quotes honour \\" \\\\ \\$ \\`', 'A="a\\"b\\\\c\\$d\\`e"', { A: 'a"b\\c$d`e' }],
    ['double quotes keep other escapes', 'A="a\\nb"', { A: 'a\\nb' }],
    ['double quotes: backslash-newline continues', 'A="a\\\nb"', { A: 'ab' }],
    ['unquoted: backslash keeps the next character', 'A=a\\\\b\\ c', { A: 'a\\b c' }],
    ['unquoted: trailing backslash continues the line', 'A=a\\\nb\nC=3', { A: 'ab', C: '3' }],
    ['quotes inside an unquoted value are kept', 'A=ab"cd"', { A: 'ab"cd"' }],
    ['lines without = are ignored', 'garbage\nA=1', { A: '1' }],
    ['empty value', 'A=', { A: '' }],
    ['CRLF line endings', 'A=1\r\nB=2\r\n', { A: '1', B: '2' }],
    ['a BOM is skipped', '\uFEFFA=1', { A: '1' }],
    ['later assignments win', 'A=1\nA=2', { A: '2' }],
    ['= inside the value', 'URL=redis://h:1/0?a=b', { URL: 'redis://h:1/0?a=b' }],
  ];
  for (const [name, text, want] of cases) {
    it(name, () => {
      const r = parseEnvFile(text);
      expect(r.problems).toEqual([]);
      expect(r.values).toEqual(want);
    });
  }

  it('reports an unterminated quote with its line', () => {
    const r = parseEnvFile('A=1\nB="open\n', 'mutt.env');
    expect(r.problems).toEqual(['mutt.env:2: unterminated quoted value for B']);
    expect(r.values).toEqual({ A: '1' });
  });

  it('reports an invalid variable name', () => {
    const r = parseEnvFile('1A=x\nGOOD=y', 'f');
    expect(r.problems).toEqual(['f:1: "1A" is not a valid variable name']);
    expect(r.values).toEqual({ GOOD: 'y' });
  });
});
