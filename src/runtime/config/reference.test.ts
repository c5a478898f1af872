import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEnvFile } from './envfile.ts';
import { loadConfig } from './load.ts';
import { configReference, envExample } from './reference.ts';
import { schema } from './schema.ts';

describe('configuration reference', () => {
  it('docs/CONFIGURATION.md is generated from the schema (run `npm run docs:config`)', () => {
    expect(readFileSync('docs/CONFIGURATION.md', 'utf8')).toBe(`${configReference()}\n`);
  });

  it('etc/mutt.env is generated from the schema too', () => {
    expect(readFileSync('etc/mutt.env', 'utf8')).toBe(envExample());
  });

  it('the example env file is valid as it is, and every line of it is valid uncommented', () => {
    expect(parseEnvFile(envExample()).values).toEqual({});
    const uncommented = envExample()
      .split('\n')
      .filter((l) => /^#[A-Z][A-Z0-9_]*=/.test(l) && !l.includes('_FILE='))
      .map((l) => l.slice(1))
      .join('\n');
    const { values, problems } = parseEnvFile(uncommented);
    expect(problems).toEqual([]);
    const env = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
    expect(loadConfig(env, { defaultEnvFile: '/nonexistent' }).problems).toEqual([]);
  });

  it('documents every variable', () => {
    const doc = configReference();
    for (const name of Object.keys(schema)) expect(doc).toContain(`| \`${name}\` |`);
  });
});
