// The syslog listeners: UDP (SYSLOG_UDP_PORT), TCP (SYSLOG_TCP_PORT) and TLS (SYSLOG_TLS_PORT),
// RFC 3164 and RFC 5424 with the variants devices send, events into the shared enqueuer, TCP/TLS
// senders paused at the ingest-queue cap. See docs/SYSLOG.md for the event format, the guarantees
// and the metrics.
import type { ListenerFactory } from '../types.ts';
import { QueueGate } from './backpressure.ts';
import { Encoder } from './encoder.ts';
import { lowWaterMark, syslogCertificate } from './config.ts';
import { HostNames } from '../reverse-dns.ts';
import { SyslogTelemetry } from './metrics.ts';
import { StreamListener } from './tcp.ts';
import { UdpListener } from './udp.ts';

export { parseBytes, parseText } from './message.ts';
export { StreamListener } from './tcp.ts';
export { UdpListener } from './udp.ts';

/** The parser thread's script: next to the bundle (dist/syslog-parser.js), or the source under tests. */
export function parserThreadUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./parser-thread.ts', import.meta.url)
    : new URL('./syslog-parser.js', import.meta.url);
}

export const syslogListener: ListenerFactory = async (ctx) => {
  const c = ctx.config;
  const log = ctx.log.child({ listener: 'syslog' });
  const tls = syslogCertificate(c, { log, registry: ctx.registry });
  if (c.SYSLOG_UDP_PORT === 0 && c.SYSLOG_TCP_PORT === 0 && !tls) return undefined;
  const telemetry = new SyslogTelemetry(ctx.registry, log);
  const hostnames = new HostNames(c.SYSLOG_REVERSE_DNS);
  const gate = new QueueGate({
    redis: ctx.redis,
    queueKey: ctx.keys.ingestQueue,
    cap: c.MAX_INGEST_QUEUE_SIZE,
    lowWater: lowWaterMark(c),
    onChange: (closed, reason) => {
      if (closed)
        log.warn(
          { reason },
          reason === 'queue_full'
            ? 'ingest queue full: syslog TCP/TLS connections stop reading until it is below 90% of MAX_INGEST_QUEUE_SIZE'
            : 'Redis is unreachable: syslog TCP/TLS connections stop reading until it answers',
        );
      else log.info('syslog TCP/TLS connections read again');
    },
  });
  const address = c.SYSLOG_LISTEN_ADDRESS;
  const encoder = new Encoder({
    threadUrl: c.SYSLOG_PARSER_THREAD ? parserThreadUrl() : undefined,
    tz: c.SYSLOG_DEFAULT_TIMEZONE,
    log,
    onOverflow: (frames) => telemetry.parsedOnMain.inc(frames),
    onThreadUse: (inUse, cause) => {
      telemetry.parserThreadInUse.set(inUse ? 1 : 0);
      // A failed thread is logged as an error where it fails.
      if (cause === 'policy')
        log.info(
          inUse
            ? 'the main thread is busy: syslog messages are parsed on the parser thread'
            : 'the main thread has room again: syslog messages are parsed on it',
        );
    },
  });
  const common = {
    encoder,
    address,
    maxSize: c.SYSLOG_MAX_MESSAGE_SIZE,
    tz: c.SYSLOG_DEFAULT_TIMEZONE,
    enqueuer: ctx.enqueuer,
    telemetry,
    log,
    hostnames,
  };
  const stream = {
    ...common,
    idleTimeoutMs: c.SYSLOG_TCP_IDLE_TIMEOUT * 1000,
    maxConnections: c.SYSLOG_TCP_MAX_CONNECTIONS,
    gate,
  };
  const started: { stop(graceMs?: number): Promise<void> }[] = [];
  const info: Record<string, unknown> = {};
  try {
    if (c.SYSLOG_UDP_PORT !== 0) {
      const udp = new UdpListener({
        ...common,
        port: c.SYSLOG_UDP_PORT,
        recvBufferBytes: c.SYSLOG_UDP_RCVBUF,
        pendingMax: c.SYSLOG_PENDING_MAX_EVENTS,
      });
      await udp.start();
      started.push(udp);
      info.syslogUdpPort = udp.boundPort;
      // Linux reports twice the size it granted (its bookkeeping overhead); caps it at net.core.rmem_max.
      const granted = process.platform === 'linux' ? udp.recvBufferSize() / 2 : udp.recvBufferSize();
      info.syslogUdpRcvbuf = granted;
      if (granted > 0 && granted < c.SYSLOG_UDP_RCVBUF)
        log.warn(
          { requested: c.SYSLOG_UDP_RCVBUF, granted },
          'the kernel granted a smaller syslog UDP receive buffer than SYSLOG_UDP_RCVBUF: raise net.core.rmem_max (the package installs /usr/lib/sysctl.d/60-mutt-udp.conf; from a checkout, etc/sysctl.d/60-mutt-udp.conf) to absorb larger bursts',
        );
    }
    if (c.SYSLOG_TCP_PORT !== 0) {
      const tcp = new StreamListener({
        ...stream,
        transport: 'tcp',
        variable: 'SYSLOG_TCP_PORT',
        port: c.SYSLOG_TCP_PORT,
      });
      await tcp.start();
      started.push(tcp);
      info.syslogTcpPort = tcp.boundPort;
    }
    if (tls) {
      const s = new StreamListener({
        ...stream,
        transport: 'tls',
        variable: 'SYSLOG_TLS_PORT',
        port: c.SYSLOG_TLS_PORT,
        certificate: tls,
      });
      await s.start();
      started.push(s);
      info.syslogTlsPort = s.boundPort;
      info.syslogTlsClientCerts = c.SYSLOG_TLS_CA !== undefined;
    }
  } catch (err) {
    gate.stop();
    for (const s of started) await s.stop(0);
    await encoder.close();
    throw err;
  }
  info.syslogParserThread = encoder.threaded;
  log.info(
    { ...info, address: address ?? 'all interfaces', timezone: c.SYSLOG_DEFAULT_TIMEZONE },
    'syslog listeners ready',
  );
  return {
    name: 'syslog',
    info,
    // SIGHUP: a renewed certificate for new TLS connections (open ones keep theirs).
    reload: () => {
      tls?.reload();
    },
    stop: async () => {
      // Stop reading everywhere first; the gate keeps polling so held batches can still go.
      const stopping = Promise.all(started.map((s) => s.stop()));
      await stopping;
      gate.stop();
      await encoder.close();
    },
  };
};
