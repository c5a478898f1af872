// TLS in one place.
//
// Servers (HTTPS ingest, the admin server, the syslog TLS listener): ServerCertificate loads a
// certificate and key from files with modern defaults (TLS 1.2 or newer, forward-secret AEAD ciphers
// only), checks them at start-up naming the variable of a bad file, publishes the certificate's
// expiry (`mutt_tls_certificate_expiry_seconds{listener}`), and reload() reads the files again and
// swaps the certificate of running servers (SIGHUP; certbot-style renewals need no restart). A
// reload that fails keeps the certificate in use and says why.
//
// Clients (Redis, PostgreSQL, Vault): clientTls() builds verified client options, and
// describeTlsError() turns a refused handshake into a sentence naming the reason (wrong host,
// expired, unknown CA, client certificate) and the variable to look at.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions, SecureContextOptions, Server as TlsServer, TlsOptions } from 'node:tls';
import { createSecureContext } from 'node:tls';
import { Counter, Gauge, type Registry } from 'prom-client';
import { StartupError } from './listen.ts';
import type { Logger } from './logging.ts';

export const MIN_TLS_VERSION = 'TLSv1.2';

/**
 * TLS 1.3 suites, then TLS 1.2 with ECDHE or DHE key exchange and AEAD encryption only (Mozilla's
 * "intermediate" profile): no RSA key exchange, no CBC, no SHA-1 MACs, no 3DES or RC4.
 */
export const MODERN_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
].join(':');

// ── Servers ──────────────────────────────────────────────────────────────────────────────────────

export type TlsListener = 'ingest' | 'webui' | 'syslog';

export interface ServerTlsFiles {
  listener: TlsListener;
  cert: string;
  key: string;
  certVar: string;
  keyVar: string;
  /** CA bundle for client certificates (mutual TLS): clients must present one signed by it. */
  ca?: string;
  caVar?: string;
}

interface Loaded {
  options: SecureContextOptions;
  expiresAt: Date;
  subject: string;
}

