import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventInstant, parseEvent } from './event.ts';

describe('eventInstant', () => {
  it('reads toISOString-shaped timestamps exactly as the general path does', () => {
    const two = (lo: number, hi: number) =>
      fc.integer({ min: lo, max: hi }).map((n) => String(n).padStart(2, '0'));
    const stamp = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        two(0, 13),
        two(0, 32),
        two(0, 24),
        two(0, 60),
        two(0, 60),
        fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, '0')),
      )
      .map(([y, mo, d, h, mi, s, f]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${f}Z`);
    fc.assert(
      fc.property(stamp, (s) => {
        // A leading space takes the general (regex) path, which trims it.
        expect(eventInstant(s)).toEqual(eventInstant(` ${s}`));
      }),
      { numRuns: 3000 },
    );
    expect(eventInstant('2026-03-10T12:00:00.123Z')).toEqual({
      iso: '2026-03-10T12:00:00.123000+00:00',
      ms: Date.UTC(2026, 2, 10, 12, 0, 0, 123),
    });
  });

  it.each([
    ['2026-11-24T12:00:00Z', '2026-11-24T12:00:00.000000+00:00', '2026-11-24T12:00:00.000Z'],
    ['2026-11-24T12:00:00.1234567Z', '2026-11-24T12:00:00.123456+00:00', '2026-11-24T12:00:00.123Z'],
    ['2026-11-24T12:00:00.123456', '2026-11-24T12:00:00.123456+00:00', '2026-11-24T12:00:00.123Z'],
    ['2026-11-24 12:00:00+01:00', '2026-11-24T12:00:00.000000+01:00', '2026-11-24T11:00:00.000Z'],
    ['2026-11-24T12:00:00-0530', '2026-11-24T12:00:00.000000-05:30', '2026-11-24T17:30:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000000+00:00', '2024-02-29T00:00:00.000Z'],
    [1764000000, '2025-11-24T16:00:00.000Z', '2025-11-24T16:00:00.000Z'],
    [1764000000123, '2025-11-24T16:00:00.123Z', '2025-11-24T16:00:00.123Z'],
    ['1764000000', '2025-11-24T16:00:00.000Z', '2025-11-24T16:00:00.000Z'],
    ['Mon, 24 Nov 2025 16:00:00 GMT', '2025-11-24T16:00:00.000Z', '2025-11-24T16:00:00.000Z'],
  ])('%j → %s', (input, iso, instant) => {
    const t = eventInstant(input);
    expect(t?.iso).toBe(iso);
    expect(new Date(t!.ms).toISOString()).toBe(instant);
  });

  it.each([
    ['2025-02-29T00:00:00Z'],
    ['2026-13-01T00:00:00Z'],
    ['2026-11-24T24:00:00Z'],
    ['yesterday'],
    [''],
    [null],
    [{}],
    [Number.NaN],
    [-5],
    ['2026-11-31'],
  ])('%j cannot be read', (input) => {
    expect(eventInstant(input)).toBeUndefined();
  });
});

describe('parseEvent', () => {
  it('reads Python NaN as null and marks the item as not strict JSON', () => {
    const p = parseEvent('{"hostname":"h","message":"m","timestamp":"t","x":NaN}', []);
    expect(p.ok && p.event.data.x).toBeNull();
    expect(p.ok && p.event.strict).toBe(false);
  });

  it('reads a text severity and a trap OID with a leading dot', () => {
    const p = parseEvent(
      JSON.stringify({
        hostname: 'h',
        message: 'm',
        timestamp: 't',
        syslog_severity: 'crit',
        trap_oid: '.1.3.6',
        _retry_count: 2,
      }),
      [],
    );
    expect(p.ok && [p.event.severity, p.event.trapOid, p.event.retryCount, p.event.strict]).toEqual([
      2,
      '1.3.6',
      2,
      true,
    ]);
  });

  it('derives a stable correlation id when the event has none', () => {
    const raw = JSON.stringify({ hostname: 'h', message: 'm', timestamp: 't' });
    const a = parseEvent(raw, []);
    const b = parseEvent(raw, []);
    expect(a.ok && a.event.correlationId).toMatch(/^mutt-[0-9a-f]{32}$/);
    expect(a.ok && b.ok && a.event.correlationId === b.event.correlationId).toBe(true);
  });

  it('requires the fields of REQUIRED_MESSAGE_FIELDS too', () => {
    const p = parseEvent(JSON.stringify({ hostname: 'h', message: 'm', timestamp: 't' }), ['source']);
    expect(p).toMatchObject({
      ok: false,
      code: 'missing_field',
      reason: 'missing or empty required field: source',
    });
  });

  it('names each missing field once, the built-in ones first', () => {
    const p = parseEvent(JSON.stringify({ message: 'm', source: ' ' }), [
      'source',
      'hostname',
      'source',
      'team',
    ]);
    expect(p).toMatchObject({
      ok: false,
      code: 'missing_field',
      reason: 'missing or empty required fields: hostname, timestamp, source, team',
    });
  });
});
