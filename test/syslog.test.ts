// The syslog listeners in the real `mutt serve` process, fed by real clients: util-linux logger
// (UDP and TCP, RFC 3164 and RFC 5424, octet counting, structured data), a private rsyslogd
// forwarding over TCP with octet-counted framing and over TLS with its gnutls driver, openssl
// s_client, and the bad inputs of the listener specification.
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortableSleep } from '../src/runtime/sleep.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort, freeUdpPort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';
import { logger, openTcp, Rsyslog, sClient, sendTcp } from './harness/syslog-clients.ts';
import { makeClientCert, makePki, type TestPki } from './harness/tls.ts';

let svc: TestServices;
let pki: TestPki;
let pkiDir: string;
let client: { certFile: string; keyFile: string };

beforeAll(async () => {
  svc = await useServices({ database: false });
  pkiDir = join(svc.tmp, 'pki');
  mkdirSync(pkiDir);
  pki = makePki(pkiDir);
  writeFileSync(join(pkiDir, 'server.pem'), pki.cert);
  writeFileSync(join(pkiDir, 'server.key'), pki.key);
  client = makeClientCert(pkiDir);
});
afterAll(async () => svc.cleanup());

interface Running {
  p: MuttProcess;
  udp: number;
  tcp: number;
  tls: number;
  metrics(): Promise<string>;
  events(): Promise<any[]>;
  waitFor(pred: (e: any) => boolean, what: string): Promise<any>;
}

async function serve(extra: Record<string, string> = {}): Promise<Running> {
  const [udp, tcp, tls, http] = [await freeUdpPort(), await freePort(), await freePort(), await freePort()];
  const p = startMutt({
    ...svc.env,
    MUTT_ROLES: 'listeners',
    SERVER_PORT_INGESTOR: String(http),
    SYSLOG_UDP_PORT: String(udp),
    SYSLOG_TCP_PORT: String(tcp),
    SYSLOG_TLS_PORT: String(tls),
    SYSLOG_TLS_CERT: join(pkiDir, 'server.pem'),
    SYSLOG_TLS_KEY: join(pkiDir, 'server.key'),
    ...extra,
  });
  await p.running();
  const events = async () =>
    (await svc.redis.lrange(svc.keys.ingestQueue, 0, -1)).map((s) => JSON.parse(s)).reverse();
  return {
    p,
    udp,
    tcp,
    tls,
    metrics: async () => (await fetch(`http://127.0.0.1:${http}/metrics`)).text(),
    events,
    async waitFor(pred, what) {
      for (let i = 0; i < 300; i++) {
        const hit = (await events()).find(pred);
        if (hit) return hit;
        await abortableSleep(40);
      }
      throw new Error(`no event ${what} in Redis\n${p.tail()}`);
    },
  };
}

const metric = (text: string, name: string, labels: Record<string, string> = {}) => {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.split(' ').at(-1));
    found = true;
  }
  return found ? total : Number.NaN;
};

const udpSend = (port: number, data: Buffer | string, host = '127.0.0.1') =>
  new Promise<void>((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.send(data, port, host, (err) => {
      s.close();
      if (err) reject(err);
      else resolve();
    });
  });

