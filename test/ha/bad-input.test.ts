// High-availability configurations that cannot work, each row of the table a test: a precise message
// naming the setting, no secret in any output, and — where waiting is right — a node that waits, says
// so, and loses nothing.
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/runtime/migrate.ts';
import { type PostgresServerHandle, startPostgres } from '../../src/runtime/services/postgres-server.ts';
import { abortableSleep } from '../../src/runtime/sleep.ts';
import { addRule } from '../harness/alerting.ts';
import { auditedIds, HttpLoad } from '../harness/ha-load.ts';
import { nodeEnv, nodeMetric } from '../harness/ha-node.ts';
import { startMutt } from '../harness/mutt-process.ts';
import { freePort } from '../harness/ports.ts';
import { MASTER_NAME, redisSentinelBinary, SentinelTopology } from '../harness/redis-topology.ts';
import { quietLog, type TestServices, useServices } from '../harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => {
  await svc?.cleanup();
});

const RIGHT = 'the-right-sentinel-test-password';
const WRONG = 'a-wrong-password-7c1f';

/** Runs `mutt serve` until it exits; its exit code, standard error and log lines. */
async function serveUntilExit(env: Record<string, string>) {
  const p = startMutt(env);
  const exit = await p.exited(60_000);
  return {
    code: exit.code,
    stderr: p.stderr.join(''),
    lines: p.lines,
    all: `${p.stderr.join('')}\n${p.tail(500)}`,
  };
}

describe('Redis Sentinel configurations that cannot work', () => {
  let topo: SentinelTopology | undefined;
  beforeAll(async () => {
    topo = await SentinelTopology.start({
      dir: join(svc.tmp, 'sentinels'),
      redisServer: svc.services.redisServerBinary,
      sentinel: redisSentinelBinary(),
      password: RIGHT,
    });
  }, 120_000);
  afterAll(async () => {
    await topo?.stop();
  });

  const sentinelEnv = (extra: Record<string, string>) =>
    nodeEnv(svc, {
      redis: { REDIS_SENTINELS: topo!.sentinelList, REDIS_SENTINEL_MASTER: MASTER_NAME, REDIS_PASS: RIGHT },
      extra: { MUTT_ROLES: 'listeners', SERVER_PORT_INGESTOR: '0', ...extra },
    });

  const rows: {
    input: string;
    env: () => Promise<Record<string, string>>;
    code: number;
    message: (t: SentinelTopology) => RegExp;
    retried?: boolean;
  }[] = [
    {
      input: 'all Sentinels unreachable at start-up',
      env: async () =>
        sentinelEnv({
          REDIS_SENTINELS: `127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}`,
          REDIS_SENTINEL_STARTUP_TIMEOUT: '3',
        }),
      code: 69,
      message: () =>
        /the Redis Sentinels in REDIS_SENTINELS \(127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\) did not name a reachable master within 3 s \(REDIS_SENTINEL_STARTUP_TIMEOUT\): .*ECONNREFUSED/,
      retried: true,
    },
    {
      input: 'a master name no Sentinel knows',
      env: async () => sentinelEnv({ REDIS_SENTINEL_MASTER: 'no-such-master' }),
      code: 78,
      message: () =>
        /no Redis Sentinel in REDIS_SENTINELS \(.*\) knows a master named "no-such-master": check REDIS_SENTINEL_MASTER/,
    },
  ];
  it('a Sentinel that names a master which refuses the password: an error naming the master, /health says why, no secret logged', async () => {
    const http = await freePort();
    const p = startMutt(sentinelEnv({ REDIS_PASS: WRONG, SERVER_PORT_INGESTOR: String(http) }));
    try {
      const named = await p.waitFor((l) => l.level === 'error' && /refused the password/.test(l.msg), 60_000);
      expect(named.msg).toMatch(
        new RegExp(
          `^the Redis master 127\\.0\\.0\\.1:${topo!.master.port}, named by the Sentinel 127\\.0\\.0\\.1:\\d+ for "${MASTER_NAME}", refused the password \\(REDIS_PASS\\): WRONGPASS`,
        ),
      );
      // As with any Redis that refuses MUTT: the ports open so that /health says why, and the node
      // waits for a corrected secret (a rotation, SIGHUP) rather than exiting.
      await p.running();
      const health = (await (await fetch(`http://127.0.0.1:${http}/health`)).json()) as {
        status: string;
        redis: string;
      };
      expect(health.status).toBe('unhealthy');
      expect(health.redis).toMatch(/password|WRONGPASS/i);
      expect(p.child.exitCode).toBeNull();
    } finally {
      await p.stop();
    }
    const all = `${p.stderr.join('')}\n${p.tail(500)}`;
    expect(all).not.toContain(WRONG);
    expect(all).not.toContain(RIGHT);
  }, 90_000);

  for (const row of rows) {
    it(`${row.input}: stops start-up with a message naming the setting, no secret logged`, async () => {
      const env = await row.env();
      const r = await serveUntilExit(env);
      expect(r.code, r.all).toBe(row.code);
      expect(r.stderr).toMatch(row.message(topo!));
      expect(r.lines.some((l) => l.level === 'fatal' && row.message(topo!).test(String(l.err)))).toBe(true);
      if (row.retried)
        expect(
          r.lines.filter((l) => l.msg === 'waiting for the Redis Sentinels (REDIS_SENTINELS)').length,
        ).toBeGreaterThan(0);
      expect(r.all).not.toContain(WRONG);
      expect(r.all).not.toContain(RIGHT);
    }, 90_000);
  }
});

