// `mutt dlq list|show|replay|purge` through the real CLI against a real Redis, and replays racing each
// other (remediation on two nodes, or remediation and an operator) without duplicating an item.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { replayDlq } from '../src/core/queue/dlq.ts';
import { pythonAlert } from './fixtures/alerts.ts';
import { runMutt } from './harness/mutt-process.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => svc.cleanup());
beforeEach(async () => {
  const keys = await svc.redis.keys(`${svc.prefix}:*`);
  if (keys.length > 0) await svc.redis.del(...keys);
});

const env = () => ({ ...svc.env, MUTT_ROLES: 'forwarder' });
const mutt = (args: string[], input?: string) => runMutt(['dlq', ...args], env(), input);

/** Fills the Moogsoft DLQ: oldest pushed first, so index 0 is the last one. */
async function fillMoogDlq(n: number, over: (i: number) => Record<string, unknown> = () => ({})) {
  const items = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      ...pythonAlert(i),
      _dlq_reason:
        i % 3 === 0 ? 'HTTP 401 from Moogsoft: Authentication failed' : 'HTTP 400 from Moogsoft: bad event',
      _dlq_code: i % 3 === 0 ? 'auth' : 'rejected',
      _failed_at: new Date(Date.UTC(2026, 10, 24, 12, 0, i)).toISOString(),
      ...over(i),
    }),
  );
  for (let i = 0; i < items.length; i += 500)
    await svc.redis.lpush(svc.keys.moogDlq, ...items.slice(i, i + 500));
  return items;
}
const ids = async (key: string) =>
  (await svc.redis.lrange(key, 0, -1)).map(
    (s) => (JSON.parse(s) as { _correlation_id: string })._correlation_id,
  );

