// The syslog listeners' settings, derived from the validated configuration: which transports are
// on, the TLS material (read and checked at start-up and by `mutt validate`, naming the variable
// that points at a bad file) and the limits.
import type { Registry } from 'prom-client';
import type { Config } from '../../runtime/config/load.ts';
import type { Logger } from '../../runtime/logging.ts';
import { ServerCertificate, type ServerTlsFiles } from '../../runtime/tls.ts';

export type SyslogConfig = Pick<
  Config,
  | 'SYSLOG_UDP_PORT'
  | 'SYSLOG_TCP_PORT'
  | 'SYSLOG_TLS_PORT'
  | 'SYSLOG_LISTEN_ADDRESS'
  | 'SYSLOG_TLS_CERT'
  | 'SYSLOG_TLS_KEY'
  | 'SYSLOG_TLS_CA'
  | 'SYSLOG_MAX_MESSAGE_SIZE'
  | 'SYSLOG_UDP_RCVBUF'
  | 'SYSLOG_DEFAULT_TIMEZONE'
  | 'SYSLOG_REVERSE_DNS'
  | 'SYSLOG_TCP_IDLE_TIMEOUT'
  | 'SYSLOG_TCP_MAX_CONNECTIONS'
  | 'SYSLOG_PENDING_MAX_EVENTS'
  | 'MAX_INGEST_QUEUE_SIZE'
>;

/** The TLS listener is on when its port is not 0 and a certificate and key are configured. */
export function tlsEnabled(c: SyslogConfig): boolean {
  return c.SYSLOG_TLS_PORT !== 0 && c.SYSLOG_TLS_CERT !== undefined && c.SYSLOG_TLS_KEY !== undefined;
}

/** The TLS listener's files, with the variables that name them. */
export function syslogTlsFiles(c: SyslogConfig): ServerTlsFiles | undefined {
  if (!tlsEnabled(c)) return undefined;
  return {
    listener: 'syslog',
    cert: c.SYSLOG_TLS_CERT!,
    key: c.SYSLOG_TLS_KEY!,
    certVar: 'SYSLOG_TLS_CERT',
    keyVar: 'SYSLOG_TLS_KEY',
    ...(c.SYSLOG_TLS_CA !== undefined ? { ca: c.SYSLOG_TLS_CA, caVar: 'SYSLOG_TLS_CA' } : {}),
  };
}

/**
 * The TLS listener's certificate (with client certificates required when SYSLOG_TLS_CA is set),
 * loaded and checked now, so a wrong file stops the start with the variable's name instead of
 * failing every handshake; reloaded on SIGHUP.
 */
export function syslogCertificate(
  c: SyslogConfig,
  deps: { log: Logger; registry: Registry },
): ServerCertificate | undefined {
  const files = syslogTlsFiles(c);
  return files ? new ServerCertificate(files, deps) : undefined;
}

/** Queue length below which paused TCP/TLS connections resume: 90% of MAX_INGEST_QUEUE_SIZE. */
export function lowWaterMark(c: Pick<SyslogConfig, 'MAX_INGEST_QUEUE_SIZE'>): number {
  return Math.max(0, Math.floor(c.MAX_INGEST_QUEUE_SIZE * 0.9));
}
