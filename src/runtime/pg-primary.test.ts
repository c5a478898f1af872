import { describe, expect, it } from 'vitest';
import { describeHost, parsePgHosts } from './pg-primary.ts';

describe('DB_HOST members (parsePgHosts)', () => {
  const good: [string, { host: string; port: number }[]][] = [
    ['db.example', [{ host: 'db.example', port: 5432 }]],
    ['/run/postgresql', [{ host: '/run/postgresql', port: 5432 }]],
    [
      'pg1,pg2:5433',
      [
        { host: 'pg1', port: 5432 },
        { host: 'pg2', port: 5433 },
      ],
    ],
    [
      ' 10.0.0.1:6432 , 10.0.0.2:6432 ',
      [
        { host: '10.0.0.1', port: 6432 },
        { host: '10.0.0.2', port: 6432 },
      ],
    ],
    [
      '[2001:db8::1]:5433,2001:db8::2',
      [
        { host: '2001:db8::1', port: 5433 },
        { host: '2001:db8::2', port: 5432 },
      ],
    ],
  ];
  for (const [value, want] of good)
    it(`reads "${value}"`, () => {
      expect(parsePgHosts(value, 5432)).toEqual(want);
    });

  const bad: [string, string][] = [
    ['pg1,', 'an empty member'],
    ['pg1:abc', '"pg1:abc": the port is not a number'],
    ['pg1:0', '"pg1:0": the port must be 1-65535'],
    [':5432', '":5432": not a host name or address'],
    ['pg1,/run/postgresql', '"/run/postgresql": not a host name or address'],
  ];
  for (const [value, problem] of bad)
    it(`refuses "${value}"`, () => {
      expect(parsePgHosts(value, 5432)).toBe(problem);
    });

  it('names IPv6 members with brackets', () => {
    expect(describeHost({ host: '2001:db8::1', port: 5432 })).toBe('[2001:db8::1]:5432');
    expect(describeHost({ host: 'pg1', port: 5433 })).toBe('pg1:5433');
  });
});
