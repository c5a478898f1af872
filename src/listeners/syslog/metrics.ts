// Syslog listener telemetry, labelled by transport (udp, tcp, tls). Reasons come from the bounded
// sets below, so garbage cannot create series. What is counted as a problem is also logged,
// rate-limited, through `SyslogTelemetry.warn`, so the two never drift. The kernel's UDP
// RcvbufErrors (datagrams dropped before MUTT could read them) are read from /proc/net/snmp when
// /metrics is scraped.
import { readFileSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../runtime/logging.ts';
import { LogLimiter } from '../../runtime/logging.ts';

export const TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const SHED_REASONS = ['queue_full', 'buffer_full', 'shutdown'] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

export const CLOSE_REASONS = [
  'max_connections',
  'idle_timeout',
  'tls_handshake',
  'socket_error',
  'shutdown',
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export class SyslogTelemetry {
  readonly messages: Counter<'transport'>;
  readonly bytes: Counter<'transport'>;
  readonly queued: Counter<'transport'>;
  readonly parseErrors: Counter<'transport'>;
  readonly truncated: Counter<'transport'>;
  readonly parsedOnMain: Counter;
  readonly parserThreadInUse: Gauge;
  readonly shed: Counter<'transport' | 'reason'>;
  readonly connections: Gauge<'transport'>;
  readonly closed: Counter<'transport' | 'reason'>;
  readonly paused: Gauge<'transport'>;
  readonly pending: Gauge<string>;
  readonly rcvbufErrors: Gauge<'ip'>;
  private readonly log: Logger;
  private readonly limiter: LogLimiter;

  constructor(registry: Registry, log: Logger, limiter = new LogLimiter()) {
    this.log = log;
    this.limiter = limiter;
    const r = [registry];
    const labelNames = ['transport'] as const;
    this.messages = new Counter({
      name: 'mutt_syslog_messages_total',
      help: 'Syslog messages read (UDP datagrams, TCP/TLS frames), by transport',
      labelNames,
      registers: r,
    });
    this.bytes = new Counter({
      name: 'mutt_syslog_bytes_total',
      help: 'Bytes of syslog messages read, by transport',
      labelNames,
      registers: r,
    });
    this.queued = new Counter({
      name: 'mutt_syslog_queued_total',
      help: 'Syslog events acknowledged by Redis, by transport',
      labelNames,
      registers: r,
    });
    this.parseErrors = new Counter({
      name: 'mutt_syslog_parse_errors_total',
      help: 'Syslog messages queued with `parse_error` set (not recognisably syslog, invalid PRI or timestamp, broken RFC 5424 header)',
      labelNames,
      registers: r,
    });
    this.truncated = new Counter({
      name: 'mutt_syslog_truncated_total',
      help: 'Syslog messages cut at SYSLOG_MAX_MESSAGE_SIZE (queued with `truncated: true`)',
      labelNames,
      registers: r,
    });
    this.parsedOnMain = new Counter({
      name: 'mutt_syslog_parser_overflow_total',
      help: 'Syslog messages parsed on the main thread because the parser thread was too far behind (reading slows down instead of memory growing)',
      registers: r,
    });
    this.parserThreadInUse = new Gauge({
      name: 'mutt_syslog_parser_thread_in_use',
      help: '1 while syslog messages are parsed on the parser thread (the main thread is busy), 0 while the main thread parses them (SYSLOG_PARSER_THREAD)',
      registers: r,
    });
    this.shed = new Counter({
      name: 'mutt_syslog_shed_total',
      help: 'UDP syslog messages shed: queue_full (ingest queue at MAX_INGEST_QUEUE_SIZE), buffer_full (Redis unreachable and SYSLOG_PENDING_MAX_EVENTS held), shutdown (Redis still unreachable when MUTT stopped)',
      labelNames: ['transport', 'reason'],
      registers: r,
    });
    this.connections = new Gauge({
      name: 'mutt_syslog_connections',
      help: 'Open syslog TCP and TLS connections',
      labelNames,
      registers: r,
    });
    this.closed = new Counter({
      name: 'mutt_syslog_connections_closed_total',
      help: `Syslog connections MUTT closed or refused, by reason (${CLOSE_REASONS.join(', ')})`,
      labelNames: ['transport', 'reason'],
      registers: r,
    });
    this.paused = new Gauge({
      name: 'mutt_syslog_paused_connections',
      help: 'Syslog TCP/TLS connections not being read because the ingest queue is full or Redis is unreachable',
      labelNames,
      registers: r,
    });
    this.pending = new Gauge({
      name: 'mutt_syslog_pending_events',
      help: 'UDP syslog events held in memory while Redis is unreachable',
      registers: r,
    });
    this.rcvbufErrors = new Gauge({
      name: 'mutt_syslog_udp_rcvbuf_errors',
      help: "The kernel's UDP RcvbufErrors (datagrams dropped because a socket's receive buffer was full, every UDP socket of the host), from /proc/net/snmp and /proc/net/snmp6",
      labelNames: ['ip'],
      registers: r,
      collect() {
        const v = kernelRcvbufErrors();
        if (v.ipv4 !== undefined) this.set({ ip: 'v4' }, v.ipv4);
        if (v.ipv6 !== undefined) this.set({ ip: 'v6' }, v.ipv6);
      },
    });
    for (const transport of TRANSPORTS) {
      for (const c of [this.messages, this.bytes, this.queued, this.parseErrors, this.truncated])
        c.inc({ transport }, 0);
      if (transport !== 'udp') {
        this.connections.set({ transport }, 0);
        this.paused.set({ transport }, 0);
        for (const reason of CLOSE_REASONS) this.closed.inc({ transport, reason }, 0);
      }
    }
    for (const reason of SHED_REASONS) this.shed.inc({ transport: 'udp', reason }, 0);
  }

  /** Logs an operational condition at most once a minute per key. */
  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const suppressed = this.limiter.take(`syslog:${key}`);
    if (suppressed >= 0) this.log.warn({ ...fields, suppressed }, msg);
  }
}

/** RcvbufErrors of the Udp (IPv4) and Udp6 tables, when the kernel exposes them. */
export function kernelRcvbufErrors(): { ipv4?: number; ipv6?: number } {
  const out: { ipv4?: number; ipv6?: number } = {};
  try {
    const lines = readFileSync('/proc/self/net/snmp', 'utf8').split('\n');
    const header = lines.find((l) => l.startsWith('Udp: ') && l.includes('RcvbufErrors'));
    const values = lines.find((l) => l.startsWith('Udp: ') && !l.includes('RcvbufErrors'));
    if (header && values) {
      const idx = header.split(/\s+/).indexOf('RcvbufErrors');
      const v = Number(values.split(/\s+/)[idx]);
      if (Number.isFinite(v)) out.ipv4 = v;
    }
  } catch {
    // not Linux
  }
  try {
    const m = /^Udp6RcvbufErrors\s+(\d+)/m.exec(readFileSync('/proc/self/net/snmp6', 'utf8'));
    if (m) out.ipv6 = Number(m[1]);
  } catch {
    // no IPv6
  }
  return out;
}
