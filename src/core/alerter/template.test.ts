import { describe, expect, it } from 'vitest';
import { messageTemplate, unhandledSignature } from './template.ts';

describe('messageTemplate', () => {
  it.each([
    ['Interface Gi0/12 changed state to down', 'Interface Gi<n>/<n> changed state to down'],
    ['BGP neighbor 10.1.2.3 Down', 'BGP neighbor <ip> Down'],
    ['peer 192.0.2.7:179 reset', 'peer <ip> reset'],
    ['route 10.0.0.0/24 withdrawn', 'route <ip> withdrawn'],
    ['neighbor fe80::1:2 lost', 'neighbor <ip> lost'],
    ['addr 2001:db8:0:1::5 up', 'addr <ip> up'],
    ['MAC 00:1a:2B:3c:4d:5e moved', 'MAC <mac> moved'],
    ['MAC 001a.2b3c.4d5e flapping', 'MAC <mac> flapping'],
    ['error code 0xDEADBEEF at 0x1f', 'error code <hex> at <hex>'],
    ['session 5f2a9c01e7 closed', 'session <hex> closed'],
    ['request 0b5e0c38-6a1d-4a37-9f9e-2f0d7bf7f1a2 failed', 'request <uuid> failed'],
    ['deadline exceeded', 'deadline exceeded'],
    ['fan 2 speed 5400 rpm', 'fan <n> speed <n> rpm'],
  ])('%s → %s', (msg, want) => {
    expect(messageTemplate(msg)).toBe(want);
  });

  it('gives one signature to messages that differ only in masked parts, and 16 hex characters', () => {
    const a = unhandledSignature('Gi0/1 down from 10.0.0.1', 'template');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(unhandledSignature('Gi0/7 down from 10.9.9.9', 'template')).toBe(a);
    expect(unhandledSignature('Gi0/7 up from 10.9.9.9', 'template')).not.toBe(a);
  });

  it('exact mode is SHA-1 of the message as it is (Python MUTT)', () => {
    expect(unhandledSignature('abc', 'exact')).toBe('a9993e364706816a');
    expect(unhandledSignature('Gi0/1 down', 'exact')).not.toBe(unhandledSignature('Gi0/2 down', 'exact'));
  });
});
