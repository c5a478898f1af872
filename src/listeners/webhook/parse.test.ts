import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MuttError } from '../../errors.ts';
import { parseBody, prepareEvent } from './parse.ts';

const REQUIRED = ['timestamp', 'message', 'hostname'];
const ctx = {
  required: REQUIRED,
  receivedAt: '2026-01-01T00:00:00.000Z',
  sourceIp: '192.0.2.1',
  fallbackCorrelationId: () => 'req-1:0',
};
const good = { hostname: 'r1', message: 'link down', timestamp: '2025-11-08T12:00:00Z' };

describe('parseBody', () => {
  it('reads one object', () => {
    expect(parseBody(JSON.stringify(good))).toEqual({ kind: 'single', value: good });
  });
  it('reads a JSON array as a batch', () => {
    const r = parseBody(JSON.stringify([good, good]));
    expect(r.kind).toBe('batch');
    expect(r.kind === 'batch' && r.items.length).toBe(2);
  });
  it('reads newline-delimited JSON (rsyslog omhttp batch.format="newline") with per-line errors', () => {
    const r = parseBody(`${JSON.stringify(good)}\n\n{broken\n${JSON.stringify(good)}\n`);
    expect(r.kind).toBe('batch');
    if (r.kind !== 'batch') return;
    expect(r.items.map((i) => i.ok)).toEqual([true, false, true]);
    expect(r.items[1]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^line 2 is not valid JSON/),
    });
  });
  it('reads Python NaN', () => {
    expect(parseBody('{"hostname":"h","value":NaN}')).toEqual({
      kind: 'single',
      value: { hostname: 'h', value: null },
    });
  });

  // Bad bodies: each must be a 400 naming the problem.
  const bad: [string, string, RegExp][] = [
    ['an unterminated object', '{', /^Request body is not valid JSON: /],
    ['null', 'null', /must be a JSON object or an array of objects \(got null\)/],
    ['a number', '42', /\(got a number\)/],
    ['a string', '"x"', /\(got a string\)/],
    ['plain text', 'router1 link down', /^Request body is not valid JSON: /],
    ['an empty array', '[]', /empty array/],
    ['an empty body', '', /^Request body is empty$/],
    ['whitespace', ' \n ', /^Request body is empty$/],
    ['lines that are all broken', '{a\n{b', /^Request body is not valid JSON/],
  ];
  for (const [name, body, message] of bad) {
    it(`refuses ${name} with 400`, () => {
      try {
        parseBody(body);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(MuttError);
        expect((err as MuttError).status).toBe(400);
        expect((err as MuttError).message).toMatch(message);
      }
    });
  }

  it('never throws anything but a MuttError, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        try {
          parseBody(s);
        } catch (err) {
          expect(err).toBeInstanceOf(MuttError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('prepareEvent', () => {
  it('adds the bookkeeping fields and keeps everything else', () => {
    const p = prepareEvent({ ...good, custom: { a: 1 } }, { ...ctx, correlationId: 'cid-1' });
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(JSON.parse(p.json)).toEqual({
      ...good,
      custom: { a: 1 },
      _correlation_id: 'cid-1',
      received_at: ctx.receivedAt,
      source: 'webhook',
      source_ip: '192.0.2.1',
    });
  });

  it('keeps what the client set for source, source_ip and received_at', () => {
    const p = prepareEvent({ ...good, source: 'solarwinds', source_ip: '10.0.0.1', received_at: 'x' }, ctx);
    expect(p.ok && JSON.parse(p.json)).toMatchObject({
      source: 'solarwinds',
      source_ip: '10.0.0.1',
      received_at: 'x',
    });
  });

  it('keeps an event’s own correlation id, else uses the fallback', () => {
    const own = prepareEvent({ ...good, _correlation_id: 'mine-1' }, ctx);
    expect(own.ok && [own.correlationId, own.own]).toEqual(['mine-1', true]);
    const fresh = prepareEvent({ ...good, _correlation_id: 'bad id with spaces' }, ctx);
    expect(fresh.ok && [fresh.correlationId, fresh.own]).toEqual(['req-1:0', false]);
    const forced = prepareEvent({ ...good, _correlation_id: 'mine-1' }, { ...ctx, correlationId: 'hdr' });
    expect(forced.ok && [forced.correlationId, forced.own]).toEqual(['hdr', false]);
  });

  const severities: [unknown, number, string | undefined][] = [
    ['Warning', 4, 'Warning'],
    ['err', 3, 'err'],
    ['CRITICAL', 2, 'CRITICAL'],
    [5, 5, undefined],
    ['6', 6, undefined],
  ];
  for (const [input, n, label] of severities) {
    it(`normalises syslog_severity ${JSON.stringify(input)}`, () => {
      const p = prepareEvent({ ...good, syslog_severity: input }, ctx);
      expect(p.ok).toBe(true);
      if (!p.ok) return;
      const ev = JSON.parse(p.json);
      expect(ev.syslog_severity).toBe(n);
      expect(ev.severity_label).toBe(label);
    });
  }

  it('derives syslog_severity from a severity label', () => {
    const p = prepareEvent({ ...good, severity: 'Error' }, ctx);
    expect(p.ok && JSON.parse(p.json)).toMatchObject({
      syslog_severity: 3,
      severity_label: 'Error',
      severity: 'Error',
    });
  });

  it('leaves a non-syslog severity alone', () => {
    const p = prepareEvent({ ...good, severity: 'Major' }, ctx);
    expect(p.ok && JSON.parse(p.json).syslog_severity).toBeUndefined();
  });

  const bad: [string, unknown, string][] = [
    ['missing hostname', { message: 'm', timestamp: 't' }, 'Missing or empty required field(s): hostname'],
    ['every field missing', {}, 'Missing or empty required field(s): timestamp, message, hostname'],
    [
      'empty and blank fields',
      { ...good, hostname: '', message: '   ' },
      'Missing or empty required field(s): message, hostname',
    ],
    ['null field', { ...good, timestamp: null }, 'Missing or empty required field(s): timestamp'],
    ['object field', { ...good, message: { a: 1 } }, 'Field(s) must be a string or number: message'],
    ['an array item', [1, 2], 'event must be a JSON object (got an array)'],
    ['a number item', 1, 'event must be a JSON object (got a number)'],
    ['a severity out of range', { ...good, syslog_severity: 9 }, 'syslog_severity: expected an integer 0-7'],
    [
      'an unknown severity label',
      { ...good, syslog_severity: 'banana' },
      'syslog_severity: expected an integer 0-7',
    ],
  ];
  for (const [name, value, message] of bad) {
    it(`rejects ${name}`, () => {
      const p = prepareEvent(value, ctx);
      expect(p.ok).toBe(false);
      expect(!p.ok && p.error).toContain(message);
    });
  }

  it('reports nesting too deep to serialise instead of throwing', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const p = prepareEvent({ ...good, deep }, ctx);
    expect(p.ok).toBe(false);
    expect(!p.ok && p.error).toMatch(/cannot be serialised/);
  });
});
