// Writes a suite's section of docs/BENCHMARKS.md between its markers, keeping the other sections.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const FILE = 'docs/BENCHMARKS.md';

export function writeSection(suite: string, markdown: string): void {
  const start = `<!-- bench:${suite}:start -->`;
  const end = `<!-- bench:${suite}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let doc = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a >= 0 && b > a) doc = doc.slice(0, a) + block + doc.slice(b + end.length);
  else doc = `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, doc.endsWith('\n') ? doc : `${doc}\n`);
}
