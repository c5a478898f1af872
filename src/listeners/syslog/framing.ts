// RFC 6587 framing of a syslog byte stream (TCP and TLS), detected per frame: a frame that starts
// with a digit followed by digits and a space is octet-counted ("87 <13>1 …"), any other is
// terminated by LF or NUL (rsyslog's and most devices' "traditional" framing). Frames may be split
// across reads in any way. A frame longer than the maximum message size is cut at that size and
// flagged; the rest of it is skipped, so one huge message cannot make memory grow.

export interface FramerOptions {
  /** SYSLOG_MAX_MESSAGE_SIZE in bytes. */
  maxSize: number;
  onFrame: (frame: Buffer, truncated: boolean) => void;
}

const LF = 10;
const NUL = 0;
const CR = 13;
const SP = 32;
/** "2147483647 " — longer digit runs are not an octet count. */
const MAX_COUNT_DIGITS = 10;

export class Framer {
  private readonly maxSize: number;
  private readonly onFrame: FramerOptions['onFrame'];
  /** Bytes of an incomplete frame (count prefix excluded). */
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Octet-counted frame: bytes still expected; -1 in LF mode or between frames. */
  private remaining = -1;
  /** Bytes of the current octet-counted frame to drop after truncation. */
  private skip = 0;
  /** LF mode: dropping the rest of a line that was too long. */
  private skipLine = false;
  /** Digits of an octet count split across reads. */
  private countDigits = '';
  private truncatedFrame = false;
  private inLine = false;
  /** Frames cut at maxSize. */
  truncations = 0;

  constructor(o: FramerOptions) {
    this.maxSize = o.maxSize;
    this.onFrame = o.onFrame;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.partBytes + this.countDigits.length;
  }

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        continue;
      }
      if (this.remaining >= 0) {
        i = this.octets(chunk, i);
        continue;
      }
      if (this.skipLine) {
        const end = terminator(chunk, i);
        if (end === -1) return;
        this.skipLine = false;
        this.inLine = false;
        i = end + 1;
        continue;
      }
      if (!this.inLine) {
        // Between frames: stray line ends, then an octet count or the start of a line.
        const c = chunk[i]!;
        if (this.countDigits.length === 0 && (c === LF || c === CR || c === NUL || c === SP)) {
          i++;
          continue;
        }
        if ((c >= 48 && c <= 57) || this.countDigits.length > 0) {
          const carried = this.countDigits.length;
          const r = this.count(chunk, i);
          if (r >= 0) {
            i = r;
            continue;
          }
          // Not an octet count (digits then something else): the digits start a line. Those of
          // this chunk are read again from i; those of earlier chunks are only in countDigits.
          const digits = Buffer.from(this.countDigits.slice(0, carried), 'latin1');
          this.countDigits = '';
          this.inLine = true;
          this.append(digits);
          continue;
        }
        this.inLine = true;
      }
      i = this.line(chunk, i);
    }
  }

  /** Reads count digits at i: the index after "NNN " (or the chunk's end, digits kept), -1 if not a count. */
  private count(chunk: Buffer, i: number): number {
    const n = chunk.length;
    while (i < n) {
      const c = chunk[i]!;
      if (c >= 48 && c <= 57 && this.countDigits.length < MAX_COUNT_DIGITS) {
        if (this.countDigits.length === 0 && c === 48) return -1; // counts have no leading zero
        this.countDigits += String.fromCharCode(c);
        i++;
        continue;
      }
      if (c === SP && this.countDigits.length > 0) {
        const len = Number(this.countDigits);
        this.countDigits = '';
        this.remaining = Math.min(len, this.maxSize);
        this.skip = 0;
        this.truncatedFrame = len > this.maxSize;
        this.pendingSkip = len > this.maxSize ? len - this.maxSize : 0;
        if (this.remaining === 0) this.remaining = -1;
        return i + 1;
      }
      return -1;
    }
    return n; // digits so far kept in countDigits
  }

  private pendingSkip = 0;

  private octets(chunk: Buffer, i: number): number {
    const take = Math.min(this.remaining, chunk.length - i);
    this.remaining -= take;
    if (this.remaining === 0) {
      const last = chunk.subarray(i, i + take);
      const frame = this.partBytes === 0 ? last : this.concat(last);
      this.remaining = -1;
      const truncated = this.truncatedFrame;
      if (truncated) this.truncations++;
      this.skip = this.pendingSkip;
      this.pendingSkip = 0;
      this.truncatedFrame = false;
      this.onFrame(frame, truncated);
    } else this.append(chunk.subarray(i, i + take));
    return i + take;
  }

  private line(chunk: Buffer, i: number): number {
    const end = terminator(chunk, i);
    const stop = end === -1 ? chunk.length : end;
    if (this.partBytes + (stop - i) > this.maxSize) {
      const room = this.maxSize - this.partBytes;
      const frame = this.concat(chunk.subarray(i, i + room));
      this.truncations++;
      this.onFrame(frame, true);
      this.inLine = false;
      if (end === -1) {
        this.skipLine = true;
        this.inLine = true;
        return chunk.length;
      }
      return end + 1;
    }
    if (end === -1) {
      this.append(chunk.subarray(i));
      return chunk.length;
    }
    const piece = chunk.subarray(i, end);
    const frame = this.partBytes === 0 ? piece : this.concat(piece);
    this.inLine = false;
    if (frame.length > 0) this.onFrame(frame, false);
    return end + 1;
  }

  /**
   * End of the stream: an unterminated line is a message (rsyslog does the same); an incomplete
   * octet-counted frame is returned as truncated.
   */
  end(): void {
    if (this.partBytes > 0 && !this.skipLine) {
      const frame = this.concat(Buffer.alloc(0));
      const truncated = this.remaining > 0;
      if (truncated) this.truncations++;
      this.onFrame(frame, truncated);
    }
    this.parts = [];
    this.partBytes = 0;
    this.remaining = -1;
  }

  private append(b: Buffer): void {
    if (b.length === 0) return;
    // Copy: the socket may reuse its read buffer.
    this.parts.push(Buffer.from(b));
    this.partBytes += b.length;
  }

  private concat(last: Buffer): Buffer {
    const all = last.length > 0 ? [...this.parts, last] : this.parts;
    const frame = Buffer.concat(all, this.partBytes + last.length);
    this.parts = [];
    this.partBytes = 0;
    return frame;
  }
}

/** Index of the next LF or NUL at or after i, or -1. */
function terminator(chunk: Buffer, i: number): number {
  const lf = chunk.indexOf(LF, i);
  const limit = lf === -1 ? chunk.length : lf;
  // NUL-terminated senders (some old appliances) never send LF; look for NUL only up to the LF.
  const nul = limit - i > 0 ? chunk.subarray(i, limit).indexOf(NUL) : -1;
  return nul === -1 ? lf : i + nul;
}
