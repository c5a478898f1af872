import { describe, expect, it } from 'vitest';
import { createLogger, LogLimiter } from './logging.ts';

describe('LogLimiter', () => {
  it('lets one line per interval through and counts the rest', () => {
    let now = 0;
    const l = new LogLimiter(1000, () => now);
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(-1);
    expect(l.take('a')).toBe(-1);
    expect(l.take('b')).toBe(0);
    now = 1000;
    expect(l.take('a')).toBe(2);
    expect(l.take('a')).toBe(-1);
  });

  it('stays bounded under ever-new keys', () => {
    const l = new LogLimiter(1000, () => 0, 10);
    for (let i = 0; i < 1000; i++) l.take(`k${i}`);
    expect((l as unknown as { last: Map<string, unknown> }).last.size).toBeLessThanOrEqual(10);
  });
});

describe('createLogger', () => {
  it('writes JSON with service, pod and level, and redacts secrets', () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'INFO',
      pod: 'p1',
      destination: { write: (s: string) => lines.push(s) },
    });
    log.info({ correlation_id: 'c1', headers: { 'x-api-key': 'k' }, password: 'pw' }, 'hello');
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    const l = JSON.parse(lines[0]!);
    expect(l).toMatchObject({
      level: 'info',
      service: 'mutt',
      pod: 'p1',
      correlation_id: 'c1',
      msg: 'hello',
    });
    expect(l.headers['x-api-key']).toBe('[redacted]');
    expect(l.password).toBe('[redacted]');
  });
});

describe('redaction of Redis command arguments', () => {
  it('blanks the arguments ioredis attaches to an error (HELLO … AUTH carries the password)', () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (s: string) => lines.push(s) } });
    const err = Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), {
      command: { name: 'hello', args: ['3', 'AUTH', 'mutt', 'pass-Zq9-secret'] },
    });
    log.error({ err }, 'loop failed');
    log.error({ err: new Error('starting the forwarder failed', { cause: err }) }, 'nested');
    log.warn({ command: { name: 'auth', args: ['pass-Zq9-secret'] } }, 'bare');
    expect(lines).toHaveLength(3);
    expect(lines.join('')).not.toContain('pass-Zq9-secret');
    expect(JSON.parse(lines[0]!).err.command).toEqual({ name: 'hello', args: '[redacted]' });
  });
});
