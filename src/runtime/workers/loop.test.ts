import { describe, expect, it } from 'vitest';
import { isTransient } from './loop.ts';

// What a failover looks like to the loops: waited out, never a crash of the worker.
describe('isTransient', () => {
  const failover: [string, unknown][] = [
    [
      'a Redis master demoted to replica refusing a write',
      new Error("READONLY You can't write against a read only replica."),
    ],
    [
      'a blocking take released when its server turned replica',
      new Error(
        'UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)',
      ),
    ],
    [
      'no member of DB_HOST accepting writes',
      Object.assign(new Error('no member of DB_HOST accepts writes'), { code: 'MUTT_NO_PRIMARY' }),
    ],
    [
      'a PostgreSQL primary that became a replica',
      Object.assign(new Error('cannot execute COPY in a read-only transaction'), { code: '25006' }),
    ],
    [
      'a PostgreSQL server shutting down',
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    ],
  ];
  for (const [what, err] of failover)
    it(`waits out ${what}`, () => {
      expect(isTransient(err)).toBe(true);
    });

  it('lets a bug or bad data through', () => {
    expect(isTransient(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(isTransient(new TypeError('x is undefined'))).toBe(false);
  });
});
