import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MibStore } from './mib/store.ts';
import { applyHint, formatVarbind, hex, printable, renderPair, timeticks } from './varbinds.ts';

const mib = MibStore.load([resolve('etc/mibs')]);

describe('formatVarbind', () => {
  const rows: [string, { oid: string; type: number; value: unknown }, Record<string, unknown>][] = [
    [
      'enumeration',
      { oid: '1.3.6.1.2.1.2.2.1.8.3', type: 2, value: 2 },
      { name: 'IF-MIB::ifOperStatus.3', type: 'Integer', value: 2, display: 'down(2)' },
    ],
    [
      'unknown enumeration value',
      { oid: '1.3.6.1.2.1.2.2.1.8.3', type: 2, value: 99 },
      { type: 'Integer', value: 99, display: undefined },
    ],
    [
      'printable string',
      { oid: '1.3.6.1.2.1.1.5.0', type: 4, value: Buffer.from('core-sw1') },
      { name: 'SNMPv2-MIB::sysName.0', value: 'core-sw1', encoding: undefined },
    ],
    [
      'UTF-8 string',
      { oid: '1.3.6.1.2.1.1.6.0', type: 4, value: Buffer.from('Zürich, étage 2') },
      { value: 'Zürich, étage 2' },
    ],
    [
      'multi-line string',
      { oid: '1.3.6.1.2.1.1.6.0', type: 4, value: Buffer.from('a\nb') },
      { value: 'a\nb' },
    ],
    [
      'binary string as hex',
      { oid: '1.3.6.1.4.1.99.1', type: 4, value: Buffer.from([0, 0x1a, 0xff]) },
      { value: '00 1A FF', encoding: 'hex', name: undefined },
    ],
    [
      'invalid UTF-8 as hex',
      { oid: '1.3.6.1.4.1.99.1', type: 4, value: Buffer.from([0xc3, 0x28]) },
      { value: 'C3 28', encoding: 'hex' },
    ],
    [
      'MAC address with its DISPLAY-HINT',
      { oid: '1.3.6.1.2.1.2.2.1.6.1', type: 4, value: Buffer.from('001a2b3c4d5e', 'hex') },
      { value: '00 1A 2B 3C 4D 5E', display: '00:1a:2b:3c:4d:5e' },
    ],
    [
      'TimeTicks as a string',
      { oid: '1.3.6.1.2.1.1.3.0', type: 67, value: 8640123 },
      { type: 'TimeTicks', value: '8640123', display: '(8640123) 1 day, 0:00:01.23' },
    ],
    [
      'Counter64 beyond 2^53',
      { oid: '1.3.6.1.2.1.31.1.1.1.6.1', type: 70, value: Buffer.from('ffffffffffffffff', 'hex') },
      { type: 'Counter64', value: '18446744073709551615' },
    ],
    [
      'Counter32',
      { oid: '1.3.6.1.2.1.2.2.1.10.1', type: 65, value: 4294967295 },
      { type: 'Counter32', value: 4294967295 },
    ],
    [
      'Gauge32',
      { oid: '1.3.6.1.2.1.2.2.1.5.1', type: 66, value: 1000000000 },
      { type: 'Gauge32', value: 1000000000 },
    ],
    [
      'IpAddress',
      { oid: '1.3.6.1.6.3.18.1.3.0', type: 64, value: '192.0.2.7' },
      { type: 'IpAddress', value: '192.0.2.7' },
    ],
    [
      'OID value named by the MIB',
      { oid: '1.3.6.1.6.3.1.1.4.1.0', type: 6, value: '1.3.6.1.6.3.1.1.5.3' },
      { type: 'ObjectIdentifier', value: '1.3.6.1.6.3.1.1.5.3', display: 'IF-MIB::linkDown' },
    ],
    ['Null', { oid: '1.3.6.1.4.1.99.2', type: 5, value: null }, { type: 'Null', value: null }],
    [
      'noSuchInstance',
      { oid: '1.3.6.1.4.1.99.2', type: 129, value: null },
      { type: 'NoSuchInstance', value: null },
    ],
    [
      'Opaque as hex',
      { oid: '1.3.6.1.4.1.99.3', type: 68, value: Buffer.from([0x9f, 0x78]) },
      { type: 'Opaque', value: '9F 78', encoding: 'hex' },
    ],
  ];
  it.each(rows)('%s', (_name, vb, expected) => {
    const out = formatVarbind(vb, mib) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected)) expect(out[k]).toEqual(v);
    expect(out.oid).toBe(vb.oid);
  });

  it('counts translated and numeric OIDs', () => {
    const stats = { translated: 0, numeric: 0 };
    formatVarbind({ oid: '1.3.6.1.2.1.1.5.0', type: 4, value: Buffer.from('x') }, mib, stats);
    formatVarbind({ oid: '1.3.6.1.4.1.99.1', type: 4, value: Buffer.from('x') }, mib, stats);
    formatVarbind({ oid: '1.3.6.1.2.1.1.5.0', type: 4, value: Buffer.from('x') }, undefined, stats);
    expect(stats).toEqual({ translated: 1, numeric: 2 });
  });
});

describe('helpers', () => {
  it.each([
    ['255a', Buffer.from('hello'), 'hello'],
    ['1x:', Buffer.from([0, 1, 0xab]), '00:01:ab'],
    ['1d.1d.1d.1d', Buffer.from([10, 0, 0, 1]), '10.0.0.1'],
    [
      '2d-1d-1d,1d:1d:1d.1d,1a1d:1d',
      Buffer.from('07ea0b180c0000002b0000', 'hex'),
      '2026-11-24,12:0:0.0,+0:0',
    ],
    ['*1x:', Buffer.from([2, 0xaa, 0xbb]), 'aa:bb'],
  ])('DISPLAY-HINT %s', (hint, buf, expected) => {
    expect(applyHint(hint, buf)).toBe(expected);
  });
  it('ignores hints it cannot parse', () => {
    expect(applyHint('zz', Buffer.from('x'))).toBeUndefined();
  });
  it('tells printable text from binary', () => {
    expect(printable(Buffer.from('tab\tok'))).toBe('tab\tok');
    expect(printable(Buffer.from([0x41, 0x00]))).toBeUndefined();
    expect(printable(Buffer.from('\u0085', 'utf8'))).toBeUndefined();
    expect(hex(Buffer.from([1, 255]))).toBe('01 FF');
  });
  it('renders TimeTicks like Net-SNMP', () => {
    expect(timeticks(0)).toBe('(0) 0:00:00.00');
    expect(timeticks(17280000)).toBe('(17280000) 2 days, 0:00:00.00');
  });
  it.each([
    [{ oid: '1.2', name: 'X::a.1', type: 'Integer', value: 2, display: 'down(2)' }, 'X::a.1=down(2)'],
    [{ oid: '1.2', type: 'OctetString', value: 'two words' }, '1.2="two words"'],
    [{ oid: '1.2', type: 'OctetString', value: 'a=b' }, '1.2="a=b"'],
    [{ oid: '1.2', type: 'OctetString', value: 'line\nbreak' }, '1.2="line\\nbreak"'],
    [{ oid: '1.2', type: 'OctetString', value: '' }, '1.2=""'],
    [{ oid: '1.2', type: 'Null', value: null }, '1.2=null'],
  ] as const)('renders %o as %s', (vb, text) => {
    expect(renderPair(vb)).toBe(text);
  });
});
