import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkable, mayBeAlive, processStart, selfIdentity } from './process-identity.ts';

describe('mayBeAlive', () => {
  const self = selfIdentity();
  // A PID that existed and is gone: a short-lived child, already reaped.
  const gonePid = spawnSync('/bin/true').pid;

  const rows: [string, Parameters<typeof mayBeAlive>[0], boolean][] = [
    ['this very process', self, true],
    ['its parent (alive, start time unknown to us)', { host: self.host, pid: process.ppid }, true],
    [
      'the parent with its real start time',
      { host: self.host, pid: process.ppid, start: processStart(process.ppid) },
      true,
    ],
    ['a PID that is gone', { host: self.host, pid: gonePid, start: '1', boot: self.boot }, false],
    [
      'a reused PID (another start time)',
      { host: self.host, pid: process.ppid, start: 'not-its-start' },
      false,
    ],
    ['our PID recorded by an earlier process (a restarted container)', { ...self, start: 'earlier' }, false],
    ['a process from before a reboot', { ...self, pid: process.ppid, boot: 'another-boot' }, false],
    ['no valid PID', { host: self.host, pid: 0 }, false],
  ];
  for (const [name, other, want] of rows)
    it(`${name} → ${want ? 'may be alive' : 'gone'}`, () => {
      expect(mayBeAlive(other, self)).toBe(want);
    });

  it('can check only processes of this host and PID namespace', () => {
    expect(checkable({ ...self, pid: 1 }, self)).toBe(true);
    expect(checkable({ host: self.host, pid: 1 }, self)).toBe(true);
    expect(checkable({ ...self, host: 'elsewhere' }, self)).toBe(false);
    expect(checkable({ ...self, pidns: 'pid:[1]' }, { ...self, pidns: 'pid:[2]' })).toBe(false);
  });

  it('reads the start time of this process from /proc', () => {
    expect(self.start).toMatch(/^\d+$/);
    expect(self.boot).toMatch(/^[0-9a-f-]{36}$/);
    expect(self.pidns).toMatch(/^pid:\[\d+\]$/);
  });
});