describe('mutt dlq list', () => {
  it('counts every DLQ by reason and shows the newest items', async () => {
    await fillMoogDlq(6);
    await svc.redis.lpush(
      svc.keys.alerterDlq,
      JSON.stringify({ hostname: 'h', message: 'm', timestamp: 't', _dlq_reason: 'poison' }),
    );
    const r = mutt(['list']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${svc.keys.moogDlq}: 6 items`);
    expect(r.stdout).toContain('by reason: rejected 4, auth 2');
    expect(r.stdout).toContain(`${svc.keys.alerterDlq}: 1 item`);
    expect(r.stdout).toContain(`${svc.keys.deadLetter}: 0 items`);
    // Newest first: index 0 is py-000005.
    expect(r.stdout).toMatch(/^ {2}0 +2026-11-24T12:00:05\.000Z +rejected +router5 +py-000005 +0 +HTTP 400/m);
  });

  it('filters by reason, host and time, and prints JSON', async () => {
    await fillMoogDlq(9);
    const r = mutt([
      'list',
      '--queue',
      'moog',
      '--reason',
      'auth',
      '--since',
      '2026-11-24T12:00:03Z',
      '--json',
    ]);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.queues.moog).toMatchObject({ total: 9, matched: 2, by_code: { auth: 2 } });
    expect(j.queues.moog.items.map((i: any) => i._correlation_id)).toEqual(['py-000006', 'py-000003']);
    const byHost = JSON.parse(mutt(['list', '--queue', 'moog', '--host', 'router4', '--json']).stdout);
    expect(byHost.queues.moog.matched).toBe(1);
  });

  it('rejects a bad --since or --queue with a clear message', () => {
    const a = mutt(['list', '--since', 'last tuesday']);
    expect(a.status).toBe(64);
    expect(a.stderr).toContain('--since "last tuesday": expected an ISO 8601 date');
    const b = mutt(['list', '--queue', 'moogsoft']);
    expect(b.status).toBe(64);
    expect(b.stderr).toMatch(/Allowed choices are moog, alerter, dead/);
  });
});

describe('mutt dlq show', () => {
  it('prints one item by index or by correlation id', async () => {
    await fillMoogDlq(3);
    const byIndex = JSON.parse(mutt(['show', '0']).stdout);
    expect(byIndex).toMatchObject({ _index: 0, _correlation_id: 'py-000002', _dlq_code: 'rejected' });
    const byId = JSON.parse(mutt(['show', 'py-000000', '--queue', 'moog']).stdout);
    expect(byId).toMatchObject({ _index: 2, _dlq_code: 'auth' });
    const none = mutt(['show', 'nope']);
    expect(none.status).toBe(66);
    expect(none.stderr).toContain(`no item "nope" in ${svc.keys.moogDlq}`);
  });
});

describe('mutt dlq replay', () => {
  it('moves moog items oldest first to the alert queue; poison to the dead list', async () => {
    await fillMoogDlq(5, (i) => (i === 1 ? { _replay_count: 3 } : {}));
    const dry = mutt(['replay', '--queue', 'moog', '--dry-run']);
    expect(dry.stdout).toContain('would go: 4 to alert_queue, 1 to dead');
    expect(await svc.redis.llen(svc.keys.moogDlq)).toBe(5);

    const r = mutt(['replay', '--queue', 'moog', '--limit', '3']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`replayed 2 item(s) from ${svc.keys.moogDlq} to ${svc.keys.alertQueue}`);
    expect(r.stdout).toContain(`moved 1 item(s) to ${svc.keys.deadLetter}`);
    // The three oldest left; consumers take the alert queue from the right: py-000000 first.
    expect(await ids(svc.keys.moogDlq)).toEqual(['py-000004', 'py-000003']);
    expect(await ids(svc.keys.alertQueue)).toEqual(['py-000002', 'py-000000']);
    expect(await ids(svc.keys.deadLetter)).toEqual(['py-000001']);
    const replayed = JSON.parse((await svc.redis.lindex(svc.keys.alertQueue, -1))!);
    expect(replayed).toMatchObject({ _moog_retry_count: 0, _replay_count: 1 });
    expect(replayed).not.toHaveProperty('_dlq_reason');
  });

  it('replays only what matches a filter', async () => {
    await fillMoogDlq(6);
    const r = mutt(['replay', '--queue', 'moog', '--reason', 'auth', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ replayed: 2, dead: 0, matched: 2 });
    expect((await ids(svc.keys.alertQueue)).sort()).toEqual(['py-000000', 'py-000003']);
    expect(await svc.redis.llen(svc.keys.moogDlq)).toBe(4);
  });

  it('replays the alerter DLQ to the ingest queue, and dead items to where they came from', async () => {
    await svc.redis.lpush(
      svc.keys.alerterDlq,
      JSON.stringify({
        hostname: 'h1',
        message: 'm',
        timestamp: 't',
        _retry_count: 4,
        _dlq_reason: 'poison',
      }),
    );
    await svc.redis.lpush(
      svc.keys.deadLetter,
      JSON.stringify({ ...pythonAlert(9), _dead_from: 'moog', _replay_count: 3 }),
    );
    expect(mutt(['replay', '--queue', 'alerter']).status).toBe(0);
    expect(JSON.parse((await svc.redis.lindex(svc.keys.ingestQueue, 0))!)).toMatchObject({
      hostname: 'h1',
      _retry_count: 0,
      _replay_count: 1,
    });
    expect(mutt(['replay', '--queue', 'dead']).stdout).toContain('replayed 1 item(s)');
    expect(JSON.parse((await svc.redis.lindex(svc.keys.alertQueue, 0))!)).toMatchObject({
      _correlation_id: 'py-000009',
      _replay_count: 0,
    });
  });

  it('walks a DLQ larger than a page', async () => {
    await fillMoogDlq(1200);
    const r = await replayDlq(svc.redis, svc.keys, 'moog', { limit: 700, maxPoison: 3 });
    expect(r).toMatchObject({ matched: 700, replayed: 700, missing: 0 });
    const left = await ids(svc.keys.moogDlq);
    expect(left).toHaveLength(500);
    expect(left.at(-1)).toBe('py-000700'); // the oldest 700 went
  });

  it('two replays racing never duplicate an item', async () => {
    await fillMoogDlq(600);
    const [a, b] = await Promise.all([
      replayDlq(svc.redis, svc.keys, 'moog', { maxPoison: 3, pageSize: 50 }),
      replayDlq(svc.redis, svc.keys, 'moog', { maxPoison: 3, pageSize: 70 }),
    ]);
    expect(a.replayed + b.replayed).toBe(600);
    const queued = await ids(svc.keys.alertQueue);
    expect(queued).toHaveLength(600);
    expect(new Set(queued).size).toBe(600);
    expect(await svc.redis.llen(svc.keys.moogDlq)).toBe(0);
  });
});

describe('mutt dlq purge', () => {
  it('asks for confirmation and deletes nothing without it', async () => {
    await fillMoogDlq(4);
    const r = mutt(['purge', '--queue', 'moog']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `About to delete 4 item(s) from ${svc.keys.moogDlq} for good. Type "purge" to confirm:`,
    );
    expect(r.stderr).toContain('purge cancelled: nothing was deleted');
    expect(mutt(['purge', '--queue', 'moog'], 'yes\n').status).toBe(1);
    expect(await svc.redis.llen(svc.keys.moogDlq)).toBe(4);
  });

  it('deletes after the confirmation, or at once with --yes; filters delete only matches', async () => {
    await fillMoogDlq(6);
    const f = mutt(['purge', '--queue', 'moog', '--reason', 'auth'], 'purge\n');
    expect(f.status).toBe(0);
    expect(f.stdout).toContain(`deleted 2 item(s) from ${svc.keys.moogDlq}`);
    expect(await svc.redis.llen(svc.keys.moogDlq)).toBe(4);
    const all = mutt(['purge', '--queue', 'moog', '--yes']);
    expect(all.stdout).toContain('deleted 4 item(s)');
    expect(await svc.redis.exists(svc.keys.moogDlq)).toBe(0);
  });

  it('says so when there is nothing to purge', () => {
    const r = mutt(['purge', '--queue', 'dead']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`nothing to purge in ${svc.keys.deadLetter}`);
  });
});
