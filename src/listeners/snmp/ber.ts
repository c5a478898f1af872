// A small, strict BER codec for what the SNMP listener itself must read or write around net-snmp:
// the SNMPv1/v2c/v3 message header (version, community length, USM security parameters and where the
// authentication digest sits), and the encoding of whole messages for USM reports, tests and the
// benchmark's trap generator. Every read is bounds-checked and throws BerError on malformed input.

export class BerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BerError';
  }
}

export const TAG = {
  Integer: 0x02,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Sequence: 0x30,
  IpAddress: 0x40,
  Counter32: 0x41,
  Gauge32: 0x42,
  TimeTicks: 0x43,
  Opaque: 0x44,
  Counter64: 0x46,
  GetRequest: 0xa0,
  GetResponse: 0xa2,
  TrapV1: 0xa4,
  InformRequest: 0xa6,
  TrapV2: 0xa7,
  Report: 0xa8,
} as const;

export interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

export class BerReader {
  readonly buf: Buffer;
  pos: number;
  private readonly limit: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.limit = end;
  }

  get done(): boolean {
    return this.pos >= this.limit;
  }

  /** Reads a tag and a definite length; leaves `pos` at the first content byte. */
  tlv(expected?: number): Tlv {
    if (this.pos + 2 > this.limit) throw new BerError('truncated header');
    const tag = this.buf[this.pos++]!;
    if ((tag & 0x1f) === 0x1f) throw new BerError('multi-byte tags are not used by SNMP');
    if (expected !== undefined && tag !== expected)
      throw new BerError(`expected tag 0x${expected.toString(16)}, got 0x${tag.toString(16)}`);
    let len = this.buf[this.pos++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0) throw new BerError('indefinite lengths are not allowed');
      if (n > 4) throw new BerError('length too large');
      if (this.pos + n > this.limit) throw new BerError('truncated length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + this.buf[this.pos++]!;
    }
    const start = this.pos;
    const end = start + len;
    if (end > this.limit) throw new BerError('length beyond the end of the message');
    return { tag, start, end };
  }

  /** A constructed value's content as a nested reader (and skips past it here). */
  sequence(expected: number = TAG.Sequence): BerReader {
    const t = this.tlv(expected);
    this.pos = t.end;
    return new BerReader(this.buf, t.start, t.end);
  }

  integer(): number {
    const t = this.tlv(TAG.Integer);
    const n = t.end - t.start;
    if (n < 1 || n > 5) throw new BerError('integer length out of range');
    this.pos = t.end;
    return toSigned(this.buf, t.start, t.end);
  }

  octets(): { value: Buffer; start: number; end: number } {
    const t = this.tlv(TAG.OctetString);
    this.pos = t.end;
    return { value: this.buf.subarray(t.start, t.end), start: t.start, end: t.end };
  }

  skip(): Tlv {
    const t = this.tlv();
    this.pos = t.end;
    return t;
  }
}

function toSigned(buf: Buffer, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 256 + buf[i]!;
  if (buf[start]! & 0x80) v -= 2 ** (8 * (end - start));
  return v;
}

export interface V3Header {
  msgId: number;
  maxSize: number;
  flags: number;
  securityModel: number;
  engineId: Buffer;
  engineBoots: number;
  engineTime: number;
  userName: string;
  /** Where the authentication parameters (the HMAC) sit in the whole message. */
  authParams: { start: number; end: number };
}

export type Header = { version: 0 | 1; communityBytes: number } | { version: 3; v3: V3Header };

export const FLAG_AUTH = 1;
export const FLAG_PRIV = 2;
export const FLAG_REPORTABLE = 4;

/** Reads what precedes the PDU. Throws BerError on anything malformed. */
export function readHeader(buf: Buffer): Header {
  const msg = new BerReader(buf).sequence();
  const version = msg.integer();
  if (version === 0 || version === 1) {
    const community = msg.octets();
    checkPdu(msg, version);
    return { version, communityBytes: community.value.length };
  }
  if (version !== 3) throw new BerError(`unknown SNMP version ${version}`);
  const global = msg.sequence();
  const msgId = global.integer();
  const maxSize = global.integer();
  const flagsOctets = global.octets().value;
  if (flagsOctets.length !== 1) throw new BerError('msgFlags must be one octet');
  const securityModel = global.integer();
  const sp = msg.octets();
  const usm = new BerReader(buf, sp.start, sp.end).sequence();
  const engineId = usm.octets().value;
  const engineBoots = usm.integer();
  const engineTime = usm.integer();
  const userName = usm.octets().value.toString('utf8');
  const auth = usm.octets();
  usm.octets(); // privacy parameters
  return {
    version: 3,
    v3: {
      msgId,
      maxSize,
      flags: flagsOctets[0]!,
      securityModel,
      engineId,
      engineBoots,
      engineTime,
      userName,
      authParams: { start: auth.start, end: auth.end },
    },
  };
}

/** A valid OID encoding: at least one octet, and the last one ends its sub-identifier. */
function checkOid(buf: Buffer, t: Tlv): void {
  if (t.end === t.start) throw new BerError('empty OID');
  if (buf[t.end - 1]! & 0x80) throw new BerError('truncated OID');
}

