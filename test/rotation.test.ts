// Zero-downtime rotation of the Redis and PostgreSQL passwords (docs/SECURITY.md), run under a
// steady HTTP load against a whole `mutt serve` (ingest on the main thread, alerter and forwarder
// workers) with its secrets in Vault (the stand-in), on real servers: a Redis ACL user that has two
// passwords, then one; a PostgreSQL role whose password is changed with ALTER ROLE. Every
// connection is killed at each step so that all of them, in every thread, must authenticate again.
// Counted: every acknowledged event is audited and delivered to Moogsoft, none twice lost.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/runtime/migrate.ts';
import { addRule, until } from './harness/alerting.ts';
import { scenario } from './harness/forwarding.ts';
import { MockMoogsoft } from './harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { type SecurePostgres, startSecurePostgres } from './harness/secure-servers.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';
import { VaultStandIn } from './harness/vault.ts';

let svc: TestServices;
let pgs: SecurePostgres;
let vault: VaultStandIn;
let mock: MockMoogsoft;
const procs: MuttProcess[] = [];
const users: string[] = [];

beforeAll(async () => {
  svc = await useServices({ database: false });
  pgs = await startSecurePostgres({
    binDir: svc.services.postgres.binDir,
    dir: join(svc.tmp, 'pg-rotation'),
    port: await freePort(),
    hba: ['host all all 127.0.0.1/32 scram-sha-256'],
  });
  vault = new VaultStandIn();
  await vault.start();
  mock = await MockMoogsoft.start();
});
afterAll(async () => {
  for (const p of procs) await p.stop().catch(() => p.kill('SIGKILL'));
  for (const u of users) await svc.redis.acl('DELUSER', u).catch(() => {});
  await mock.close();
  await vault.stop();
  await pgs.stop();
  await svc.cleanup();
});

const pw = (tag: string) => `${tag}-${randomBytes(9).toString('base64url')}`;

interface Node {
  p: MuttProcess;
  port: number;
  redisUser: string;
  dbUser: string;
  path: string;
  base: Record<'INGEST_API_KEY' | 'WEBUI_API_KEY' | 'MOOG_API_KEY' | 'DB_USER', string>;
}

/** A Redis ACL user, a PostgreSQL role owning its database, a Vault secret, and `mutt serve` on them. */
async function startNode(secrets: {
  redis: string[];
  db: string;
  vault: Record<string, string>;
}): Promise<Node> {
  const id = randomBytes(3).toString('hex');
  const redisUser = `rot_${id}`;
  const dbUser = `rot_${id}`;
  users.push(redisUser);
  await svc.redis.acl('SETUSER', redisUser, 'on', ...secrets.redis.map((p) => `>${p}`), '~*', '&*', '+@all');
  const a = await pgs.admin();
  await a.query(`CREATE ROLE ${dbUser} LOGIN PASSWORD '${secrets.db}'`);
  await a.query(`CREATE DATABASE ${dbUser} OWNER ${dbUser}`);
  await a.end();
  // The schema and one rule, as the operator's role (every event below matches it and is forwarded).
  const pool = new pg.Pool({
    host: '127.0.0.1',
    port: pgs.port,
    user: dbUser,
    password: secrets.db,
    database: dbUser,
    max: 1,
  });
  await migrate(pool, quietLog());
  await addRule(pool, { match_string: 'down', prod_handling: 'Page_and_ticket' });
  await pool.end();
  const role = vault.addRole(`mutt-${id}`, { tokenTtl: 3600, tokenMaxTtl: 14400 });
  const sid = join(mkdtempSync(join(svc.tmp, 'sid-')), 'vault_secret_id');
  writeFileSync(sid, role.secretId, { mode: 0o600 });
  const path = `secret/rotation-${id}`;
  const base = {
    INGEST_API_KEY: `ingest-${id}`,
    WEBUI_API_KEY: `webui-${id}`,
    MOOG_API_KEY: `moog-${id}`,
    DB_USER: dbUser,
  };
  vault.put(path, { ...base, ...secrets.vault });
  const s = await scenario(svc, {});
  const { INGEST_API_KEY: _i, WEBUI_API_KEY: _w, DB_USER: _d, ...env } = s.env;
  const p = startMutt({
    ...env,
    MUTT_ROLES: 'listeners,alerter,forwarder',
    LOG_LEVEL: 'INFO',
    REDIS_USERNAME: redisUser,
    DB_HOST: '127.0.0.1',
    DB_PORT: String(pgs.port),
    DB_NAME: dbUser,
    MOOG_WEBHOOK_URL: mock.url,
    ALERTER_WORKERS: '1',
    ALERTER_HEARTBEAT_INTERVAL: '1',
    ALERTER_JANITOR_TIMEOUT: '3',
    VAULT_ADDR: vault.addr,
    VAULT_ROLE_ID: role.roleId,
    VAULT_SECRET_ID_FILE: sid,
    VAULT_SECRETS_PATH: path,
    VAULT_SECRET_CHECK_INTERVAL: '1',
  });
  procs.push(p);
  const port = await p.running();
  return { p, port, redisUser, dbUser, path, base };
}

