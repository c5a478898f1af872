// TLS on MUTT's own ports: HTTPS ingest (SERVER_TLS_CERT/SERVER_TLS_KEY), the admin server's HTTPS
// (WEBUI_TLS_CERT/WEBUI_TLS_KEY, through the same runtime piece the admin server uses) and the syslog
// TLS listener. Modern defaults (TLS 1.2 or newer, forward-secret AEAD ciphers only), the served
// certificate's expiry as a metric, and the certificate swapped on SIGHUP without a restart (a bad
// file keeps the old one).
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/runtime/config/load.ts';
import { createLogger } from '../src/runtime/logging.ts';
import { httpServerCertificate } from '../src/runtime/tls.ts';
import { startWebServer } from '../src/runtime/web-server.ts';
import { freePort } from './harness/ports.ts';
import { type MuttProcess, runMutt, startMutt } from './harness/mutt-process.ts';
import { type TestServices, useServices } from './harness/services.ts';
import { makePki, makeServerCert, type TestPki } from './harness/tls.ts';

let svc: TestServices;
let pki: TestPki;
let live: { cert: string; key: string };
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices({ database: false });
  const dir = join(svc.tmp, 'pki');
  mkdirSync(dir);
  pki = makePki(dir);
  // The files MUTT serves; tests replace their content as certbot would.
  const liveDir = join(svc.tmp, 'live');
  mkdirSync(liveDir);
  live = { cert: join(liveDir, 'fullchain.pem'), key: join(liveDir, 'privkey.pem') };
  copyFileSync(pki.certFile, live.cert);
  copyFileSync(pki.keyFile, live.key);
});
afterEach(async () => {
  for (const p of procs.splice(0)) await p.stop().catch(() => p.kill('SIGKILL'));
});
afterAll(async () => svc.cleanup());

interface Answer {
  status: number;
  body: string;
  serial?: string;
}

function httpsCall(
  port: number,
  path: string,
  o: { method?: string; body?: string; key?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: o.method ?? 'GET',
        ca: readFileSync(pki.caFile),
        agent: false,
        headers: { ...(o.key ? { 'X-API-KEY': o.key } : {}), 'Content-Type': 'application/json' },
      },
      (res) => {
        let body = '';
        const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A TLS handshake with the given client options: the peer certificate's serial, or the error. */
function handshake(
  port: number,
  o: ConnectionOptions = {},
): Promise<{ serial?: string; error?: string; protocol?: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.caFile), ...o }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      const protocol = s.getProtocol() ?? undefined;
      s.end();
      resolve({ serial, protocol });
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve({ error: `${err.code ?? ''} ${err.message}` }));
  });
}

const serialOf = (file: string) => new X509Certificate(readFileSync(file)).serialNumber;
const expiryOf = (file: string) =>
  Math.floor(new Date(new X509Certificate(readFileSync(file)).validTo).getTime() / 1000);

