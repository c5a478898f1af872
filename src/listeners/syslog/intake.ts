// What UDP, TCP and TLS share per message: bytes → parsed message → event JSON, with the counts
// kept in plain numbers on the hot path and added to the Prometheus counters once per batch.
import { encodeEvent, type SyslogEvent, toEvent } from './event.ts';
import { parseBytes, type SyslogMessage } from './message.ts';
import type { SyslogTelemetry, Transport } from './metrics.ts';

/** One message read (a datagram or a TCP frame) and what its event needs besides the bytes. */
export interface Frame {
  buf: Buffer;
  truncated: boolean;
  sourceIp: string;
  /** The hostname for a message whose header names none (the source address or its name). */
  fallbackHost: string;
  /** Reception time, epoch ms. */
  now: number;
}

function parse(buf: Buffer, tz: string, now: number): { m: SyslogMessage; raw: string } {
  const m = parseBytes(buf, { now, tz });
  // An empty body keeps the whole line as the message (only then is the line needed).
  const raw = m.message.length === 0 ? buf.toString('utf8').replace(/[\r\n\0]+$/, '') : '';
  return { m, raw };
}

/**
 * The event JSON of one frame; `counts.parseErrors` is incremented for a message that could not be
 * parsed in full. Pure: the parser thread runs it too.
 */
export function encodeFrame(f: Frame, tz: string, counts: { parseErrors: number }): string {
  const { m, raw } = parse(f.buf, tz, f.now);
  if (m.parseError !== undefined) counts.parseErrors++;
  return encodeEvent(m, f.sourceIp, f.fallbackHost, f.now, raw, f.truncated);
}

export class Intake {
  readonly transport: Transport;
  readonly tz: string;
  private readonly t: SyslogTelemetry;
  private messages = 0;
  private bytes = 0;
  private readonly counts = { parseErrors: 0 };
  private truncations = 0;

  constructor(transport: Transport, tz: string, telemetry: SyslogTelemetry) {
    this.transport = transport;
    this.tz = tz;
    this.t = telemetry;
  }

  /** Counts a message read (every message is counted once, wherever it is parsed). */
  received(bytes: number, truncated: boolean): void {
    this.messages++;
    this.bytes += bytes;
    if (truncated) this.truncations++;
  }

  /** Parse errors found by the parser thread. */
  addParseErrors(n: number): void {
    this.counts.parseErrors += n;
  }

  /** One message as an event object (the path that still has to fill in `hostname`). */
  event(buf: Buffer, truncated: boolean, sourceIp: string, fallbackHost: string, now: number): SyslogEvent {
    this.received(buf.length, truncated);
    const { m, raw } = parse(buf, this.tz, now);
    if (m.parseError !== undefined) this.counts.parseErrors++;
    return toEvent(m, sourceIp, fallbackHost, now, raw, truncated);
  }

  /** The event JSON of a frame already counted by received(). */
  encode(f: Frame): string {
    return encodeFrame(f, this.tz, this.counts);
  }

  /** Adds the counts gathered since the last call to the Prometheus counters. */
  flush(): void {
    if (this.messages === 0 && this.counts.parseErrors === 0) return;
    const labels = { transport: this.transport };
    if (this.messages > 0) {
      this.t.messages.inc(labels, this.messages);
      this.t.bytes.inc(labels, this.bytes);
    }
    if (this.counts.parseErrors > 0) this.t.parseErrors.inc(labels, this.counts.parseErrors);
    if (this.truncations > 0) this.t.truncated.inc(labels, this.truncations);
    this.messages = 0;
    this.bytes = 0;
    this.counts.parseErrors = 0;
    this.truncations = 0;
  }
}
