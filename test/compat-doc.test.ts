// docs/COMPATIBILITY.md has no row without a test: every row of its tables names at least one test
// (`file` › `part of its title`), and each named test exists, as a string literal of that file (a
// test title or the name of a table-driven case), not merely in a comment.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DOC = 'docs/COMPATIBILITY.md';
const REF = /`([\w./-]+\.test\.ts)` › `([^`]+)`/g;

/** Rows of every Markdown table: [the row's first cell, its last cell]. */
function tableRows(text: string): { topic: string; last: string; line: number }[] {
  const rows: { topic: string; last: string; line: number }[] = [];
  const lines = text.split('\n');
  lines.forEach((l, i) => {
    if (!l.startsWith('|')) return;
    if (/^\|[\s|:-]+\|$/.test(l)) return; // separator
    const next = lines[i + 1] ?? '';
    if (/^\|[\s|:-]+\|$/.test(next)) return; // header
    const cells = l
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    rows.push({ topic: cells[0]!, last: cells.at(-1)!, line: i + 1 });
  });
  return rows;
}

/** The string literals of a TypeScript file ('…', "…", `…`), escapes kept as written. */
function stringLiterals(src: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g;
  for (const m of src.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3]!).replace(/\\(['"`\\])/g, '$1'));
  return out;
}

const text = readFileSync(DOC, 'utf8');
const rows = tableRows(text);

describe('docs/COMPATIBILITY.md', () => {
  it('has its tables (the rows this test checks)', () => {
    expect(rows.length).toBeGreaterThan(60);
  });

  it.each(rows.map((r) => [`line ${r.line}: ${r.topic}`, r] as const))(
    '%s names a test that exists',
    (_n, r) => {
      const refs = [...r.last.matchAll(REF)];
      expect(refs, `row "${r.topic}" (line ${r.line}) names no test`).not.toEqual([]);
      for (const [, file, title] of refs) {
        expect(existsSync(file!), `${file} does not exist`).toBe(true);
        const literals = stringLiterals(readFileSync(file!, 'utf8'));
        expect(
          literals.some((s) => s.includes(title!)),
          `${file} has no test titled with "${title}"`,
        ).toBe(true);
      }
    },
  );

  it('says what parity mode does in every row that compares the two', () => {
    for (const line of text.split('\n').filter((l) => l.startsWith('| Topic'))) {
      if (line.includes('| Both ')) continue;
      expect(line).toMatch(/\| Test\s+\|$/);
      expect(line).toContain('`COMPAT_MODE=python2`');
    }
  });
});