/** Every connection of the user, in every thread, must authenticate again. */
async function killConnections(n: Node): Promise<void> {
  await svc.redis.client('KILL', 'USER', n.redisUser);
  const a = await pgs.admin();
  await a.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [n.dbUser]);
  await a.end();
}

async function applied(n: Node, version: number): Promise<void> {
  await n.p.waitFor(
    (l) => l.msg === 'a new version of the Vault secret: applying it' && l.version === version,
    15_000,
  );
}

/** Steady HTTP load: unique events, a 503 retried as a client would; counts what was acknowledged. */
function load(port: number, key: string, concurrency = 4) {
  const acked = new Set<string>();
  const statuses = new Map<number, number>();
  let stop = false;
  let next = 0;
  const worker = async () => {
    while (!stop) {
      const host = `rot-${next++}`;
      for (;;) {
        let status: number;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/ingest`, {
            method: 'POST',
            headers: { 'X-API-KEY': key },
            body: JSON.stringify({
              hostname: host,
              message: `Gi0/1 down on ${host}`,
              timestamp: new Date().toISOString(),
            }),
          });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = -1;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 200) {
          acked.add(host);
          break;
        }
        if (status !== 503 && status !== -1) throw new Error(`unexpected ingest status ${status}`);
        await new Promise((r) => setTimeout(r, 50));
        if (stop) break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const running = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    acked,
    statuses,
    async stop() {
      stop = true;
      await running;
    },
  };
}

const audited = async (n: Node): Promise<Set<string>> => {
  const c = await pgs.admin(n.dbUser);
  const r = await c.query<{ hostname: string }>('SELECT DISTINCT hostname FROM event_audit_log');
  await c.end();
  return new Set(r.rows.map((x) => x.hostname));
};

describe('zero-downtime password rotation', () => {
  it(
    'moves every connection of every thread to the new Redis and PostgreSQL passwords under load, with 0 events lost',
    { timeout: 180_000 },
    async () => {
      const r1 = pw('redis-old');
      const r2 = pw('redis-new');
      const d1 = pw('db-old');
      const d2 = pw('db-new');
      const n = await startNode({
        redis: [r1],
        db: d1,
        vault: { REDIS_PASS_CURRENT: r1, DB_PASS_CURRENT: d1 },
      });
      await n.p.waitForMessage('alerter started', 30_000);
      const traffic = load(n.port, n.base.INGEST_API_KEY);
      await until(() => traffic.acked.size >= 100, 30_000, '100 events acknowledged');

      // 1. The servers accept the new password too (Redis: two passwords); Vault publishes NEXT.
      await svc.redis.acl('SETUSER', n.redisUser, `>${r2}`);
      vault.put(n.path, {
        ...n.base,
        REDIS_PASS_CURRENT: r1,
        REDIS_PASS_NEXT: r2,
        DB_PASS_CURRENT: d1,
        DB_PASS_NEXT: d2,
      });
      await applied(n, 2);

      // 2. The servers switch: PostgreSQL's role gets the new password, Redis drops the old one.
      //    Every connection must authenticate again: CURRENT is refused, NEXT works.
      await pgs.admin().then(async (a) => {
        await a.query(`ALTER ROLE ${n.dbUser} PASSWORD '${d2}'`);
        await a.end();
      });
      await svc.redis.acl('SETUSER', n.redisUser, `<${r1}`);
      const before = traffic.acked.size;
      await killConnections(n);
      await until(() => traffic.acked.size >= before + 200, 30_000, 'traffic flowing on NEXT');
      const fallbacks = n.p.lines.filter((l) =>
        /refused (REDIS|DB)_PASS_CURRENT for user "rot_\w+": trying (REDIS|DB)_PASS_NEXT/.test(l.msg),
      );
      expect(fallbacks.some((l) => l.service === 'Redis' && l.component === undefined)).toBe(true); // main thread
      expect(fallbacks.some((l) => l.service === 'Redis' && l.component === 'alerter')).toBe(true);
      expect(fallbacks.some((l) => l.service === 'Redis' && l.component === 'forwarder')).toBe(true);
      expect(fallbacks.some((l) => l.service === 'PostgreSQL' && l.component === 'alerter')).toBe(true);

      // 3. Promote: CURRENT is the new password, NEXT is gone.
      vault.put(n.path, { ...n.base, REDIS_PASS_CURRENT: r2, DB_PASS_CURRENT: d2 });
      await applied(n, 3);
      const mark = n.p.lines.length;
      const before2 = traffic.acked.size;
      await killConnections(n);
      await until(() => traffic.acked.size >= before2 + 200, 30_000, 'traffic flowing on the new CURRENT');
      const after = n.p.lines.slice(mark);
      expect(after.some((l) => /refused/.test(l.msg))).toBe(false);
      expect(
        after.filter((l) => l.msg === 'Redis connection restored' && l.secret === 'REDIS_PASS_CURRENT')
          .length,
      ).toBeGreaterThan(0);

      await traffic.stop();
      const acked = traffic.acked;
      // Counted: every acknowledged event audited and delivered.
      await until(
        async () => (await audited(n)).size >= acked.size,
        60_000,
        'every acknowledged event audited',
      );
      const inDb = await audited(n);
      expect([...acked].filter((h) => !inDb.has(h))).toEqual([]);
      // Delivered: every acknowledged host reached Moogsoft. A request whose answer was lost when its
      // connection was killed got 503 and was sent again: at-least-once, so a few hosts may arrive twice.
      const delivered = () => new Set(mock.acceptedEvents().map((e) => String(e.source)));
      await mock.until(() => [...acked].every((h) => delivered().has(h)), 60_000, 'every alert delivered');
      expect([...acked].filter((h) => !delivered().has(h))).toEqual([]);
      const duplicates = mock.uniqueAcceptedIds().size - acked.size;
      // The sessions in PostgreSQL now all use the new password (they were all opened after step 3).
      const a = await pgs.admin();
      const sessions = await a.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [
        n.dbUser,
      ]);
      await a.end();
      expect(sessions.rows[0].n).toBeGreaterThan(0);

      process.stdout.write(
        `[rotation] ${acked.size} events acknowledged, audited and delivered (${duplicates} sent twice after a lost answer); ingest answers: ${JSON.stringify(Object.fromEntries(traffic.statuses))}\n`,
      );
      await n.p.stop();
      const out = [...n.p.lines.map((l) => JSON.stringify(l)), ...n.p.stderr].join('\n');
      for (const secret of [r1, r2, d1, d2]) expect(out).not.toContain(secret);
    },
  );

  it(
    'both CURRENT and NEXT wrong: errors name the secrets without their values, ingest answers 503, nothing acknowledged is lost',
    { timeout: 120_000 },
    async () => {
      const redisPass = pw('redis-right');
      const dbPass = pw('db-right');
      const wrong = [pw('wrong-a'), pw('wrong-b'), pw('wrong-c'), pw('wrong-d')];
      const n = await startNode({
        redis: [redisPass],
        db: dbPass,
        vault: {
          REDIS_PASS_CURRENT: wrong[0]!,
          REDIS_PASS_NEXT: wrong[1]!,
          DB_PASS_CURRENT: wrong[2]!,
          DB_PASS_NEXT: wrong[3]!,
        },
      });
      const post = async (i: number) =>
        (
          await fetch(`http://127.0.0.1:${n.port}/ingest`, {
            method: 'POST',
            headers: { 'X-API-KEY': n.base.INGEST_API_KEY },
            body: JSON.stringify({
              hostname: `both-${i}`,
              message: 'Gi0/2 down',
              timestamp: new Date().toISOString(),
            }),
          })
        ).status;
      // Redis refuses both: ingest 503, /health and the log name the two secrets.
      const problem = `Redis refused REDIS_PASS_CURRENT and REDIS_PASS_NEXT for user "${n.redisUser}"`;
      await n.p.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith(problem), 15_000);
      expect(await post(0)).toBe(503);
      const h1 = (await (await fetch(`http://127.0.0.1:${n.port}/health`)).json()) as Record<string, string>;
      expect(h1.redis).toMatch(new RegExp(`^error: ${problem} \\(WRONGPASS`));
      expect(h1.postgres).toMatch(
        /refused DB_PASS_CURRENT and DB_PASS_NEXT for user "rot_\w+" \(password authentication failed/,
      );

      // Redis fixed in Vault: events are acknowledged while PostgreSQL still refuses both; they wait in Redis.
      vault.put(n.path, {
        ...n.base,
        REDIS_PASS_CURRENT: redisPass,
        DB_PASS_CURRENT: wrong[2]!,
        DB_PASS_NEXT: wrong[3]!,
      });
      await applied(n, 2);
      await until(async () => (await post(1)) === 200, 15_000, 'ingest back');
      for (let i = 2; i <= 50; i++) expect(await post(i)).toBe(200);
      const h2 = (await (await fetch(`http://127.0.0.1:${n.port}/health`)).json()) as Record<string, string>;
      expect(h2.redis).toBe('ok');
      expect(h2.postgres).toMatch(/^error: PostgreSQL refused DB_PASS_CURRENT and DB_PASS_NEXT/);

      // PostgreSQL fixed: the 50 acknowledged events are audited.
      vault.put(n.path, { ...n.base, REDIS_PASS_CURRENT: redisPass, DB_PASS_CURRENT: dbPass });
      await applied(n, 3);
      await n.p.waitForMessage('database schema is up to date', 60_000);
      await until(async () => (await audited(n)).size === 50, 60_000, '50 audited');
      await n.p.stop();
      const out = [...n.p.lines.map((l) => JSON.stringify(l)), ...n.p.stderr].join('\n');
      for (const secret of [redisPass, dbPass, ...wrong]) expect(out).not.toContain(secret);
    },
  );
});
