// Throw-away PKI for TLS tests, made with the openssl CLI: a private CA and a server certificate for
// 127.0.0.1/localhost signed by it, a second unrelated CA (verification really happens), and on
// demand the certificates a client must refuse (wrong host, expired, signed by the other CA) and
// client certificates (mutual TLS).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caFile: string;
  /** A CA that did not sign the server certificate. */
  otherCaFile: string;
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

export function makePki(dir: string): TestPki {
  for (const name of ['ca', 'other-ca']) {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=MUTT test ${name}`,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
      ],
      dir,
    );
  }
  const s = makeServerCert(dir, { name: 'server' });
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    key: readFileSync(s.keyFile, 'utf8'),
    cert: readFileSync(s.certFile, 'utf8'),
    keyFile: s.keyFile,
    certFile: s.certFile,
  };
}

export interface ServerCertOptions {
  /** File name stem: `<name>.pem`, `<name>.key`. */
  name: string;
  /** subjectAltName; default IP:127.0.0.1,DNS:localhost. */
  san?: string;
  /** Validity in days; negative makes a certificate that has already expired. */
  days?: number;
  /** Which CA of makePki signs it. */
  ca?: 'ca' | 'other-ca';
  /** Extended key usage, e.g. "serverAuth" or "clientAuth". */
  eku?: string;
}

/** A certificate and key signed by one of the CAs of `makePki(dir)`. */
export function makeServerCert(dir: string, o: ServerCertOptions): { certFile: string; keyFile: string } {
  const ext = `${o.name}.ext`;
  writeFileSync(
    join(dir, ext),
    `subjectAltName=${o.san ?? 'IP:127.0.0.1,DNS:localhost'}\n${o.eku ? `extendedKeyUsage=${o.eku}\n` : ''}`,
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${o.name}`,
      '-keyout',
      `${o.name}.key`,
      '-out',
      `${o.name}.csr`,
    ],
    dir,
  );
  const ca = o.ca ?? 'ca';
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${o.name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      String(o.days ?? 2),
      '-extfile',
      ext,
      '-out',
      `${o.name}.pem`,
    ],
    dir,
  );
  return { certFile: join(dir, `${o.name}.pem`), keyFile: join(dir, `${o.name}.key`) };
}

/** A client certificate signed by the test CA of `makePki(dir)` (for mutual TLS). */
export function makeClientCert(dir: string, name = 'client'): { certFile: string; keyFile: string } {
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
  return { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
}
