// The README's rule examples, run as an operator would paste them into psql, then events through the
// alerter: what the README says happens does happen.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  drained,
  event,
  pushEvents,
  resetTables,
  startAlerter,
  subPrefixEnv,
} from './harness/alerting.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices();
});
afterAll(async () => {
  await svc.cleanup();
});

function readmeSql(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Rules, environments, teams and unhandled events'));
  const m = /```sql\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('no sql block in the README rules section');
  return m[1]!;
}

describe('README: rules, environments, teams and unhandled events', () => {
  it('the SQL runs, and events are decided as the README says', async () => {
    await resetTables(svc.pool);
    await svc.pool.query(readmeSql());
    const a = await startAlerter(svc, { ...subPrefixEnv(svc), UNHANDLED_THRESHOLD: '100' });
    try {
      await pushEvents(a.redis, a.keys, [
        // The first rule was disabled by the last statement: no match.
        event({ hostname: 'core1', message: '%LINK-3-UPDOWN: Interface Gi0/1, changed state to down' }),
        event({
          hostname: 'pe1',
          message: '%BGP-5-ADJCHANGE: neighbor 10.0.0.1 Down Hold timer',
          syslog_severity: 5,
        }),
        event({
          hostname: 'pe1',
          message: '%BGP-5-ADJCHANGE: neighbor 10.0.0.1 Down Hold timer',
          syslog_severity: 3,
        }),
        event({ hostname: 'lab-sw1', message: 'linkDown', trap_oid: '.1.3.6.1.6.3.1.1.5.3' }),
        event({ hostname: 'core1', message: 'linkDown', trap_oid: '1.3.6.1.6.3.1.1.5.3' }),
        ...Array.from({ length: 100 }, (_, i) =>
          event({
            hostname: 'edge7',
            message: `%PM-4-ERR_DISABLE: psecure-violation error detected on Gi0/${i % 8}`,
          }),
        ),
      ]);
      await drained(a.redis, a.keys);
      const rows = await auditRows(svc.pool);
      expect(rows.map((r) => [r.hostname, r.handling_decision, r.forwarded_to_moog])).toEqual([
        ['pe1', 'Ticket_only', true],
        ['lab-sw1', 'Ignore', false],
        ['core1', 'Page_only', true],
      ]);
      const alerts = (await a.redis.lrange(a.keys.alertQueue, 0, -1)).reverse().map((s) => JSON.parse(s));
      expect(alerts.map((x) => [x.hostname, x.team_assignment, x.handling, x.environment])).toEqual([
        ['pe1', 'WAN', 'Ticket_only', 'prod'],
        ['core1', 'NETO', 'Page_only', 'prod'],
        ['edge7', 'WAN', 'unhandled', 'prod'],
      ]);
      expect(alerts[2].message_body).toBe(
        "[MUTT] Detected 100 unhandled messages in 86400s from 'edge7'. Sample message: %PM-4-ERR_DISABLE: psecure-violation error detected on Gi0/3",
      );
    } finally {
      await a.stop();
    }
  });
});
