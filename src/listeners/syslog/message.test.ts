import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEvent, toEvent } from './event.ts';
import { parseBytes, parseText } from './message.ts';
import { inferYear, zonedToUtc } from './time.ts';

interface Corpus {
  now: string;
  source_ip: string;
  cases: { name: string; raw: string; event: Record<string, unknown> }[];
}
const corpus = JSON.parse(readFileSync('test/fixtures/syslog/devices.json', 'utf8')) as Corpus;
const NOW = Date.parse(corpus.now);

const event = (raw: string | Buffer, o: { now?: number; tz?: string } = {}) => {
  const buf = typeof raw === 'string' ? Buffer.from(raw) : raw;
  const m = parseBytes(buf, { now: o.now ?? NOW, tz: o.tz ?? 'UTC' });
  return toEvent(m, corpus.source_ip, corpus.source_ip, o.now ?? NOW, buf.toString('utf8'), false);
};

describe('device corpus', () => {
  it.each(corpus.cases)('$name', ({ raw, event: expected }) => {
    const e = event(raw);
    expect(e).toMatchObject({ ...expected, source: 'syslog', source_ip: corpus.source_ip });
    expect(e.parse_error).toBeUndefined();
    expect(e.received_at).toBe(corpus.now);
    expect(e._correlation_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('bad input: parsed as far as possible, flagged, never thrown', () => {
  it.each([
    {
      name: 'PRI <999>',
      raw: '<999>Mar 10 11:00:00 host1 app: text',
      want: { hostname: 'host1', syslog_severity: 5, facility: 1, message: 'text', app_name: 'app' },
      error: /invalid PRI <999>/,
    },
    {
      name: 'February 30 (RFC 3164)',
      raw: '<13>Feb 30 10:00:00 host1 app: leap',
      want: { hostname: 'host1', message: 'leap', timestamp: corpus.now },
      error: /invalid timestamp "Feb 30 10:00:00"/,
    },
    {
      name: 'February 30 (RFC 5424)',
      raw: '<13>1 2026-02-30T10:00:00Z host1 app - - - leap',
      want: { hostname: 'host1', message: 'leap', app_name: 'app', timestamp: corpus.now },
      error: /invalid timestamp "2026-02-30T10:00:00Z"/,
    },
    {
      name: 'binary garbage',
      raw: Buffer.from([0xff, 0x00, 0x01, 0x9c, 0x41, 0xfe, 0x0a, 0x42]),
      want: { hostname: corpus.source_ip, invalid_utf8: true },
      error: /not a syslog message/,
    },
    {
      name: 'RFC 5424 with an unterminated structured-data value',
      raw: '<13>1 2026-03-10T10:00:00Z host1 app - - [id k="v',
      want: { hostname: 'host1', message: '[id k="v' },
      error: /unterminated SD-PARAM/,
    },
    {
      name: 'RFC 5424 cut after the version',
      raw: '<13>1 2026-03-10T10:00:00Z',
      want: { message: '2026-03-10T10:00:00Z', hostname: corpus.source_ip },
      error: /missing header fields/,
    },
  ])('$name', ({ raw, want, error }) => {
    const e = event(raw);
    expect(e).toMatchObject(want);
    expect(e.parse_error).toMatch(error);
  });

  it('invalid UTF-8 is replaced and flagged; the rest parses', () => {
    const raw = Buffer.concat([Buffer.from('<13>Mar 10 11:00:00 host1 app: caf'), Buffer.from([0xe9, 0x21])]);
    const e = event(raw);
    expect(e).toMatchObject({
      hostname: 'host1',
      app_name: 'app',
      message: 'caf\uFFFD!',
      invalid_utf8: true,
    });
    expect(e.parse_error).toBeUndefined();
  });

  it('an empty body keeps the line as the message (message is a required field)', () => {
    expect(event('<13>Mar 10 11:00:00 host1 app:').message).toBe('<13>Mar 10 11:00:00 host1 app:');
  });
});

describe('time', () => {
  it('infers last year for a December message read in January', () => {
    const now = Date.parse('2026-01-01T00:00:10Z');
    expect(event('<13>Dec 31 23:59:59 host1 app: old', { now }).timestamp).toBe('2025-12-31T23:59:59.000Z');
    expect(inferYear(0, 1, Date.parse('2026-12-31T23:59:00Z'), 'UTC')).toBe(2027);
    expect(inferYear(2, 10, NOW, 'UTC')).toBe(2026);
  });

  it('reads timestamps without an offset in SYSLOG_DEFAULT_TIMEZONE', () => {
    expect(event('<13>Mar 10 13:00:00 host1 app: x', { tz: 'Europe/Paris' }).timestamp).toBe(
      '2026-03-10T12:00:00.000Z',
    );
    // summer time
    expect(event('<13>Jul 10 14:00:00 host1 app: x', { tz: 'Europe/Paris' }).timestamp).toBe(
      '2025-07-10T12:00:00.000Z',
    );
    expect(zonedToUtc('America/New_York', 2026, 0, 15, 7, 0, 0, 0)).toBe(Date.parse('2026-01-15T12:00:00Z'));
    // An explicit UTC zone wins over the default
    expect(event('<189>1: Mar 10 2026 13:00:00 UTC: %SYS-5-X: y', { tz: 'Europe/Paris' }).timestamp).toBe(
      '2026-03-10T13:00:00.000Z',
    );
  });

  it('RFC 5424 offsets and fractions', () => {
    expect(event('<13>1 2026-03-10T10:00:00.5-05:30 h a - - - m').timestamp).toBe('2026-03-10T15:30:00.500Z');
    expect(event('<13>1 2026-03-10T10:00:00.123456789Z h a - - - m').timestamp).toBe(
      '2026-03-10T10:00:00.123Z',
    );
  });
});

describe('structured data', () => {
  it('keeps repeated parameters and escapes', () => {
    const e = event('<13>1 - h a - - [x@1 k="1" k="2" p="a\\\\b\\c"] m');
    expect(e.structured_data).toEqual({ 'x@1': { k: ['1', '2'], p: 'a\\b\\c' } });
    expect(e.message).toBe('m');
  });
});

describe('properties', () => {
  it('the hot-path JSON is exactly JSON.stringify of the event', () => {
    const same = (bytes: Buffer) => {
      const m = parseBytes(bytes, { now: NOW, tz: 'UTC' });
      const raw = bytes.toString('utf8');
      const a = JSON.parse(encodeEvent(m, '192.0.2.1', 'h"1', NOW, raw, true)) as Record<string, unknown>;
      const b = JSON.parse(JSON.stringify(toEvent(m, '192.0.2.1', 'h"1', NOW, raw, true))) as Record<
        string,
        unknown
      >;
      expect(typeof a._correlation_id).toBe('string');
      delete a._correlation_id;
      delete b._correlation_id;
      expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    };
    for (const c of corpus.cases) same(Buffer.from(c.raw));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => same(Buffer.from(bytes))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) =>
        same(Buffer.from(`<13>1 - h"\\ a - [x@1 k="\\"] ${text}`)),
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary bytes, always yields a non-empty message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const e = event(Buffer.from(bytes));
        expect(typeof e.message).toBe('string');
        expect(e.message.length).toBeGreaterThan(0);
        expect(e.syslog_severity).toBeGreaterThanOrEqual(0);
        expect(e.syslog_severity).toBeLessThanOrEqual(7);
        expect(Number.isNaN(Date.parse(e.timestamp))).toBe(false);
        JSON.stringify(e);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on syslog-shaped text', () => {
    const piece = fc.constantFrom(
      '<13>',
      '<189>',
      '<999>',
      '1 ',
      '123: ',
      '*',
      'Mar ',
      ' 1 ',
      '10 ',
      '2026 ',
      '10:00:00',
      '.123',
      ' UTC',
      ': ',
      ' ',
      'host',
      'app[12]',
      '[id k="v\\"]',
      '"',
      ']',
      '\\',
      '%SYS-5-X:',
      '-',
      '2026-02-30T10:00:00Z',
      '2026-03-10T10:00:00+01:00',
      '\uFEFF',
      '\u0000',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const text = parts.join('');
        const m = parseText(text, { now: NOW, tz: 'Europe/Paris' });
        expect(typeof m.message).toBe('string');
        const e = event(text);
        JSON.parse(JSON.stringify(e));
      }),
      { numRuns: 5000 },
    );
  });

  it('does not hang on long adversarial input', () => {
    const long = `<13>1 - h a - - [x${' k="v"'.repeat(20_000)}`;
    const started = performance.now();
    parseText(long, { now: NOW, tz: 'UTC' });
    parseText('%A-'.repeat(50_000), { now: NOW, tz: 'UTC' });
    parseText(`<13>${'Mar 10 '.repeat(20_000)}`, { now: NOW, tz: 'UTC' });
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