function readVar(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new StartupError(
      `${variable}="${file}": cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

function load(f: ServerTlsFiles): Loaded {
  const cert = readVar(f.certVar, f.cert);
  const key = readVar(f.keyVar, f.key);
  const ca = f.ca !== undefined ? readVar(f.caVar ?? 'CA', f.ca) : undefined;
  let leaf: X509Certificate;
  try {
    createSecureContext({ cert, key });
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new StartupError(
      `${f.certVar}="${f.cert}" / ${f.keyVar}="${f.key}": not a usable PEM certificate and matching key (${(err as Error).message})`,
    );
  }
  if (ca) {
    try {
      createSecureContext({ ca });
    } catch (err) {
      throw new StartupError(`${f.caVar}="${f.ca}": not a PEM CA certificate (${(err as Error).message})`);
    }
  }
  return {
    options: ca ? { cert, key, ca } : { cert, key },
    expiresAt: new Date(leaf.validTo),
    subject: leaf.subject.replace(/\n/g, ', '),
  };
}

/** Checks a listener's files as start-up would (for `mutt validate`); throws a StartupError. */
export function checkServerTlsFiles(f: ServerTlsFiles): { expiresAt: Date; subject: string } {
  const l = load(f);
  return { expiresAt: l.expiresAt, subject: l.subject };
}

const EXPIRY_METRIC = 'mutt_tls_certificate_expiry_seconds';
const RELOADS_METRIC = 'mutt_tls_certificate_reloads_total';

function serverMetrics(registry: Registry) {
  const expiry =
    (registry.getSingleMetric(EXPIRY_METRIC) as Gauge<'listener'> | undefined) ??
    new Gauge({
      name: EXPIRY_METRIC,
      help: 'Unix time at which the certificate a TLS listener serves expires (listener: ingest, webui, syslog)',
      labelNames: ['listener'],
      registers: [registry],
    });
  const reloads =
    (registry.getSingleMetric(RELOADS_METRIC) as Counter<'listener' | 'result'> | undefined) ??
    new Counter({
      name: RELOADS_METRIC,
      help: 'Certificate reloads on SIGHUP by listener and result (ok, failed: the previous certificate stays in use)',
      labelNames: ['listener', 'result'],
      registers: [registry],
    });
  return { expiry, reloads };
}

/** The certificate of one TLS listener, reloadable while its servers run. */
export class ServerCertificate {
  readonly files: ServerTlsFiles;
  private loaded: Loaded;
  private readonly servers = new Set<TlsServer>();
  private readonly log: Logger;
  private readonly metrics: ReturnType<typeof serverMetrics>;

  /** Loads and checks the files now: a bad file stops start-up with the variable's name. */
  constructor(files: ServerTlsFiles, deps: { log: Logger; registry: Registry }) {
    this.files = files;
    this.log = deps.log;
    this.metrics = serverMetrics(deps.registry);
    this.loaded = load(files);
    this.publish();
    const days = (this.loaded.expiresAt.getTime() - Date.now()) / 86_400_000;
    if (days < 0)
      this.log.error(
        { listener: files.listener, file: files.cert, expired: this.loaded.expiresAt.toISOString() },
        `${files.certVar}: the certificate has expired; clients will refuse it`,
      );
    else if (days < 14)
      this.log.warn(
        { listener: files.listener, file: files.cert, expires: this.loaded.expiresAt.toISOString() },
        `${files.certVar}: the certificate expires in less than 14 days`,
      );
  }

  get expiresAt(): Date {
    return this.loaded.expiresAt;
  }

  /** Server options: the certificate with MUTT's protocol and cipher defaults. */
  options(): TlsOptions {
    return {
      ...this.loaded.options,
      minVersion: MIN_TLS_VERSION,
      ciphers: MODERN_CIPHERS,
      honorCipherOrder: true,
      ...(this.loaded.options.ca ? { requestCert: true, rejectUnauthorized: true } : {}),
    };
  }

  /** A server built with options() whose certificate reload() should swap. */
  attach(server: TlsServer): void {
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
  }

  /** Reads the files again; on success every attached server serves the new certificate. */
  reload(): boolean {
    const f = this.files;
    let next: Loaded;
    try {
      next = load(f);
    } catch (err) {
      this.metrics.reloads.inc({ listener: f.listener, result: 'failed' });
      this.log.error(
        { listener: f.listener, err: (err as Error).message },
        `reloading the ${f.listener} TLS certificate failed: the previous certificate stays in use`,
      );
      return false;
    }
    this.loaded = next;
    const o = this.options();
    for (const s of this.servers) s.setSecureContext(o);
    this.publish();
    this.metrics.reloads.inc({ listener: f.listener, result: 'ok' });
    this.log.info(
      { listener: f.listener, subject: next.subject, expires: next.expiresAt.toISOString() },
      `${f.listener} TLS certificate reloaded`,
    );
    return true;
  }

  private publish(): void {
    this.metrics.expiry.set(
      { listener: this.files.listener },
      Math.floor(this.loaded.expiresAt.getTime() / 1000),
    );
  }
}

/** What a listener's TLS files are called, by listener. */
export const SERVER_TLS_VARS = {
  ingest: { cert: 'SERVER_TLS_CERT', key: 'SERVER_TLS_KEY' },
  webui: { cert: 'WEBUI_TLS_CERT', key: 'WEBUI_TLS_KEY' },
} as const;

/**
 * The certificate of the ingest or admin HTTP server from the configuration, or undefined when its
 * certificate and key are not set (plain HTTP).
 */
export function httpServerCertificate(
  c: Partial<Record<'SERVER_TLS_CERT' | 'SERVER_TLS_KEY' | 'WEBUI_TLS_CERT' | 'WEBUI_TLS_KEY', string>>,
  listener: 'ingest' | 'webui',
  deps: { log: Logger; registry: Registry },
): ServerCertificate | undefined {
  const vars = SERVER_TLS_VARS[listener];
  const cert = c[vars.cert];
  const key = c[vars.key];
  if (cert === undefined || key === undefined) return undefined;
  return new ServerCertificate({ listener, cert, key, certVar: vars.cert, keyVar: vars.key }, deps);
}

// ── Clients ──────────────────────────────────────────────────────────────────────────────────────

export interface ClientTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Verified client options: the CA (else the system list) and, when given, a client certificate. */
export function clientTls(f: ClientTlsFiles): ConnectionOptions {
  return {
    rejectUnauthorized: true,
    minVersion: MIN_TLS_VERSION,
    ...(f.ca ? { ca: [readFileSync(f.ca)] } : {}),
    ...(f.cert && f.key ? { cert: readFileSync(f.cert), key: readFileSync(f.key) } : {}),
  };
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_CHAIN_TOO_LONG',
]);

export interface TlsErrorContext {
  /** `Redis`, `PostgreSQL`, `Vault`. */
  service: string;
  host: string;
  /** The variable naming the CA bundle, and its value. */
  caVar: string;
  ca?: string;
  /** The variables of the client certificate. */
  certVar: string;
  /** Whether a client certificate is configured. */
  clientCert?: boolean;
}

/**
 * A sentence saying why a TLS connection was refused, or undefined when the error is not about TLS.
 * Node reports certificate problems with OpenSSL's verify codes (`err.code`).
 */
export function describeTlsError(err: unknown, x: TlsErrorContext): string | undefined {
  const e = err as { code?: string; message?: string; reason?: string; cert?: { subjectaltname?: string } };
  const code = e?.code ?? '';
  const msg = e?.message ?? String(err);
  const cert = `the ${x.service} server certificate`;
  const cas = x.ca ? `${x.caVar}="${x.ca}"` : `the system CA list (set ${x.caVar} for a private CA)`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `${cert} is not valid for "${x.host}"${e.cert?.subjectaltname ? ` (it names ${e.cert.subjectaltname})` : ''}: connection refused (${code})`;
  if (code === 'CERT_HAS_EXPIRED') return `${cert} has expired: connection refused (${code})`;
  if (code === 'CERT_NOT_YET_VALID') return `${cert} is not valid yet: connection refused (${code})`;
  if (UNTRUSTED.has(code)) return `${cert} is not signed by a CA in ${cas}: connection refused (${code})`;
  if (/certificate required|alert certificate required/i.test(msg) || code.includes('CERTIFICATE_REQUIRED'))
    return `the ${x.service} server requires a client certificate: set ${x.certVar} and its key (${code || msg})`;
  if (
    /alert (bad certificate|unknown ca|certificate unknown)/i.test(msg) ||
    /BAD_CERTIFICATE|UNKNOWN_CA/.test(code)
  )
    return `the ${x.service} server refused MUTT's client certificate (${x.certVar}): ${code || msg}`;
  // Under TLS 1.3 a server that wants a client certificate may just reset the connection.
  if ((code === 'ECONNRESET' || code === 'EPIPE') && x.clientCert === false)
    return `the ${x.service} server at ${x.host} closed the TLS connection (${code}): if it requires client certificates, set ${x.certVar} and its key`;
  if (/wrong version number|packet length too long|unexpected eof/i.test(msg))
    return `the ${x.service} server at ${x.host} did not answer TLS (is it its TLS port, with TLS on?): ${code || msg}`;
  if (/The server does not support SSL connections/i.test(msg))
    return `the ${x.service} server at ${x.host} does not accept TLS (ssl=off): ${msg}`;
  return undefined;
}