/**
 * Walks a v1/v2c PDU's structure (every length consistent, the varbind list filling its PDU,
 * nothing after the message) without decoding values, so net-snmp only ever sees well-formed
 * framing; its own lenient reader would otherwise read an over-long varbind list as an empty one.
 */
function checkPdu(msg: BerReader, version: number): void {
  const pduTag = msg.buf[msg.pos];
  const pdu = msg.sequence(pduTag);
  if (!msg.done) throw new BerError('data after the PDU');
  if (pduTag === TAG.TrapV1 && version === 0) {
    checkOid(pdu.buf, pdu.skip()); // enterprise
    pdu.skip(); // agent-addr
    pdu.integer();
    pdu.integer();
    pdu.skip(); // time-stamp
  } else {
    pdu.integer(); // request-id
    pdu.integer(); // error-status / non-repeaters
    pdu.integer(); // error-index / max-repetitions
  }
  const list = pdu.sequence();
  if (!pdu.done) throw new BerError('data after the variable bindings');
  while (!list.done) {
    const vb = list.sequence();
    const name = vb.tlv(TAG.Oid);
    checkOid(vb.buf, name);
    vb.pos = name.end;
    const value = vb.skip();
    if (value.tag === TAG.Oid) checkOid(vb.buf, value);
    if (!vb.done) throw new BerError('data after a variable binding value');
  }
}

// ── Writer ────────────────────────────────────────────────────────────────────────────────────────

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Buffer.from([0x80 | out.length, ...out]);
}

export function tlv(tag: number, content: Buffer | readonly Buffer[]): Buffer {
  const body = Buffer.isBuffer(content) ? content : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...items: Buffer[]) => tlv(TAG.Sequence, items);

/** Two's-complement integer (signed), or unsigned when `tag` is an application type. */
export function int(n: number | bigint, tag: number = TAG.Integer): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  if (tag === TAG.Integer) {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (!((v === 0n && (bytes[0]! & 0x80) === 0) || (v === -1n && (bytes[0]! & 0x80) !== 0)));
  } else {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
    if (bytes[0]! & 0x80) bytes.unshift(0);
  }
  return tlv(tag, Buffer.from(bytes));
}

export const octets = (v: string | Buffer, tag: number = TAG.OctetString) =>
  tlv(tag, Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'));

export const nul = () => Buffer.from([TAG.Null, 0]);

export function oid(dotted: string): Buffer {
  const arcs = dotted
    .replace(/^\./, '')
    .split('.')
    .map((a) => Number(a));
  if (arcs.length < 2 || arcs.some((a) => !Number.isInteger(a) || a < 0))
    throw new BerError(`invalid OID ${dotted}`);
  const out: number[] = [];
  const push = (n: number) => {
    const b: number[] = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) b.unshift((v & 0x7f) | 0x80);
    out.push(...b);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.Oid, Buffer.from(out));
}

export function ipAddress(dotted: string): Buffer {
  return tlv(TAG.IpAddress, Buffer.from(dotted.split('.').map(Number)));
}

/** A varbind value for the writer: [BER tag, encoded TLV]. */
export type EncodedValue = Buffer;
export const varbind = (oidText: string, value: EncodedValue) => seq(oid(oidText), value);

/** SNMPv2c (or v1 with version 0) Trap / InformRequest message. */
export function v2Message(o: {
  community: string;
  pduType?: number;
  requestId: number;
  varbinds: readonly Buffer[];
  version?: number;
}): Buffer {
  return seq(
    int(o.version ?? 1),
    octets(o.community),
    tlv(o.pduType ?? TAG.TrapV2, [int(o.requestId), int(0), int(0), seq(...o.varbinds)]),
  );
}

/** SNMPv1 Trap-PDU message. */
export function v1TrapMessage(o: {
  community: string;
  enterprise: string;
  agentAddr: string;
  generic: number;
  specific: number;
  timestamp: number;
  varbinds: readonly Buffer[];
}): Buffer {
  return seq(
    int(0),
    octets(o.community),
    tlv(TAG.TrapV1, [
      oid(o.enterprise),
      ipAddress(o.agentAddr),
      int(o.generic),
      int(o.specific),
      int(o.timestamp, TAG.TimeTicks),
      seq(...o.varbinds),
    ]),
  );
}

/**
 * An SNMPv3 message with an authentication-parameters placeholder of `authLength` zero octets and
 * the given scoped PDU, unencrypted. The caller computes the HMAC into the placeholder (found with
 * readHeader). Used for the authenticated usmStatsNotInTimeWindows report of RFC 3414 §3.2 step 7a.
 */
export function v3Message(o: {
  msgId: number;
  flags: number;
  engineId: Buffer;
  boots: number;
  time: number;
  userName: string;
  authLength: number;
  contextEngineId: Buffer;
  pdu: Buffer;
  securityModel?: number;
}): Buffer {
  const usm = seq(
    octets(o.engineId),
    int(o.boots),
    int(o.time),
    octets(o.userName),
    octets(Buffer.alloc(o.authLength)),
    octets(Buffer.alloc(0)),
  );
  return seq(
    int(3),
    seq(int(o.msgId), int(65507), octets(Buffer.from([o.flags])), int(o.securityModel ?? 3)),
    octets(usm),
    seq(octets(o.contextEngineId), octets(''), o.pdu),
  );
}