describe('syslog from real clients', () => {
  let m: Running;
  let rsyslog: Rsyslog | undefined;
  beforeAll(async () => {
    m = await serve();
  });
  afterAll(async () => {
    await rsyslog?.stop();
    await m.p.stop();
  });

  it('logs the bound ports', async () => {
    const ready = await m.p.waitForMessage('syslog listeners ready');
    expect(ready).toMatchObject({
      syslogUdpPort: m.udp,
      syslogTcpPort: m.tcp,
      syslogTlsPort: m.tls,
      syslogParserThread: true,
    });
    // The receive buffer is read back after bind; a kernel cap below SYSLOG_UDP_RCVBUF is reported.
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const granted = ready.syslogUdpRcvbuf as number;
    expect(granted).toBe(Math.min(rmemMax, 8 * 1024 * 1024));
    const warned = m.p.lines.some((l) =>
      /smaller syslog UDP receive buffer than SYSLOG_UDP_RCVBUF/.test(l.msg),
    );
    expect(warned).toBe(granted < 8 * 1024 * 1024);
  });

  it.each([
    { name: 'UDP, RFC 3164', args: ['--udp', '--rfc3164'] },
    { name: 'UDP, RFC 5424', args: ['--udp', '--rfc5424'] },
    { name: 'TCP, RFC 3164 (LF framing)', args: ['--tcp', '--rfc3164'] },
    { name: 'TCP, RFC 5424, octet counting', args: ['--tcp', '--rfc5424', '--octet-count'] },
  ])('logger: $name', async ({ name, args }) => {
    const text = `logger test ${name} ${Math.random()}`;
    const port = args.includes('--udp') ? m.udp : m.tcp;
    const r = logger([
      '--server',
      '127.0.0.1',
      '--port',
      String(port),
      ...args,
      '-t',
      'netops',
      '-p',
      'local4.err',
      text,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const e = await m.waitFor((x) => x.message === text, name);
    expect(e).toMatchObject({
      app_name: 'netops',
      syslog_severity: 3,
      facility: 20,
      source: 'syslog',
      source_ip: '127.0.0.1',
    });
    expect(e.parse_error).toBeUndefined();
    expect(typeof e.hostname).toBe('string');
    expect(e.hostname.length).toBeGreaterThan(0);
    expect(Math.abs(Date.parse(e.timestamp) - Date.now())).toBeLessThan(60_000);
    expect(e._correlation_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logger: RFC 5424 structured data and message ID', async () => {
    const text = `sd test ${Math.random()}`;
    const r = logger([
      '--server',
      '127.0.0.1',
      '--port',
      String(m.tcp),
      '--tcp',
      '--octet-count',
      '--rfc5424',
      '--msgid',
      'LINKDOWN',
      '--sd-id',
      'ifx@32473',
      '--sd-param',
      'name="ge-0/0/1"',
      '--sd-param',
      'quote="a \\"b\\" c"',
      text,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const e = await m.waitFor((x) => x.message === text, 'with structured data');
    expect(e.msgid).toBe('LINKDOWN');
    expect(e.structured_data['ifx@32473']).toEqual({ name: 'ge-0/0/1', quote: 'a "b" c' });
  });

  it('UDP and TCP over IPv6 (one dual-stack socket each), and IPv4 as plain addresses', async () => {
    // The listener binds "::" when the host has IPv6 (as CI's does), IPv4 only otherwise.
    const hasV6 =
      existsSync('/proc/net/if_inet6') && readFileSync('/proc/net/if_inet6', 'utf8').includes(' lo');
    const a = `over ipv6 udp ${Math.random()}`;
    const b = `over ipv6 tcp ${Math.random()}`;
    if (!hasV6) {
      await expect(udpSend(m.udp, `<13>${a}`, '::1')).rejects.toThrow();
      return;
    }
    await udpSend(m.udp, `<13>Mar 10 11:00:00 v6host app: ${a}`, '::1');
    await sendTcp(m.tcp, `<13>Mar 10 11:00:00 v6host app: ${b}\n`, '::1');
    expect(await m.waitFor((x) => x.message === a, 'over IPv6/UDP')).toMatchObject({
      hostname: 'v6host',
      source_ip: '::1',
    });
    expect(await m.waitFor((x) => x.message === b, 'over IPv6/TCP')).toMatchObject({ source_ip: '::1' });
  });

  it('rsyslogd forwards over TCP with octet-counted framing', async () => {
    rsyslog = new Rsyslog(join(svc.tmp, 'rsyslog-tcp'));
    mkdirSync(rsyslog.dir, { recursive: true });
    await rsyslog.start({
      action: `action(type="omfwd" target="127.0.0.1" port="${m.tcp}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")`,
    });
    try {
      const texts = Array.from({ length: 20 }, (_, i) => `via rsyslog tcp ${i} ${Math.random()}`);
      for (const t of texts) rsyslog.log('fwdtest', t);
      for (const t of texts) {
        const e = await m.waitFor((x) => x.message === t, t);
        expect(e).toMatchObject({ app_name: 'fwdtest', source_ip: '127.0.0.1' });
        expect(e.parse_error).toBeUndefined();
      }
    } finally {
      await rsyslog.stop();
    }
  });

  it('rsyslogd forwards over TLS (gnutls driver, server certificate checked)', async () => {
    const r = new Rsyslog(join(svc.tmp, 'rsyslog-tls'));
    mkdirSync(r.dir, { recursive: true });
    rsyslog = r;
    await r.start({
      globals: `DefaultNetstreamDriverCAFile="${pki.caFile}"`,
      action: `action(type="omfwd" target="127.0.0.1" port="${m.tls}" protocol="tcp" TCP_Framing="octet-counted" StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/certvalid")`,
    });
    try {
      const text = `via rsyslog tls ${Math.random()}`;
      r.log('tlstest', text);
      const e = await m.waitFor((x) => x.message === text, `over TLS\n${r.output}`);
      expect(e).toMatchObject({ app_name: 'tlstest', source_ip: '127.0.0.1' });
    } finally {
      await r.stop();
    }
  });

  it('openssl s_client sends over TLS', async () => {
    const text = `from s_client ${Math.random()}`;
    const r = await sClient(
      ['-connect', `127.0.0.1:${m.tls}`, '-CAfile', pki.caFile, '-verify_return_error'],
      `<134>1 2026-03-10T10:00:00Z sclient app - - - ${text}\n`,
    );
    const e = await m.waitFor((x) => x.message === text, `from s_client (${r.out})`);
    expect(e).toMatchObject({ hostname: 'sclient', syslog_severity: 6, facility: 16 });
  });

  it('100,000 messages over TCP (4 connections) are all in Redis, each exactly once', async () => {
    await svc.redis.del(svc.keys.ingestQueue);
    const N = 100_000;
    const conns = 4;
    const run = `bulk-${Date.now()}`;
    await Promise.all(
      Array.from({ length: conns }, async (_, c) => {
        const s = await openTcp(m.tcp);
        for (let i = c; i < N; i += conns * 1000) {
          const parts: string[] = [];
          for (let k = i; k < Math.min(N, i + conns * 1000); k += conns) {
            const msg = `<14>1 2026-03-10T10:00:00Z bulk app - - - ${run} ${k}`;
            parts.push(c % 2 === 0 ? `${Buffer.byteLength(msg)} ${msg}` : `${msg}\n`);
          }
          if (!s.write(parts.join(''))) await new Promise((r) => s.once('drain', r));
        }
        await new Promise<void>((resolve) => s.end(resolve));
      }),
    );
    let n = 0;
    for (let i = 0; i < 600 && n < N; i++) {
      n = await svc.redis.llen(svc.keys.ingestQueue);
      if (n < N) await abortableSleep(100);
    }
    const items = await svc.redis.lrange(svc.keys.ingestQueue, 0, -1);
    expect(items.length).toBe(N);
    const seen = new Set<number>();
    for (const s of items) {
      const e = JSON.parse(s);
      expect(e.message.startsWith(run)).toBe(true);
      seen.add(Number(e.message.split(' ')[1]));
    }
    expect(seen.size).toBe(N);
    await svc.redis.del(svc.keys.ingestQueue);
  }, 120_000);
});

describe('bad input', () => {
  let m: Running;
  beforeAll(async () => {
    m = await serve({
      SYSLOG_TCP_IDLE_TIMEOUT: '1',
      SYSLOG_TLS_CA: pki.caFile,
    });
  });
  afterAll(async () => m.p.stop());

  it.each([
    {
      name: 'binary garbage over UDP',
      send: (id: string) =>
        udpSend(m.udp, Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x9c]), Buffer.from(id)])),
      want: { parse_error: expect.stringMatching(/not a syslog message/), invalid_utf8: true },
    },
    {
      name: 'binary garbage over TCP',
      send: (id: string) =>
        sendTcp(m.tcp, Buffer.concat([Buffer.from([0xc3, 0x28, 0x01, 0x7f]), Buffer.from(`${id}\n`)])),
      want: { parse_error: expect.stringMatching(/not a syslog message/), invalid_utf8: true },
    },
    {
      name: 'invalid UTF-8',
      send: (id: string) =>
        udpSend(
          m.udp,
          Buffer.concat([Buffer.from(`<13>Mar 10 11:00:00 host7 app: ${id} caf`), Buffer.from([0xe9])]),
        ),
      want: { hostname: 'host7', app_name: 'app', invalid_utf8: true },
    },
    {
      name: 'PRI <999>',
      send: (id: string) => udpSend(m.udp, `<999>Mar 10 11:00:00 host8 app: ${id}`),
      want: {
        hostname: 'host8',
        syslog_severity: 5,
        parse_error: expect.stringMatching(/invalid PRI <999>/),
      },
    },
    {
      name: 'a timestamp of February 30',
      send: (id: string) => sendTcp(m.tcp, `<13>1 2026-02-30T10:00:00Z host9 app - - - ${id}\n`),
      want: { hostname: 'host9', parse_error: expect.stringMatching(/invalid timestamp/) },
    },
    {
      name: 'a 1 MiB line',
      send: (id: string) => sendTcp(m.tcp, `<13>Mar 10 11:00:00 big app: ${id} ${'x'.repeat(1024 * 1024)}\n`),
      want: { hostname: 'big', truncated: true },
      check: (e: any) => expect(Buffer.byteLength(e.message)).toBeLessThan(65536),
    },
    {
      name: 'an octet count over the limit',
      send: (id: string) => {
        const msg = `<13>Mar 10 11:00:00 bigoct app: ${id} ${'y'.repeat(100_000)}`;
        return sendTcp(m.tcp, `${Buffer.byteLength(msg)} ${msg}`);
      },
      want: { hostname: 'bigoct', truncated: true },
    },
    {
      name: 'an octet count that is not a number',
      send: (id: string) => sendTcp(m.tcp, `12ab <13>Mar 10 11:00:00 nan app: ${id}\n`),
      want: { message: expect.stringContaining('12ab') },
    },
  ])('$name: flagged and queued, no crash', async ({ send, want, check }) => {
    const id = `bad-${Math.random().toString(36).slice(2)}`;
    await send(id);
    const e = await m.waitFor((x) => typeof x.message === 'string' && x.message.includes(id), id);
    expect(e).toMatchObject({ source: 'syslog', ...want });
    check?.(e);
  });

  it('half a frame then a stall: the idle timeout closes it and the part read is queued, flagged', async () => {
    const id = `half-${Math.random()}`;
    const s = await openTcp(m.tcp);
    const closed = new Promise((r) => s.on('close', r));
    s.write(`200 <13>Mar 10 11:00:00 stall app: ${id}`);
    await closed;
    const e = await m.waitFor((x) => x.message?.includes(id), 'the half frame');
    expect(e).toMatchObject({ hostname: 'stall', truncated: true });
    expect(
      metric(await m.metrics(), 'mutt_syslog_connections_closed_total', { reason: 'idle_timeout' }),
    ).toBeGreaterThan(0);
  });

  it('1,000 idle connections are closed by the idle timeout; memory stays bounded', async () => {
    const before = metric(await m.metrics(), 'mutt_syslog_connections_closed_total', {
      reason: 'idle_timeout',
    });
    // 'close' is watched from the start: the first connections time out before the last open.
    await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise((resolve) => {
            const s = connect({ port: m.tcp, host: '127.0.0.1' });
            s.on('error', () => undefined);
            s.on('close', resolve);
          }),
      ),
    );
    const text = await m.metrics();
    expect(metric(text, 'mutt_syslog_connections_closed_total', { reason: 'idle_timeout' }) - before).toBe(
      1000,
    );
    expect(metric(text, 'mutt_syslog_connections', { transport: 'tcp' })).toBe(0);
    const rss =
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${m.p.child.pid}/status`, 'utf8'))?.[1]) * 1024;
    expect(rss).toBeLessThan(400 * 1024 * 1024);
  }, 60_000);

  it('TLS: a client without a certificate when one is required is rejected and counted; others are unaffected', async () => {
    const before = metric(await m.metrics(), 'mutt_syslog_connections_closed_total', {
      reason: 'tls_handshake',
    });
    // A good client holds its connection open meanwhile.
    const good = tlsConnect({
      port: m.tls,
      host: '127.0.0.1',
      ca: readFileSync(pki.caFile),
      cert: readFileSync(client.certFile),
      key: readFileSync(client.keyFile),
    });
    await new Promise((r, j) => good.once('secureConnect', r).once('error', j));
    const text = `without cert ${Math.random()}`;
    await sClient(['-connect', `127.0.0.1:${m.tls}`, '-CAfile', pki.caFile], `<13>1 - h a - - - ${text}\n`);
    const after = metric(await m.metrics(), 'mutt_syslog_connections_closed_total', {
      reason: 'tls_handshake',
    });
    expect(after).toBeGreaterThan(before);
    const ok = `with cert ${Math.random()}`;
    good.end(`<13>1 - certified app - - - ${ok}\n`);
    await m.waitFor((x) => x.message === ok, 'from the client with a certificate');
    expect((await m.events()).some((x) => x.message === text)).toBe(false);
  });

  it('TLS: garbage instead of a handshake is rejected and counted', async () => {
    const before = metric(await m.metrics(), 'mutt_syslog_connections_closed_total', {
      reason: 'tls_handshake',
    });
    await sendTcp(m.tls, Buffer.from('<13>this is not a TLS ClientHello\n'.repeat(10)));
    for (let i = 0; i < 50; i++) {
      if (
        metric(await m.metrics(), 'mutt_syslog_connections_closed_total', { reason: 'tls_handshake' }) >
        before
      )
        break;
      await abortableSleep(50);
    }
    expect(
      metric(await m.metrics(), 'mutt_syslog_connections_closed_total', { reason: 'tls_handshake' }),
    ).toBe(before + 1);
    // openssl s_client with the client certificate still gets through.
    const text = `after garbage ${Math.random()}`;
    await sClient(
      [
        '-connect',
        `127.0.0.1:${m.tls}`,
        '-CAfile',
        pki.caFile,
        '-cert',
        client.certFile,
        '-key',
        client.keyFile,
      ],
      `<13>1 - mtls app - - - ${text}\n`,
    );
    await m.waitFor((x) => x.message === text, 'over mutual TLS');
  });

  it('the listener is still up and counted everything', async () => {
    const text = await m.metrics();
    expect(metric(text, 'mutt_syslog_parse_errors_total')).toBeGreaterThanOrEqual(4);
    expect(metric(text, 'mutt_syslog_truncated_total')).toBeGreaterThanOrEqual(3);
    expect(metric(text, 'mutt_syslog_messages_total', { transport: 'udp' })).toBeGreaterThanOrEqual(3);
    expect(m.p.child.exitCode).toBeNull();
  });
});

describe('limits and start-up errors', () => {
  it('refuses connections beyond SYSLOG_TCP_MAX_CONNECTIONS and counts them', async () => {
    const m = await serve({ SYSLOG_TCP_MAX_CONNECTIONS: '3', SYSLOG_UDP_PORT: '0', SYSLOG_TLS_PORT: '0' });
    try {
      const socks = await Promise.all(Array.from({ length: 5 }, () => openTcp(m.tcp)));
      for (const s of socks) s.on('error', () => undefined);
      for (let i = 0; i < 50; i++) {
        if (
          metric(await m.metrics(), 'mutt_syslog_connections_closed_total', { reason: 'max_connections' }) >=
          2
        )
          break;
        await abortableSleep(50);
      }
      expect(
        metric(await m.metrics(), 'mutt_syslog_connections_closed_total', { reason: 'max_connections' }),
      ).toBe(2);
      for (const s of socks) s.destroy();
    } finally {
      await m.p.stop();
    }
  });

  it('SYSLOG_REVERSE_DNS names senders whose messages carry no hostname (UDP and TCP), parsed on the main thread', async () => {
    const m = await serve({
      SYSLOG_REVERSE_DNS: 'true',
      SYSLOG_TLS_PORT: '0',
      SYSLOG_PARSER_THREAD: 'false',
    });
    try {
      expect(await m.p.waitForMessage('syslog listeners ready')).toMatchObject({ syslogParserThread: false });
      const a = `no host over udp ${Math.random()}`;
      const b = `no host over tcp ${Math.random()}`;
      await udpSend(m.udp, `<13>${a}`);
      await sendTcp(m.tcp, `<13>${b}\n`);
      const ea = await m.waitFor((x) => x.message === a, 'the UDP message');
      const eb = await m.waitFor((x) => x.message === b, 'the TCP message');
      expect(ea).toMatchObject({ hostname: 'localhost', source_ip: '127.0.0.1' });
      expect(eb).toMatchObject({ hostname: 'localhost', source_ip: '127.0.0.1' });
      // A hostname in the header wins.
      const c = `with host ${Math.random()}`;
      await udpSend(m.udp, `<13>Mar 10 11:00:00 named-host app: ${c}`);
      expect(await m.waitFor((x) => x.message === c, 'the named message')).toMatchObject({
        hostname: 'named-host',
      });
    } finally {
      await m.p.stop();
    }
  });

  it('a port in use names the variable and the remedy', async () => {
    const busy = await freePort();
    const blocker = (await import('node:net')).createServer().listen(busy, '0.0.0.0');
    await new Promise((r) => blocker.once('listening', r));
    const p = startMutt({
      ...svc.env,
      MUTT_ROLES: 'listeners',
      SERVER_PORT_INGESTOR: String(await freePort()),
      SYSLOG_TCP_PORT: String(busy),
    });
    const { code } = await p.exited();
    blocker.close();
    expect(code).toBe(78);
    expect(p.tail() + p.stderr.join('')).toMatch(
      new RegExp(`SYSLOG_TCP_PORT=${busy} \\(tcp\\): address already in use`),
    );
  });
});