describe('a DB_HOST list where no member accepts writes (all replicas)', () => {
  const servers: PostgresServerHandle[] = [];
  const start = async (name: string, port: number, readOnly: boolean) =>
    startPostgres({
      binDir: svc.services.postgres.binDir,
      dir: join(svc.tmp, name),
      superuser: 'mutt_ro',
      database: 'mutt_ro',
      listen: '127.0.0.1',
      port,
      fastInit: true,
      settings: readOnly ? { default_transaction_read_only: 'on' } : {},
      log: quietLog(),
    });
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('the alerter waits and says so (log and metric); nothing acknowledged is dropped; it resumes once one is writable', async () => {
    const ports = [await freePort(), await freePort()];
    // Each server creates its database writable, then runs read-only, as a standby would.
    for (const [i, port] of ports.entries()) await (await start(`ro${i}`, port, false)).stop();
    for (const [i, port] of ports.entries()) servers.push(await start(`ro${i}`, port, true));
    const http = await freePort();
    const mutt = startMutt(
      nodeEnv(svc, {
        ports: { http },
        db: { DB_HOST: ports.map((p) => `127.0.0.1:${p}`).join(','), DB_USER: 'mutt_ro', DB_NAME: 'mutt_ro' },
        extra: { MUTT_ROLES: 'listeners,alerter', POD_NAME: 'no-primary' },
      }),
    );
    const load = new HttpLoad({
      url: `http://127.0.0.1:${http}/ingest`,
      apiKey: svc.env.INGEST_API_KEY!,
      batch: 10,
      intervalMs: 100,
    });
    try {
      await mutt.running();
      const said = await mutt.waitFor((l) => /^no member of DB_HOST accepts writes/.test(l.msg), 30_000);
      expect(said.msg).toBe(
        `no member of DB_HOST accepts writes (127.0.0.1:${ports[0]}: read-only (a replica); 127.0.0.1:${ports[1]}: read-only (a replica)); waiting for a primary`,
      );
      expect(await nodeMetric(http, 'mutt_db_primary_writable')).toBe(0);
      expect(await nodeMetric(http, 'mutt_db_primary_searches_total', { outcome: 'none' })).toBeGreaterThan(
        0,
      );
      const health = (await (await fetch(`http://127.0.0.1:${http}/health`)).json()) as { postgres: string };
      expect(health.postgres).toMatch(/no member of DB_HOST accepts writes/);

      // Events keep being acknowledged: they wait in Redis.
      load.start();
      await abortableSleep(2000);
      expect(load.acked.size).toBeGreaterThan(0);
      expect(await svc.redis.llen(svc.keys.ingestQueue)).toBeGreaterThan(0);

      // The first member is promoted. Before it serves on its own address, it gets the schema and a
      // rule (so that no event can be decided before the rule exists).
      await load.stop();
      const waiting = await svc.redis.llen(svc.keys.ingestQueue);
      expect(waiting).toBe(load.acked.size);
      await servers[0]!.stop();
      const aside = await freePort();
      const prepared = await start('ro0', aside, false);
      const prep = new pg.Pool({
        host: '127.0.0.1',
        port: aside,
        user: 'mutt_ro',
        database: 'mutt_ro',
        max: 1,
      });
      try {
        await migrate(prep, quietLog());
        await addRule(prep, { match_string: 'HA-LOAD' });
      } finally {
        await prep.end();
        await prepared.stop();
      }
      servers[0] = await start('ro0', ports[0]!, false);
      const pool = new pg.Pool({
        host: '127.0.0.1',
        port: ports[0],
        user: 'mutt_ro',
        database: 'mutt_ro',
        max: 1,
      });
      try {
        const end = Date.now() + 60_000;
        let audited = await auditedIds(pool);
        while ([...load.acked].some((id) => !audited.has(id)) && Date.now() < end) {
          await abortableSleep(250);
          audited = await auditedIds(pool);
        }
        expect([...load.acked].filter((id) => !audited.has(id))).toEqual([]);
        expect([...audited.values()].every((n) => n === 1)).toBe(true);
        // Every thread's pool finds it (the daemon's own retries back off up to 30 s).
        const found = Date.now() + 45_000;
        while ((await nodeMetric(http, 'mutt_db_primary_writable')) !== 1 && Date.now() < found)
          await abortableSleep(500);
        expect(await nodeMetric(http, 'mutt_db_primary_writable')).toBe(1);
      } finally {
        await pool.end();
      }
    } finally {
      await Promise.race([load.stop(), abortableSleep(15_000)]);
      await mutt.stop();
    }
  }, 180_000);
});