async function tlsMetric(port: number, listener: string): Promise<number | undefined> {
  const text = (await httpsCall(port, '/metrics')).body;
  const m = new RegExp(`^mutt_tls_certificate_expiry_seconds\\{listener="${listener}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  return m ? Number(m[1]) : undefined;
}

async function startTls(): Promise<{ p: MuttProcess; port: number; syslogTls: number }> {
  const port = await freePort();
  const syslogTls = await freePort();
  const p = startMutt({
    ...svc.env,
    MUTT_ROLES: 'listeners',
    SERVER_PORT_INGESTOR: String(port),
    SERVER_TLS_CERT: live.cert,
    SERVER_TLS_KEY: live.key,
    SYSLOG_TLS_PORT: String(syslogTls),
    SYSLOG_TLS_CERT: live.cert,
    SYSLOG_TLS_KEY: live.key,
  });
  procs.push(p);
  await p.running();
  return { p, port, syslogTls };
}

describe('HTTPS ingest and syslog TLS', () => {
  it('serve TLS 1.2+ with forward-secret AEAD ciphers only, and publish the certificate expiry', async () => {
    copyFileSync(pki.certFile, live.cert);
    copyFileSync(pki.keyFile, live.key);
    const { port, syslogTls } = await startTls();
    const ok = await httpsCall(port, '/ingest', {
      method: 'POST',
      key: svc.env.INGEST_API_KEY,
      body: JSON.stringify({ hostname: 'r1', message: 'up', timestamp: '2025-11-08T12:00:00Z' }),
    });
    expect(ok.status).toBe(200);
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/health' }, (res) =>
        resolve(`HTTP ${res.statusCode}`),
      );
      req.on('error', (err) => resolve(err.message));
      req.end();
    });
    expect(plain).not.toMatch(/^HTTP/);
    for (const p of [port, syslogTls]) {
      expect((await handshake(p)).protocol).toBe('TLSv1.3');
      expect(
        await handshake(p, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }),
      ).toMatchObject({
        protocol: 'TLSv1.2',
      });
      // TLS 1.1 and 1.0: refused.
      const old = await handshake(p, {
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      expect(old.error).toMatch(/protocol version|unsupported protocol|no protocols available/i);
      // RSA key exchange, CBC: refused (no forward secrecy).
      for (const weak of ['AES128-SHA256', 'AES256-SHA', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA']) {
        const r = await handshake(p, { maxVersion: 'TLSv1.2', ciphers: `${weak}@SECLEVEL=0` });
        expect(r.error, weak).toMatch(/handshake failure|no cipher|no ciphers available/i);
      }
    }
    expect(await tlsMetric(port, 'ingest')).toBe(expiryOf(live.cert));
    expect(await tlsMetric(port, 'syslog')).toBe(expiryOf(live.cert));
  });

  it('reload a renewed certificate on SIGHUP without dropping the listener; a bad file keeps the old one', async () => {
    copyFileSync(pki.certFile, live.cert);
    copyFileSync(pki.keyFile, live.key);
    const { p, port, syslogTls } = await startTls();
    const first = serialOf(live.cert);
    expect((await handshake(port)).serial).toBe(first);
    expect((await handshake(syslogTls)).serial).toBe(first);

    // certbot renews: new key, new certificate, longer validity, same file names.
    const renewed = makeServerCert(pki.dir, { name: `renewed-${Date.now()}`, days: 30 });
    copyFileSync(renewed.keyFile, live.key);
    copyFileSync(renewed.certFile, live.cert);
    p.kill('SIGHUP');
    await p.waitForMessage('ingest TLS certificate reloaded');
    await p.waitForMessage('syslog TLS certificate reloaded');
    const second = serialOf(live.cert);
    expect(second).not.toBe(first);
    expect((await handshake(port)).serial).toBe(second);
    expect((await handshake(syslogTls)).serial).toBe(second);
    expect(await tlsMetric(port, 'ingest')).toBe(expiryOf(renewed.certFile));
    expect(await tlsMetric(port, 'syslog')).toBe(expiryOf(renewed.certFile));

    // A half-written file: the reload fails, says so, and the renewed certificate stays.
    writeFileSync(live.cert, '-----BEGIN CERTIFICATE-----\ntruncated\n');
    p.kill('SIGHUP');
    const failed = await p.waitForMessage(
      'reloading the ingest TLS certificate failed: the previous certificate stays in use',
    );
    expect(String(failed.err)).toContain(
      `SERVER_TLS_CERT="${live.cert}" / SERVER_TLS_KEY="${live.key}": not a usable PEM certificate`,
    );
    expect((await handshake(port)).serial).toBe(second);
    expect((await handshake(syslogTls)).serial).toBe(second);
    expect((await httpsCall(port, '/metrics')).body).toMatch(
      /^mutt_tls_certificate_reloads_total\{listener="ingest",result="failed"\} 1$/m,
    );
    copyFileSync(renewed.certFile, live.cert);
  });

  it('a certificate that is not PEM stops start-up naming the variables', async () => {
    const bad = join(svc.tmp, 'not-a-cert.pem');
    writeFileSync(bad, 'hello');
    const port = await freePort();
    const p = startMutt({
      ...svc.env,
      MUTT_ROLES: 'listeners',
      SERVER_PORT_INGESTOR: String(port),
      SERVER_TLS_CERT: bad,
      SERVER_TLS_KEY: live.key,
    });
    procs.push(p);
    expect((await p.exited()).code).toBe(78);
    expect(p.stderr.join('')).toContain(
      `mutt: SERVER_TLS_CERT="${bad}" / SERVER_TLS_KEY="${live.key}": not a usable PEM certificate and matching key`,
    );
    const v = runMutt(['validate'], {
      ...svc.env,
      MUTT_ROLES: 'listeners',
      SERVER_TLS_CERT: bad,
      SERVER_TLS_KEY: live.key,
    });
    expect(v.status).toBe(78);
    expect(v.stderr).toContain(
      `SERVER_TLS_CERT="${bad}" / SERVER_TLS_KEY="${live.key}": not a usable PEM certificate`,
    );
  });

  it.each([
    [{ SERVER_TLS_CERT: '/etc/hostname' }, 'SERVER_TLS_CERT is set without SERVER_TLS_KEY'],
    [{ WEBUI_TLS_KEY: '/etc/hostname' }, 'WEBUI_TLS_KEY is set without WEBUI_TLS_CERT'],
    [
      { SERVER_TLS_CERT: '/nonexistent/c.pem', SERVER_TLS_KEY: '/etc/hostname' },
      'SERVER_TLS_CERT="/nonexistent/c.pem": cannot read the file (ENOENT)',
    ],
  ])('configuration %j: "%s"', (env, problem) => {
    expect(
      loadConfig({ MUTT_ENV_FILE: '/dev/null', ...env }, { defaultEnvFile: '/dev/null' }).problems,
    ).toContain(problem);
  });
});

describe('the admin server over HTTPS (WEBUI_TLS_CERT, WEBUI_TLS_KEY)', () => {
  it('serves an app over HTTPS from the runtime piece, with its expiry metric and a SIGHUP-style reload', async () => {
    const dir = join(svc.tmp, 'webui');
    mkdirSync(dir);
    const files = { cert: join(dir, 'webui.pem'), key: join(dir, 'webui.key') };
    copyFileSync(pki.certFile, files.cert);
    copyFileSync(pki.keyFile, files.key);
    const r = loadConfig(
      { MUTT_ENV_FILE: '/dev/null', WEBUI_TLS_CERT: files.cert, WEBUI_TLS_KEY: files.key },
      { defaultEnvFile: '/dev/null' },
    );
    expect(r.problems).toEqual([]);
    const registry = new Registry();
    const log = createLogger({ destination: { write() {} } });
    const tls = httpServerCertificate(r.config!, 'webui', { log, registry })!;
    expect(httpServerCertificate(r.config!, 'ingest', { log, registry })).toBeUndefined();
    const app = new Hono().get('/api/v1/version', (c) => c.json({ version: 'x' }));
    const web = await startWebServer({
      fetch: app.fetch,
      port: 0,
      host: '127.0.0.1',
      variable: 'SERVER_PORT_WEBUI',
      tls,
    });
    try {
      expect(web.scheme).toBe('https');
      const a = await httpsCall(web.port, '/api/v1/version');
      expect(a).toMatchObject({ status: 200, body: '{"version":"x"}', serial: serialOf(files.cert) });
      expect(await registry.getSingleMetricAsString('mutt_tls_certificate_expiry_seconds')).toContain(
        `mutt_tls_certificate_expiry_seconds{listener="webui"} ${expiryOf(files.cert)}`,
      );
      const renewed = makeServerCert(pki.dir, { name: `webui-renewed-${Date.now()}`, days: 20 });
      copyFileSync(renewed.keyFile, files.key);
      copyFileSync(renewed.certFile, files.cert);
      expect(tls.reload()).toBe(true);
      expect((await httpsCall(web.port, '/api/v1/version')).serial).toBe(serialOf(renewed.certFile));
    } finally {
      await web.close(1000);
    }
  });
});
