// What UDP, TCP and TLS share per message: bytes → parsed message → event JSON, with the counts
// kept in plain numbers on the hot path and added to the Prometheus counters once per batch.
import { encodeEvent, type SyslogEvent, toEvent } from './event.ts';
import { parseBytes, type SyslogMessage } from './message.ts';
import type { SyslogTelemetry, Transport } from './metrics.ts';

export class Intake {
  readonly transport: Transport;
  private readonly tz: string;
  private readonly t: SyslogTelemetry;
  private messages = 0;
  private bytes = 0;
  private parseErrors = 0;
  private truncations = 0;

  constructor(transport: Transport, tz: string, telemetry: SyslogTelemetry) {
    this.transport = transport;
    this.tz = tz;
    this.t = telemetry;
  }

  /** One message as an event object (the path that still has to fill in `hostname`). */
  event(buf: Buffer, truncated: boolean, sourceIp: string, fallbackHost: string, now: number): SyslogEvent {
    const { m, raw } = this.parse(buf, truncated, now);
    return toEvent(m, sourceIp, fallbackHost, now, raw, truncated);
  }

  /** One message as event JSON (the hot path). */
  encode(buf: Buffer, truncated: boolean, sourceIp: string, fallbackHost: string, now: number): string {
    const { m, raw } = this.parse(buf, truncated, now);
    return encodeEvent(m, sourceIp, fallbackHost, now, raw, truncated);
  }

  private parse(buf: Buffer, truncated: boolean, now: number): { m: SyslogMessage; raw: string } {
    this.messages++;
    this.bytes += buf.length;
    const m = parseBytes(buf, { now, tz: this.tz });
    if (m.parseError !== undefined) this.parseErrors++;
    if (truncated) this.truncations++;
    // An empty body keeps the whole line as the message (only then is the line needed).
    const raw = m.message.length === 0 ? buf.toString('utf8').replace(/[\r\n\0]+$/, '') : '';
    return { m, raw };
  }

  /** Adds the counts gathered since the last call to the Prometheus counters. */
  flush(): void {
    if (this.messages === 0) return;
    const labels = { transport: this.transport };
    this.t.messages.inc(labels, this.messages);
    this.t.bytes.inc(labels, this.bytes);
    if (this.parseErrors > 0) this.t.parseErrors.inc(labels, this.parseErrors);
    if (this.truncations > 0) this.t.truncated.inc(labels, this.truncations);
    this.messages = 0;
    this.bytes = 0;
    this.parseErrors = 0;
    this.truncations = 0;
  }
}
