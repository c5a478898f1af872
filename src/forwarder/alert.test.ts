import { describe, expect, it } from 'vitest';
import { muttAlert, pythonAlert } from '../../test/fixtures/alerts.ts';
import { dlqItem, dlqItemForInvalid, parseAlert, retryAtOf, retryItem } from './alert.ts';

const ok = (raw: string) => {
  const p = parseAlert(raw);
  if (!p.ok) throw new Error(`expected an alert: ${p.reason}`);
  return p.alert;
};

describe('parseAlert', () => {
  it('reads an alert from a Python MUTT 2.x alerter', () => {
    const raw = JSON.stringify(pythonAlert(3));
    const a = ok(raw);
    expect(a).toMatchObject({
      raw,
      hostname: 'router3',
      message: '%LINK-3-UPDOWN: Interface GigabitEthernet0/3, changed state to down',
      correlationId: 'py-000003',
      retryCount: 0,
      retryAt: 0,
    });
  });

  it("reads an alert from MUTT's alerter", () => {
    const a = ok(JSON.stringify(muttAlert(1, { _moog_retry_count: 2 })));
    expect(a).toMatchObject({ hostname: 'core-sw1', correlationId: 'mutt-000001', retryCount: 2 });
    expect(a.data.rule_id).toBe(7);
  });

  it('derives a correlation id that stays the same across retries', () => {
    const { _correlation_id: _, ...alert } = pythonAlert(1);
    const first = ok(JSON.stringify(alert));
    expect(first.correlationId).toMatch(/^mutt-[0-9a-f]{32}$/);
    const retried = ok(retryItem(first, 1000, 'http_503'));
    expect(retried.correlationId).toBe(first.correlationId);
    expect(retried.retryCount).toBe(1);
  });

  it('reads Python NaN as null rather than refusing the alert', () => {
    const raw = JSON.stringify(pythonAlert(1)).replace('"syslog_severity":3', '"syslog_severity":NaN');
    expect(ok(raw).data.raw_json).toMatchObject({ syslog_severity: null });
  });

  it('removes credentials Python MUTT copies into alerts', () => {
    const a = ok(
      JSON.stringify(
        pythonAlert(1, { moog_api_key: 's3cr3t-key', api_key: 's3cr3t-key', Authorization: 'Bearer x' }),
      ),
    );
    expect(Object.keys(a.data)).not.toContain('moog_api_key');
    expect(Object.keys(a.data)).not.toContain('api_key');
    expect(Object.keys(a.data)).not.toContain('Authorization');
    const written = [retryItem(a, 1, 'x'), dlqItem(a, { code: 'rejected', reason: 'HTTP 400' }, new Date())];
    for (const w of written) expect(w).not.toContain('s3cr3t-key');
  });

  // Bad input: each row is an item that is not an alert, and the reason that goes to the DLQ.
  const bad: [string, string, 'invalid_json' | 'invalid_alert', RegExp][] = [
    ['not JSON', 'router1 LINK DOWN', 'invalid_json', /^not JSON: /],
    ['truncated JSON', '{"hostname":"r1","message_bo', 'invalid_json', /^not JSON: /],
    ['empty string', '', 'invalid_json', /^not JSON: /],
    ['a JSON array', '[1,2]', 'invalid_alert', /not an array/],
    ['a JSON string', '"alert"', 'invalid_alert', /not string/],
    ['null', 'null', 'invalid_alert', /not null/],
    ['no hostname', JSON.stringify({ message_body: 'm' }), 'invalid_alert', /"hostname"/],
    ['empty hostname', JSON.stringify({ hostname: ' ', message_body: 'm' }), 'invalid_alert', /"hostname"/],
    ['numeric hostname', JSON.stringify({ hostname: 7, message_body: 'm' }), 'invalid_alert', /"hostname"/],
    ['no message_body', JSON.stringify({ hostname: 'r1' }), 'invalid_alert', /"message_body"/],
    [
      'team is an object',
      JSON.stringify({ hostname: 'r1', message_body: 'm', team_assignment: {} }),
      'invalid_alert',
      /"team_assignment"/,
    ],
  ];
  for (const [name, raw, code, reason] of bad) {
    it(`refuses ${name} with a reason (${code})`, () => {
      const p = parseAlert(raw);
      expect(p.ok).toBe(false);
      if (p.ok) return;
      expect(p.code).toBe(code);
      expect(p.reason).toMatch(reason);
    });
  }
});

describe('items written back', () => {
  it('a retry counts the retry and carries its due time', () => {
    const a = ok(JSON.stringify(pythonAlert(1)));
    const item = retryItem(a, 1_790_000_000_123, 'http_503');
    expect(JSON.parse(item)).toMatchObject({
      _moog_retry_count: 1,
      _moog_retry_at: 1_790_000_000_123,
      _moog_last_error: 'http_503',
      _correlation_id: 'py-000001',
    });
    expect(retryAtOf(item)).toBe(1_790_000_000_123);
    expect(ok(item).retryAt).toBe(1_790_000_000_123);
  });

  it('a DLQ entry keeps the alert and says why, when and with which status', () => {
    const a = ok(retryItem(ok(JSON.stringify(muttAlert(2))), 5, 'http_503'));
    const e = JSON.parse(
      dlqItem(
        a,
        { code: 'rejected', reason: 'HTTP 400 from Moogsoft: bad', status: 400 },
        new Date('2026-11-24T12:00:00Z'),
      ),
    );
    expect(e).toMatchObject({
      hostname: 'core-sw2',
      _dlq_reason: 'HTTP 400 from Moogsoft: bad',
      _dlq_code: 'rejected',
      _dlq_status: 400,
      _failed_at: '2026-11-24T12:00:00.000Z',
      _moog_retry_count: 1,
    });
    expect(e).not.toHaveProperty('_moog_retry_at');
  });

  it('a queue item that is not JSON is kept verbatim in its DLQ entry', () => {
    const e = JSON.parse(
      dlqItemForInvalid(
        'router1 LINK DOWN',
        undefined,
        { code: 'invalid_json', reason: 'not JSON' },
        new Date(0),
      ),
    );
    expect(e).toEqual({
      _raw: 'router1 LINK DOWN',
      _dlq_reason: 'not JSON',
      _dlq_code: 'invalid_json',
      _failed_at: '1970-01-01T00:00:00.000Z',
    });
  });

  it('retryAtOf reads 0 from items without a due time', () => {
    expect(retryAtOf(JSON.stringify(pythonAlert(1)))).toBe(0);
    expect(retryAtOf('garbage')).toBe(0);
  });
});
