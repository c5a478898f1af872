import { describe, expect, it } from 'vitest';
import { eventProblems } from '../../../../test/harness/mock-moogsoft.ts';
import { muttAlert, pythonAlert } from '../../../../test/fixtures/alerts.ts';
import { parseAlert } from '../../alert.ts';
import { moogSeverity, pythonMoogSeverity, toMoogEvent } from './payload.ts';

const NOW_S = Date.parse('2026-11-24T13:00:00Z') / 1000;
const ctx = {
  agentLocation: 'mutt-node-1',
  defaultTeam: 'NETO',
  now: () => Date.parse('2026-11-24T13:00:00Z'),
};
const alert = (o: Record<string, unknown>) => {
  const p = parseAlert(JSON.stringify(o));
  if (!p.ok) throw new Error(p.reason);
  return p.alert;
};

describe('toMoogEvent', () => {
  it("maps an alert from MUTT's alerter to the REST LAM fields", () => {
    const e = toMoogEvent(alert(muttAlert(1)), ctx);
    expect(e).toEqual({
      signature: 'core-sw1:7',
      source_id: '192.0.2.10',
      external_id: 'mutt-000001',
      manager: 'MUTT',
      source: 'core-sw1',
      class: 'NETO',
      agent: 'MUTT',
      agent_location: 'mutt-node-1',
      type: 'OSPF',
      severity: 4,
      description: '%OSPF-5-ADJCHG: Process 1, Nbr 10.0.0.1 on Vlan10 from FULL to DOWN',
      agent_time: Date.parse('2026-11-24T12:00:00Z') / 1000,
      custom_info: {
        rule_id: 7,
        handling: 'page_and_ticket',
        environment: 'prod',
        team: 'NETO',
        severity: 'Major',
        correlation_id: 'mutt-000001',
        alerted_at: '2026-11-24T12:00:00.150Z',
        event: muttAlert(1).raw_json,
      },
    });
    expect(eventProblems(e)).toEqual([]);
  });

  it('derives every field for an alert from a Python MUTT 2.x alerter', () => {
    const e = toMoogEvent(alert(pythonAlert(5)), ctx);
    expect(e).toMatchObject({
      signature: expect.stringMatching(/^router5::NETO::[0-9a-f]{16}$/),
      source_id: 'router5',
      external_id: 'py-000005',
      source: 'router5',
      class: 'NETO',
      type: 'MUTT',
      severity: 2,
      agent_time: Date.parse('2026-11-24T12:00:00Z') / 1000,
      custom_info: { rule_id: null, handling: null, environment: null, correlation_id: 'py-000005' },
    });
    expect(eventProblems(e)).toEqual([]);
    // The same alert always gets the same signature (Moogsoft deduplicates on it).
    expect(toMoogEvent(alert(pythonAlert(5)), ctx).signature).toBe(e.signature);
  });

  const rows: [string, Record<string, unknown>, Partial<Record<string, unknown>>][] = [
    [
      'raw_json as a JSON string',
      { raw_json: JSON.stringify({ timestamp: '2026-01-01T00:00:00Z', trap_oid: '1.3.6.1.6.3.1.1.5.3' }) },
      { type: '1.3.6.1.6.3.1.1.5.3', agent_time: 1767225600 },
    ],
    [
      'raw_json not JSON',
      { raw_json: 'free text' },
      { agent_time: NOW_S, custom_info: expect.objectContaining({ event: 'free text' }) },
    ],
    ['timestamp in epoch seconds', { raw_json: { timestamp: 1767225600 } }, { agent_time: 1767225600 }],
    [
      'timestamp in epoch milliseconds',
      { raw_json: { timestamp: 1767225600123 } },
      { agent_time: 1767225600 },
    ],
    [
      'unreadable timestamp falls back to alerted_at',
      { raw_json: { timestamp: 'yesterday' }, alerted_at: '2026-01-01T00:00:00Z' },
      { agent_time: 1767225600 },
    ],
    ['no timestamp at all: now', { raw_json: {} }, { agent_time: NOW_S }],
    [
      'SNMP agent address as source_id',
      { raw_json: { agent_address: '198.51.100.7' } },
      { source_id: '198.51.100.7' },
    ],
    ['no team: the default team', { team_assignment: undefined }, { class: 'NETO' }],
    ['numeric severity', { severity: 5 }, { severity: 5 }],
  ];
  for (const [name, over, want] of rows) {
    it(name, () => {
      const e = toMoogEvent(alert(pythonAlert(1, over)), ctx);
      expect(e).toMatchObject(want);
      expect(eventProblems(e)).toEqual([]);
    });
  }
});

describe('moogSeverity', () => {
  const rows: [unknown, number][] = [
    ['Critical', 5],
    ['Major', 4],
    ['Minor', 3],
    ['Warning', 2],
    ['Info', 1],
    ['Indeterminate', 1],
    ['Clear', 0],
    ['critical', 5],
    [' MAJOR ', 4],
    ['4', 4],
    [0, 0],
    [5, 5],
    [6, 2],
    [-1, 2],
    [2.5, 2],
    ['Sev1', 2],
    [undefined, 2],
    [null, 2],
  ];
  for (const [v, n] of rows) {
    it(`${JSON.stringify(v)} → ${n}`, () => {
      expect(moogSeverity(v)).toBe(n);
    });
  }
});

// COMPAT_MODE=python2: the numbers a Python MUTT 2.x forwarder sends (Warning 3 and Minor 2 were
// observed against it; the other labels agree with Moogsoft's scale in both modes).
describe('severity by mode', () => {
  it.each([
    ['Critical', 5, 5],
    ['Major', 4, 4],
    ['Warning', 2, 3],
    ['Minor', 3, 2],
    ['Info', 1, 1],
    ['Clear', 0, 0],
    ['warning', 2, 3],
    ['no such label', 2, 3],
    [undefined, 2, 3],
    [4, 4, 4],
  ])('%j → %j by default, %j in parity mode', (severity, mutt, python) => {
    const a = alert(pythonAlert(1, { severity }));
    expect(toMoogEvent(a, ctx).severity).toBe(mutt);
    expect(toMoogEvent(a, ctx, 'off').severity).toBe(mutt);
    expect(toMoogEvent(a, ctx, 'python2').severity).toBe(python);
    expect(moogSeverity(severity)).toBe(mutt);
    expect(pythonMoogSeverity(severity)).toBe(python);
  });

  it('parity mode changes nothing but the severity number', () => {
    const a = alert(muttAlert(3));
    expect({ ...toMoogEvent(a, ctx, 'python2'), severity: 0 }).toEqual({
      ...toMoogEvent(a, ctx),
      severity: 0,
    });
  });
});
