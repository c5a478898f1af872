// The syslog listeners' settings, derived from the validated configuration: which transports are
// on, the TLS material (read and checked at start-up and by `mutt validate`, naming the variable
// that points at a bad file) and the limits.
import { readFileSync } from 'node:fs';
import { createSecureContext, type TlsOptions } from 'node:tls';
import type { Config } from '../../runtime/config/load.ts';
import { StartupError } from '../../runtime/listen.ts';

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

function read(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new StartupError(
      `${variable}="${file}": cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/**
 * Server options of the TLS listener; the certificate, key and CA are loaded and checked now, so a
 * wrong file stops the start with the variable's name instead of failing every handshake.
 */
export function tlsOptions(c: SyslogConfig): TlsOptions | undefined {
  if (!tlsEnabled(c)) return undefined;
  const cert = read('SYSLOG_TLS_CERT', c.SYSLOG_TLS_CERT!);
  const key = read('SYSLOG_TLS_KEY', c.SYSLOG_TLS_KEY!);
  const ca = c.SYSLOG_TLS_CA !== undefined ? read('SYSLOG_TLS_CA', c.SYSLOG_TLS_CA) : undefined;
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new StartupError(
      `SYSLOG_TLS_CERT="${c.SYSLOG_TLS_CERT}" / SYSLOG_TLS_KEY="${c.SYSLOG_TLS_KEY}": not a usable PEM certificate and matching key (${(err as Error).message})`,
    );
  }
  if (ca) {
    try {
      createSecureContext({ ca });
    } catch (err) {
      throw new StartupError(
        `SYSLOG_TLS_CA="${c.SYSLOG_TLS_CA}": not a PEM CA certificate (${(err as Error).message})`,
      );
    }
  }
  return ca ? { cert, key, ca, requestCert: true, rejectUnauthorized: true } : { cert, key };
}

/** Queue length below which paused TCP/TLS connections resume: 90% of MAX_INGEST_QUEUE_SIZE. */
export function lowWaterMark(c: Pick<SyslogConfig, 'MAX_INGEST_QUEUE_SIZE'>): number {
  return Math.max(0, Math.floor(c.MAX_INGEST_QUEUE_SIZE * 0.9));
}
