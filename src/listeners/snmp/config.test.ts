import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigOrThrow } from '../../runtime/config/load.ts';
import { communities, defaultSeverity, installRoot, mibDirs } from './config.ts';

const config = (env: Record<string, string>) =>
  loadConfigOrThrow({ MUTT_ENV_FILE: '/dev/null', ...env }, { defaultEnvFile: '/dev/null' });

describe('SNMP listener settings', () => {
  it.each([
    [{}, ['public'], true],
    [{ SNMP_COMMUNITIES: 'n0c, legacy ,n0c' }, ['n0c', 'legacy'], false],
  ])('communities from %j', (env, list, isDefault) => {
    expect(communities(config(env))).toEqual({ list, isDefault });
  });

  it('reads communities from SNMP_COMMUNITIES_FILE, one per line or comma-separated', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mutt-snmp-')), 'communities');
    writeFileSync(file, 'first\nsecond,third\n\n');
    expect(communities(config({ SNMP_COMMUNITIES_FILE: file })).list).toEqual(['first', 'second', 'third']);
  });

  it.each([
    ['warning', 4],
    ['CRIT', 2],
    ['0', 0],
  ])('SNMP_DEFAULT_SEVERITY=%s → %d', (v, n) => {
    expect(defaultSeverity(config({ SNMP_DEFAULT_SEVERITY: v }))).toBe(n);
  });

  it('refuses an unknown severity, naming the variable', () => {
    expect(() => config({ SNMP_DEFAULT_SEVERITY: 'loud' })).toThrow(
      /SNMP_DEFAULT_SEVERITY="loud": expected an integer 0-7/,
    );
  });

  it('resolves relative MIB directories inside the installation', () => {
    const root = installRoot();
    expect(mibDirs(config({ SNMP_MIB_DIRS: '/opt/mibs,etc/mibs' }))).toEqual([
      '/opt/mibs',
      join(root, 'etc/mibs'),
    ]);
    expect(mibDirs(config({}))).toContain(join(root, 'etc/mibs'));
  });
});
