// The appliance default: `mutt serve` with no REDIS_HOST/DB_HOST starts, supervises and stops private
// redis-server and postgres under MUTT_DATA_DIR, and its data survives restarts and SIGKILL.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processMatches } from '../src/runtime/services/process.ts';
import { runMutt, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { baseEnv, jsonOf, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => svc.cleanup());

/** Removes the newest queued event through the running MUTT's private Redis socket. */
async function svcRedisLpop(env: Record<string, string>): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis({ path: join(env.MUTT_DATA_DIR!, 'redis', 'redis.sock') });
  await r.lpop('mutt:ingest_queue');
  r.disconnect();
}

describe('embedded Redis and PostgreSQL', () => {
  it('starts them, survives restarts and SIGKILL, and stops them with MUTT', async () => {
    const dataDir = join(svc.tmp, 'appliance');
    const port = await freePort();
    // No alerter: the test reads the accepted event back from the ingest queue.
    const env = {
      ...baseEnv(),
      MUTT_DATA_DIR: dataDir,
      SERVER_PORT_INGESTOR: String(port),
      ALERTER_WORKERS: '0',
    };
    const url = `http://127.0.0.1:${port}`;

    // First start: initdb, generated API key, migrations.
    let p = startMutt(env);
    await p.running(120_000);
    await p.waitForMessage('database schema is up to date', 60_000);
    const keyFile = join(dataDir, 'secrets', 'ingest_api_key');
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(key.length).toBeGreaterThanOrEqual(32);
    const send = (i: number) =>
      fetch(`${url}/ingest`, {
        method: 'POST',
        headers: { 'X-API-KEY': key },
        body: JSON.stringify({ hostname: `h${i}`, message: 'hello', timestamp: '2025-11-08T12:00:00Z' }),
      });
    expect((await send(1)).status).toBe(200);
    expect(await jsonOf(await fetch(`${url}/health`))).toMatchObject({
      status: 'healthy',
      redis: 'ok',
      postgres: 'ok',
    });

    const redisPid = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8'));
    const pgPid = Number(
      readFileSync(join(dataDir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    expect(processMatches(redisPid, 'redis-server')).toBe(true);
    expect(processMatches(pgPid, 'postgres')).toBe(true);

    const status = runMutt(['status', '--json'], env);
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout).queues.ingest_queue).toBe(1);

    // The private Redis dies: MUTT restarts it, the AOF brings the event back, ingest recovers.
    process.kill(redisPid, 'SIGKILL');
    await p.waitForMessage('redis-server exited unexpectedly; restarting');
    await p.waitFor((l) => l.msg === 'redis-server started' && l.child_pid !== redisPid, 30_000);
    let recovered = 0;
    for (let i = 0; i < 100 && recovered !== 200; i++) {
      recovered = (await send(99)).status;
      if (recovered !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toBe(200);
    expect(JSON.parse(runMutt(['status', '--json'], env).stdout).queues.ingest_queue).toBe(2);
    await svcRedisLpop(env);

    // SIGTERM stops the private servers too.
    const redisPidNow = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8'));
    p.kill('SIGTERM');
    expect((await p.exited()).code).toBe(0);
    expect(processMatches(redisPidNow, 'redis-server')).toBe(false);
    expect(processMatches(pgPid, 'postgres')).toBe(false);
    const down = runMutt(['status'], env);
    expect(down.status).toBe(69);
    expect(down.stderr).toContain("MUTT's embedded Redis is not running");

    // Restart: the queued event survived (AOF), the key and the database were kept.
    p = startMutt(env);
    await p.running(120_000);
    expect(p.lines.some((l) => l.msg === 'initialising the PostgreSQL cluster (initdb)')).toBe(false);
    expect(JSON.parse(runMutt(['status', '--json'], env).stdout).queues.ingest_queue).toBe(1);
    expect((await send(2)).status).toBe(200);

    // SIGKILL leaves the servers running; the next start takes over from them without losing data.
    const redisPid2 = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8'));
    p.kill('SIGKILL');
    await p.exited();
    expect(processMatches(redisPid2, 'redis-server')).toBe(true);
    p = startMutt(env);
    await p.running(120_000);
    expect(processMatches(redisPid2, 'redis-server')).toBe(false);
    expect(JSON.parse(runMutt(['status', '--json'], env).stdout).queues.ingest_queue).toBe(2);
    await p.waitForMessage('database schema is up to date', 60_000);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    await p.stop();
  });

  it('migrate starts the embedded PostgreSQL by itself when MUTT is not running', () => {
    const env = { ...baseEnv(), MUTT_DATA_DIR: join(svc.tmp, 'migrate-only') };
    const r = runMutt(['migrate'], env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('applied 0001_base');
    const again = runMutt(['migrate'], env);
    expect(again.stdout).toContain('schema already up to date');
  });
});
