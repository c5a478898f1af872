import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference } from './reference.ts';
import { schema } from './schema.ts';

describe('configuration reference', () => {
  it('docs/CONFIGURATION.md is generated from the schema (run `npm run docs:config`)', () => {
    expect(readFileSync('docs/CONFIGURATION.md', 'utf8')).toBe(`${configReference()}\n`);
  });

  it('documents every variable', () => {
    const doc = configReference();
    for (const name of Object.keys(schema)) expect(doc).toContain(`| \`${name}\` |`);
  });
});
