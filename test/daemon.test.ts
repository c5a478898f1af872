// The real `mutt` process: CLI, configuration errors, start-up against real services, dependencies
// that are down, signals, and SIGKILL after acknowledged requests.

import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '../src/runtime/services/postgres-server.ts';
import { runMutt, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { jsonOf, quietLog, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices();
});
afterAll(async () => svc.cleanup());

const event = (i: number) => ({ hostname: `h${i}`, message: `m${i}`, timestamp: '2025-11-08T12:00:00Z' });

async function serve(extra: Record<string, string> = {}) {
  const port = await freePort();
  // No alerter: these tests read the accepted events back from the ingest queue.
  const p = startMutt({ ...svc.env, SERVER_PORT_INGESTOR: String(port), ALERTER_WORKERS: '0', ...extra });
  const bound = await p.running();
  expect(bound).toBe(port);
  const base = `http://127.0.0.1:${port}`;
  const post = (body: unknown, key = svc.env.INGEST_API_KEY!) =>
    fetch(`${base}/ingest`, {
      method: 'POST',
      headers: { 'X-API-KEY': key, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  return { p, port, base, post };
}

describe('mutt CLI', () => {
  it('--version prints the package version', () => {
    const r = runMutt(['--version'], svc.env);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--help documents every command', () => {
    const r = runMutt(['--help'], svc.env);
    expect(r.status).toBe(0);
    for (const cmd of ['serve', 'validate', 'migrate', 'status'])
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b.*\\S`, 'm'));
    const serveHelp = runMutt(['serve', '--help'], svc.env);
    expect(serveHelp.stdout).toContain('MUTT_ROLES');
  });

  it('validate accepts a good configuration', () => {
    const r = runMutt(['validate'], svc.env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('configuration OK');
  });

  const badEnv = { REDIS_PORT: 'abc', SERVER_PORT_INGESTOR: '99999', MUTT_ROLES: 'listeners,bogus' };
  const expectedLines = [
    'mutt: configuration error: MUTT_ROLES="listeners,bogus": expected a comma-separated list of all, listeners, alerter, forwarder, remediation, webui (not valid: bogus)',
    'mutt: configuration error: REDIS_PORT="abc": expected a port from 1 to 65535',
    'mutt: configuration error: SERVER_PORT_INGESTOR="99999": expected a port from 1 to 65535, or 0 to disable',
  ];

  it('validate exits 78 naming each wrong variable', () => {
    const r = runMutt(['validate'], { ...svc.env, ...badEnv });
    expect(r.status).toBe(78);
    expect(r.stderr.split('\n').filter((l) => l.includes('configuration error'))).toEqual(expectedLines);
  });

  it('serve exits 78 naming each wrong variable, before starting anything', () => {
    const r = runMutt(['serve'], { ...svc.env, ...badEnv });
    expect(r.status).toBe(78);
    expect(r.stderr.split('\n').filter((l) => l.includes('configuration error'))).toEqual(expectedLines);
    expect(r.stdout).toBe('');
  });

  it('reads variables from the env file and secrets from *_FILE', async () => {
    const { writeFileSync } = await import('node:fs');
    const envFile = join(svc.tmp, 'mutt.env');
    const keyFile = join(svc.tmp, 'ingest.key');
    writeFileSync(envFile, 'REDIS_PORT=not-a-port\n');
    writeFileSync(keyFile, 'from-file\n');
    const r = runMutt(['validate'], {
      ...svc.env,
      MUTT_ENV_FILE: envFile,
      INGEST_API_KEY: '',
      INGEST_API_KEY_FILE: keyFile,
      REDIS_PORT: '',
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('REDIS_PORT="not-a-port"');
  });

  it('migrate is idempotent against an external PostgreSQL', () => {
    const r = runMutt(['migrate'], svc.env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('schema already up to date');
    expect(r.stdout).toMatch(/audit partitions: event_audit_log_\d{4}_\d{2}/);
  });
});

describe('mutt serve with external Redis and PostgreSQL', () => {
  it('accepts events, reports health, and stops cleanly on SIGTERM', async () => {
    const { p, base, post } = await serve();
    const res = await post(event(1));
    expect(res.status).toBe(200);
    const body = await jsonOf(res);
    // Start-up does not wait for PostgreSQL: /health is healthy once the schema is migrated.
    await p.waitForMessage('database schema is up to date');
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await jsonOf(health)).toMatchObject({
      status: 'healthy',
      redis: 'ok',
      postgres: 'ok',
      service: 'mutt',
    });
    const [item] = await svc.redis.lrange(svc.keys.ingestQueue, 0, 0);
    expect(JSON.parse(item!)).toMatchObject({
      _correlation_id: body.correlation_id,
      source: 'webhook',
      // An IPv4 client of the dual-stack socket is recorded as its plain address.
      source_ip: '127.0.0.1',
    });

    const status = runMutt(['status', '--json'], svc.env);
    expect(JSON.parse(status.stdout).queues.ingest_queue).toBeGreaterThanOrEqual(1);

    // The API key never reaches a log line.
    expect(p.lines.map((l) => JSON.stringify(l)).join('\n')).not.toContain(svc.env.INGEST_API_KEY!);

    p.kill('SIGTERM');
    expect(await p.exited()).toEqual({ code: 0, signal: null });
    expect(p.lines.some((l) => l.msg === 'MUTT stopped')).toBe(true);
  });

  it('keeps every acknowledged event when SIGKILLed right after a burst', async () => {
    await svc.redis.del(svc.keys.ingestQueue);
    const { p, post } = await serve();
    const acked = new Set<string>();
    let stop = false;
    let sent = 0;
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        sent++;
        try {
          const r = await post(event(c * 100000 + i));
          if (r.status === 200) acked.add((await jsonOf(r)).correlation_id);
        } catch {
          return; // connection reset by the kill
        }
      }
    };
    const clients = Array.from({ length: 16 }, (_, c) => client(c));
    while (acked.size < 2000) await new Promise((r) => setTimeout(r, 10));
    p.kill('SIGKILL');
    stop = true;
    await Promise.all(clients);
    expect((await p.exited()).signal).toBe('SIGKILL');
    const inRedis = new Set(
      (await svc.redis.lrange(svc.keys.ingestQueue, 0, -1)).map((s) => JSON.parse(s)._correlation_id),
    );
    const missing = [...acked].filter((id) => !inRedis.has(id));
    expect(acked.size).toBeGreaterThanOrEqual(2000);
    expect(missing).toEqual([]);
    // Events that were read but not acknowledged may or may not be there; never more than were sent.
    expect(inRedis.size).toBeLessThanOrEqual(sent);
  });

  it('names SERVER_PORT_INGESTOR and the remedy when the port is taken', async () => {
    const { p, port } = await serve();
    // Another node (a name of its own) on the same port.
    const r = runMutt(['serve'], { ...svc.env, SERVER_PORT_INGESTOR: String(port), POD_NAME: 'second-node' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`SERVER_PORT_INGESTOR=${port} (tcp): address already in use`);
    await p.stop();
  });

  it('answers 413 to an oversized body without reading the rest, and closes the connection', async () => {
    const { p, port } = await serve();
    const answer = await new Promise<{ head: string; closedMs: number }>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      const started = Date.now();
      let head = '';
      sock.on('connect', () => {
        sock.write(
          `POST /ingest HTTP/1.1\r\nHost: x\r\nX-API-KEY: ${svc.env.INGEST_API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n{"hostname":`,
        );
      });
      sock.on('data', (d) => {
        head += d.toString();
      });
      sock.on('close', () => resolve({ head, closedMs: Date.now() - started }));
      sock.on('error', reject);
      sock.setTimeout(10_000, () => reject(new Error('no answer')));
    });
    expect(answer.head).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.head).toContain('Request body larger than 1048576 bytes');
    expect(answer.closedMs).toBeLessThan(5000);
    await p.stop();
  });
});

describe('dependencies down at start-up', () => {
  it('waits for PostgreSQL and says so, answers /health 503, ingests meanwhile, and recovers', async () => {
    const pgPort = await freePort();
    const { p, base, post } = await serve({ DB_PORT: String(pgPort), DB_NAME: 'late_db' });
    await p.waitForMessage('waiting for PostgreSQL');
    const h = await fetch(`${base}/health`);
    expect(h.status).toBe(503);
    expect(await jsonOf(h)).toMatchObject({
      status: 'unhealthy',
      redis: 'ok',
      postgres: expect.stringMatching(/^error: /),
    });
    // Ingest needs only Redis.
    expect((await post(event(7))).status).toBe(200);
    // The alert rules read the same from /metrics; the partitions are unknown, so not reported.
    const down = await (await fetch(`${base}/metrics`)).text();
    expect(down).toMatch(/^mutt_postgres_up 0$/m);
    expect(down).toMatch(/^mutt_redis_up 1$/m);
    expect(down).not.toMatch(/^mutt_audit_partition_present/m);

    const server = await startPostgres({
      binDir: svc.services.postgres.binDir,
      dir: join(svc.tmp, 'late-pg'),
      superuser: svc.services.postgres.user,
      database: 'late_db',
      listen: '127.0.0.1',
      port: pgPort,
      fastInit: true,
      settings: { fsync: 'off' },
      log: quietLog(),
    });
    try {
      await p.waitForMessage('database schema is up to date', 60_000);
      const ok = await fetch(`${base}/health`);
      expect(ok.status).toBe(200);
      expect(await jsonOf(ok)).toMatchObject({ status: 'healthy', postgres: 'ok' });
      const up = await (await fetch(`${base}/metrics`)).text();
      expect(up).toMatch(/^mutt_postgres_up 1$/m);
      expect(up).toMatch(/^mutt_audit_partition_present\{month="current"\} 1$/m);
      expect(up).toMatch(/^mutt_audit_partition_present\{month="next"\} 1$/m);
    } finally {
      await p.stop();
      await server.stop();
    }
  });

  it('starts with Redis down: opens nothing until Redis answers, then the first request is accepted (no 503)', async () => {
    const { startRedisServer } = await import('../src/runtime/services/redis-server.ts');
    const redisPort = await freePort();
    const port = await freePort();
    const p = startMutt({
      ...svc.env,
      SERVER_PORT_INGESTOR: String(port),
      ALERTER_WORKERS: '0',
      REDIS_PORT: String(redisPort),
    });
    try {
      await p.waitForMessage('waiting for Redis before opening the listeners');
      await p.waitForMessage('waiting for Redis');
      // Not ready: the port is closed rather than answering 503.
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
      expect(p.lines.some((l) => l.msg === 'MUTT is running')).toBe(false);
      const server = await startRedisServer({
        binary: svc.services.redisServerBinary,
        dir: join(svc.tmp, 'late-redis'),
        port: redisPort,
        persistence: 'none',
        log: quietLog(),
      });
      try {
        await p.running();
        const r = await fetch(`http://127.0.0.1:${port}/ingest`, {
          method: 'POST',
          headers: { 'X-API-KEY': svc.env.INGEST_API_KEY!, 'Content-Type': 'application/json' },
          body: JSON.stringify(event(1)),
        });
        expect(r.status).toBe(200);
        // Once running, a Redis that goes away is answered 503 per request, and said in /metrics.
        await server.stop();
        const down = await fetch(`http://127.0.0.1:${port}/ingest`, {
          method: 'POST',
          headers: { 'X-API-KEY': svc.env.INGEST_API_KEY!, 'Content-Type': 'application/json' },
          body: JSON.stringify(event(2)),
        });
        expect(down.status).toBe(503);
        expect((await jsonOf(down)).message).toBe('Redis unavailable');
        expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(503);
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(text).toMatch(/^mutt_redis_up 0$/m);
        await p.stop();
      } finally {
        await server.stop();
      }
    } finally {
      if (p.child.exitCode === null) p.kill('SIGKILL');
    }
  });

  it('SIGTERM while waiting for Redis stops at once, with status 0', async () => {
    const p = startMutt({
      ...svc.env,
      SERVER_PORT_INGESTOR: String(await freePort()),
      ALERTER_WORKERS: '0',
      REDIS_PORT: String(await freePort()),
    });
    await p.waitForMessage('waiting for Redis before opening the listeners');
    p.kill('SIGTERM');
    expect(await p.exited(20_000)).toEqual({ code: 0, signal: null });
  });
});
