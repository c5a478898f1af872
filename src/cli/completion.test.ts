import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bashCompletion } from './completion.ts';
import { buildProgram } from './program.ts';

const script = bashCompletion(buildProgram(async () => {}));

/** Runs the completion function in a real bash for the words typed so far (the last may be ''). */
function complete(...words: string[]): string[] {
  const arr = words.map((w) => `'${w}'`).join(' ');
  const r = spawnSync(
    'bash',
    [
      '-c',
      `${script}\nCOMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _mutt; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('bash completion', () => {
  it('completes commands, subcommands, options and choices from the program', () => {
    expect(complete('mutt', 'dl')).toEqual(['dlq']);
    expect(complete('mutt', 'dlq', '')).toEqual(['list', 'purge', 'replay', 'show']);
    expect(complete('mutt', 'dlq', 'list', '--queue', '')).toEqual(['alerter', 'dead', 'moog']);
    expect(complete('mutt', 'dlq', 'replay', '-q', 'm')).toEqual(['moog']);
    // An option's value is not taken for a subcommand.
    expect(complete('mutt', 'dlq', 'list', '--queue', 'moog', '--js')).toEqual(['--json']);
    expect(complete('mutt', 'validate', '--')).toEqual(['--help', '--json', '--quiet']);
    expect(complete('mutt', 'keys', 'show', '')).toEqual(['admin', 'all', 'ingest']);
    expect(complete('mutt', 'k')).toEqual(['keys']);
  });

  it('offers no hidden command', () => {
    expect(complete('mutt', 'man')).toEqual([]);
  });
});
