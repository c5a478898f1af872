import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ensurePackages } from '../../test/harness/packages.ts';
import { schema } from '../runtime/config/schema.ts';
import { manPage, roff } from './manpage.ts';
import { buildProgram } from './program.ts';

const program = buildProgram(async () => {});
const page = manPage(program, '9.9.9');

function paths(c: Command, prefix: string[] = []): string[] {
  return c.commands
    .filter((s) => !(s as unknown as { _hidden?: boolean })._hidden)
    .flatMap((s) => [[...prefix, s.name()].join(' '), ...paths(s, [...prefix, s.name()])]);
}

describe('mutt(8)', () => {
  it('documents every command, option and variable', () => {
    const flat = page.replace(/\\-/g, '-');
    for (const p of paths(program)) expect(flat).toContain(`mutt ${p}`);
    const walk = (c: Command): void => {
      for (const o of c.options) expect(flat).toContain(o.flags.replace(/-/g, '-'));
      c.commands.forEach(walk);
    };
    walk(program);
    for (const name of Object.keys(schema)) expect(flat).toContain(`.B ${name}`);
    expect(flat).toContain('.SH EXIT STATUS');
    expect(flat).toContain('.TH MUTT 8 "" "MUTT 9.9.9"');
  });

  it('renders with groff without a warning', () => {
    ensurePackages({ 'groff-base': () => existsSync('/usr/bin/groff') }, 'rendering mutt(8)');
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: page, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('escapes what man(7) would misread', () => {
    expect(roff('.starts with a dot')).toBe('\\&.starts with a dot');
    expect(roff('a-b \\ c')).toBe('a\\-b \\e c');
    expect(roff('`*.txt`, *note*')).toBe('\\fB*.txt\\fR, \\fInote\\fR');
    expect(roff('→')).toBe('\\[u2192]');
  });
});
