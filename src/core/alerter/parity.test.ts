import { describe, expect, it } from 'vitest';
import { alertFor, decide } from './decide.ts';
import { parseEvent } from './event.ts';
import {
  decidePython,
  pythonAlertFor,
  pythonMetaAlertFor,
  pythonPrefix,
  pythonSeverity,
  pythonTimestamp,
} from './parity.ts';
import { compileRules, type RuleRow } from './rules.ts';

const row = (over: Partial<RuleRow> = {}): RuleRow => ({
  id: 7,
  match_string: 'down',
  trap_oid: null,
  syslog_severity: null,
  match_type: 'contains',
  priority: 100,
  prod_handling: 'Page_and_ticket',
  dev_handling: 'Ignore',
  team_assignment: 'NETO',
  ...over,
});
const ruleOf = (over: Partial<RuleRow> = {}) =>
  compileRules([row(over)]).parityRules?.[0] ?? compileRules([row(over)]).rules[0]!;
const eventOf = (data: Record<string, unknown>) => {
  const p = parseEvent(JSON.stringify(data), []);
  if (!p.ok) throw new Error(p.reason);
  return p.event;
};
const ev = {
  hostname: 'edge-1',
  timestamp: '2026-11-24T12:00:00.123456',
  message: 'Interface Gi0/1 down',
  syslog_severity: 3,
  _correlation_id: 'c-1',
};

describe('pythonSeverity: the raw value, as Python compares it with the rule integer', () => {
  it.each([
    [3, 3],
    [3.0, 3],
    [3.5, 3.5],
    [true, 1],
    [false, 0],
    ['3', undefined],
    ['err', undefined],
    ['Warning', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('%j → %j', (v, want) => {
    expect(pythonSeverity(v)).toBe(want);
  });
});

describe('decidePython', () => {
  it.each([
    ['page_only', true, true],
    ['Ticket_Only', true, true],
    [' page_only', false, true],
    ['page_and_ticket ', false, true],
    ['Ignore', false, false],
  ])('handling %j: forwarded %j (MUTT trims first: %j)', (handling, python, mutt) => {
    const r = ruleOf({ prod_handling: handling });
    expect(decidePython(r, 'edge-1', new Set()).forward).toBe(python);
    expect(decide(r, 'edge-1', new Set()).forward).toBe(mutt);
  });

  it('dev hosts take dev_handling', () => {
    const d = decidePython(ruleOf({ dev_handling: 'Ticket_only' }), 'lab-1', new Set(['lab-1']));
    expect(d).toMatchObject({ environment: 'dev', handling: 'Ticket_only', forward: true });
  });
});

describe('pythonAlertFor', () => {
  it('has exactly the keys a Python alerter writes, severity Warning, the event as raw_json', () => {
    const e = eventOf({ ...ev, syslog_severity: 1 });
    const d = decidePython(ruleOf(), e.hostname, new Set());
    const a = JSON.parse(pythonAlertFor(e, d)) as Record<string, unknown>;
    expect(a).toEqual({
      hostname: 'edge-1',
      team_assignment: 'NETO',
      severity: 'Warning',
      message_body: 'Interface Gi0/1 down',
      raw_json: { ...ev, syslog_severity: 1 },
      _correlation_id: 'c-1',
      _moog_retry_count: 0,
    });
    // MUTT's own alert for the same event: derived severity and its additions.
    const m = JSON.parse(alertFor(e, decide(ruleOf(), e.hostname, new Set()), new Date(0))) as Record<
      string,
      unknown
    >;
    expect(m).toMatchObject({ severity: 'Critical', rule_id: 7, signature: 'edge-1:7' });
  });
});

describe('pythonMetaAlertFor', () => {
  it('host MUTT_Alerter, the event correlation id as it is, Python keys only', () => {
    const e = eventOf(ev);
    const a = JSON.parse(pythonMetaAlertFor(e, { team: 'NETO', threshold: 3, expirySeconds: 60 }));
    expect(a).toEqual({
      hostname: 'MUTT_Alerter',
      team_assignment: 'NETO',
      severity: 'Warning',
      message_body:
        "[MUTT] Detected 3 unhandled messages in 60s from 'edge-1'. Sample message: Interface Gi0/1 down",
      raw_json: ev,
      _correlation_id: 'c-1',
      _moog_retry_count: 0,
    });
  });

  it('the sample is the first 200 code points, as Python slices (never half a surrogate pair)', () => {
    const msg = `${'x'.repeat(199)}😀${'y'.repeat(10)}`;
    expect(pythonPrefix(msg, 200)).toBe(`${'x'.repeat(199)}😀`);
    expect(msg.slice(0, 200)).not.toBe(`${'x'.repeat(199)}😀`);
    expect(pythonPrefix('short', 200)).toBe('short');
    const a = JSON.parse(
      pythonMetaAlertFor(eventOf({ ...ev, message: msg }), { team: 'T', threshold: 1, expirySeconds: 1 }),
    );
    expect(a.message_body.endsWith(`${'x'.repeat(199)}😀`)).toBe(true);
  });
});

describe('pythonTimestamp: what a Python alerter hands to its INSERT', () => {
  it.each([
    ['not-a-date', 'not-a-date'],
    ['2026-11-24T12:00:00.123456', '2026-11-24T12:00:00.123456'],
    [1764000000, undefined],
    [true, undefined],
    [{ t: 1 }, undefined],
  ])('%j → %j', (v, want) => {
    expect(pythonTimestamp(v)).toBe(want);
  });
});
