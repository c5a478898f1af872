import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigOrThrow } from '../../runtime/config/load.ts';
import { Registry } from 'prom-client';
import { StartupError } from '../../runtime/listen.ts';
import { createLogger } from '../../runtime/logging.ts';
import { lowWaterMark, syslogCertificate, tlsEnabled } from './config.ts';

const deps = () => ({ log: createLogger({ destination: { write() {} } }), registry: new Registry() });
const tlsOptions = (c: Parameters<typeof syslogCertificate>[0]) => syslogCertificate(c, deps())?.options();

const NO_FILE = { defaultEnvFile: '/dev/null' };
const config = (env: Record<string, string>) =>
  loadConfigOrThrow({ MUTT_ENV_FILE: '/dev/null', ...env }, NO_FILE);
const problems = (env: Record<string, string>) =>
  loadConfig({ MUTT_ENV_FILE: '/dev/null', ...env }, NO_FILE).problems;

let dir: string;
let cert: string;
let key: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mutt-syslog-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=mutt',
      '-keyout',
      'k.pem',
      '-out',
      'c.pem',
    ],
    { cwd: dir, stdio: 'pipe' },
  );
  cert = join(dir, 'c.pem');
  key = join(dir, 'k.pem');
});

describe('syslog listener settings', () => {
  it('defaults: UDP and TCP on 514, TLS off without a certificate, 64 KiB messages, UTC', () => {
    const c = config({});
    expect(c).toMatchObject({
      SYSLOG_UDP_PORT: 514,
      SYSLOG_TCP_PORT: 514,
      SYSLOG_TLS_PORT: 6514,
      SYSLOG_MAX_MESSAGE_SIZE: 65536,
      SYSLOG_UDP_RCVBUF: 8 * 1024 * 1024,
      SYSLOG_DEFAULT_TIMEZONE: 'UTC',
      SYSLOG_TCP_IDLE_TIMEOUT: 300,
    });
    expect(tlsEnabled(c)).toBe(false);
    expect(tlsOptions(c)).toBeUndefined();
    expect(lowWaterMark(c)).toBe(900_000);
  });

  it('TLS with a certificate and key; client certificates when a CA is given', () => {
    expect(tlsOptions(config({ SYSLOG_TLS_CERT: cert, SYSLOG_TLS_KEY: key }))).not.toHaveProperty(
      'requestCert',
    );
    expect(
      tlsOptions(config({ SYSLOG_TLS_CERT: cert, SYSLOG_TLS_KEY: key, SYSLOG_TLS_CA: cert })),
    ).toMatchObject({
      requestCert: true,
      rejectUnauthorized: true,
    });
  });

  it.each([
    [
      { SYSLOG_TLS_CERT: '/nonexistent/c.pem', SYSLOG_TLS_KEY: '/nonexistent/k.pem' },
      /SYSLOG_TLS_CERT="\/nonexistent\/c.pem": cannot read the file \(ENOENT\)/,
    ],
    [{ SYSLOG_TLS_CERT: '/etc/hostname' }, /SYSLOG_TLS_CERT is set without SYSLOG_TLS_KEY/],
    [{ SYSLOG_DEFAULT_TIMEZONE: 'Mars/Olympus' }, /SYSLOG_DEFAULT_TIMEZONE="Mars\/Olympus": not a time zone/],
    [{ SYSLOG_MAX_MESSAGE_SIZE: '100' }, /SYSLOG_MAX_MESSAGE_SIZE="100": expected an integer from 480/],
  ])('rejects %j', (env, re) => {
    expect(problems(env).join('\n')).toMatch(re);
  });

  it('a certificate file that is not PEM stops the start, naming the variables', () => {
    const bad = join(dir, 'bad.pem');
    writeFileSync(bad, 'not a certificate');
    const c = config({ SYSLOG_TLS_CERT: bad, SYSLOG_TLS_KEY: key });
    expect(() => tlsOptions(c)).toThrow(StartupError);
    expect(() => tlsOptions(c)).toThrow(/SYSLOG_TLS_CERT=.*SYSLOG_TLS_KEY=.*not a usable PEM certificate/);
  });

  it('a TLS port without a certificate is a warning: the TLS listener stays off', () => {
    const r = loadConfig({ MUTT_ENV_FILE: '/dev/null', SYSLOG_TLS_PORT: '6514' }, NO_FILE);
    expect(r.problems).toEqual([]);
    expect(r.warnings.join('\n')).toMatch(
      /SYSLOG_TLS_PORT="6514" is set but SYSLOG_TLS_CERT and SYSLOG_TLS_KEY are not/,
    );
    expect(tlsEnabled(r.config!)).toBe(false);
  });

  it('Europe/Paris is accepted', () => {
    expect(config({ SYSLOG_DEFAULT_TIMEZONE: 'Europe/Paris' }).SYSLOG_DEFAULT_TIMEZONE).toBe('Europe/Paris');
  });
});
