import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BerError,
  int,
  octets,
  oid,
  readHeader,
  seq,
  TAG,
  tlv,
  v1TrapMessage,
  v2Message,
  v3Message,
  varbind,
} from './ber.ts';

const trap = v2Message({
  community: 'public',
  requestId: 7,
  varbinds: [varbind('1.3.6.1.6.3.1.1.4.1.0', oid('1.3.6.1.6.3.1.1.5.3'))],
});

describe('readHeader', () => {
  it('reads v1 and v2c headers (community length only, never the community)', () => {
    expect(readHeader(trap)).toEqual({ version: 1, communityBytes: 6 });
    const v1 = v1TrapMessage({
      community: 'secret',
      enterprise: '1.3.6.1.4.1.9',
      agentAddr: '10.0.0.1',
      generic: 6,
      specific: 1,
      timestamp: 5,
      varbinds: [],
    });
    expect(readHeader(v1)).toEqual({ version: 0, communityBytes: 6 });
  });

  it('reads the USM header of a v3 message and locates the digest', () => {
    const engineId = Buffer.from('8000000001020304', 'hex');
    const msg = v3Message({
      msgId: 42,
      flags: 0x05,
      engineId,
      boots: 3,
      time: 1234,
      userName: 'ops',
      authLength: 24,
      contextEngineId: engineId,
      pdu: tlv(TAG.TrapV2, [int(1), int(0), int(0), seq()]),
    });
    const h = readHeader(msg);
    expect(h.version).toBe(3);
    if (h.version !== 3) return;
    expect(h.v3).toMatchObject({
      msgId: 42,
      flags: 5,
      securityModel: 3,
      engineBoots: 3,
      engineTime: 1234,
      userName: 'ops',
    });
    expect(h.v3.engineId.equals(engineId)).toBe(true);
    expect(h.v3.authParams.end - h.v3.authParams.start).toBe(24);
    expect(msg.subarray(h.v3.authParams.start, h.v3.authParams.end).every((b) => b === 0)).toBe(true);
  });

  // Bad input: each row must throw BerError (a decode error), never anything else.
  const bad: [string, Buffer][] = [
    ['empty datagram', Buffer.alloc(0)],
    ['one byte', Buffer.from([0x30])],
    ['not a sequence', Buffer.from([0x02, 0x01, 0x01])],
    ['truncated (length beyond the end)', trap.subarray(0, trap.length - 3)],
    [
      'length field says more than the datagram',
      Buffer.concat([Buffer.from([0x30, 0x82, 0xff, 0xff]), trap.subarray(2)]),
    ],
    ['indefinite length', Buffer.from([0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00])],
    ['5-byte length', Buffer.from([0x30, 0x85, 0, 0, 0, 0, 1, 0])],
    ['unknown version 2', seq(int(2), octets('public'))],
    ['version is not an integer', seq(octets('x'), octets('public'))],
    ['integer of 9 bytes', seq(tlv(TAG.Integer, Buffer.alloc(9)), octets('public'))],
    ['v3 with a 2-octet msgFlags', seq(int(3), seq(int(1), int(1500), octets(Buffer.from([4, 4])), int(3)))],
    ['v3 without security parameters', seq(int(3), seq(int(1), int(1500), octets(Buffer.from([4])), int(3)))],
    ['multi-byte tag', Buffer.from([0x1f, 0x81, 0x01, 0x00])],
  ];
  it.each(bad)('rejects %s with BerError', (_name, buf) => {
    expect(() => readHeader(buf)).toThrow(BerError);
  });

  it('throws only BerError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          readHeader(Buffer.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(BerError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('writer', () => {
  it.each([
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [-1, '0201ff'],
    [-129, '0202ff7f'],
    [2 ** 31 - 1, '02047fffffff'],
  ])('encodes the integer %d', (n, hexText) => {
    expect(int(n).toString('hex')).toBe(hexText);
  });

  it('encodes unsigned application types with a leading zero when needed', () => {
    expect(int(4294967295, TAG.Counter32).toString('hex')).toBe('410500ffffffff');
    expect(int(18446744073709551615n, TAG.Counter64).toString('hex')).toBe('460900ffffffffffffffff');
  });

  it('encodes OIDs with multi-byte arcs', () => {
    expect(oid('1.3.6.1.4.1.2021').toString('hex')).toBe('06072b060104018f65');
  });
});
