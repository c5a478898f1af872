// move-4.lua (settling, replaying, purging exact items), settle-4.lua (a whole batch at once) and the retry list (DeferredList) against a
// real Redis: nothing is pushed twice, due items come back oldest first, a recovered list keeps the
// backoff its items carry.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeferredList } from '../src/core/queue/deferred.ts';
import { Janitor } from '../src/core/queue/janitor.ts';
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

const k = (name: string) => `${svc.prefix}:${name}`;
/** The due time the forwarder writes into a held-back alert. */
const retryAtOf = (item: string): number => {
  try {
    return Number((JSON.parse(item) as { _moog_retry_at?: number })._moog_retry_at ?? 0);
  } catch {
    return 0;
  }
};

describe('move-4.lua', () => {
  it('removes, LPUSHes or RPUSHes each item as told, in one call', async () => {
    await svc.redis.lpush(k('src'), 'a', 'b', 'c', 'd');
    await svc.redis.rpush(k('q'), 'old');
    const r = await svc.redis.muttMove(
      k('src'),
      k('dlq'),
      k('retry'),
      k('q'),
      1,
      '-',
      'a',
      '',
      'L2',
      'b',
      'b!',
      'L3',
      'c',
      'c!',
      'R4',
      'd',
      'd!',
    );
    expect(r).toEqual([4, 0, []]);
    expect(await svc.redis.llen(k('src'))).toBe(0);
    expect(await svc.redis.lrange(k('dlq'), 0, -1)).toEqual(['b!']);
    expect(await svc.redis.lrange(k('retry'), 0, -1)).toEqual(['c!']);
    expect(await svc.redis.lrange(k('q'), 0, -1)).toEqual(['old', 'd!']);
  });

  it('pushes nothing for an item that is gone, so a repeated call never duplicates', async () => {
    await svc.redis.lpush(k('src'), 'x', 'y');
    const call = () =>
      svc.redis.muttMove(
        k('src'),
        k('dlq'),
        k('dlq'),
        k('dlq'),
        1,
        'L2',
        'x',
        'x!',
        'L2',
        'y',
        'y!',
        'L2',
        'z',
        'z!',
      );
    expect(await call()).toEqual([2, 1, [3]]);
    expect(await call()).toEqual([0, 3, [1, 2, 3]]);
    expect(await svc.redis.lrange(k('dlq'), 0, -1)).toEqual(['y!', 'x!']);
  });

  it('removes one occurrence per triple, from the side asked', async () => {
    await svc.redis.rpush(k('src'), 'dup', 'mid', 'dup');
    await svc.redis.muttMove(k('src'), k('d'), k('d'), k('d'), -1, '-', 'dup', '');
    expect(await svc.redis.lrange(k('src'), 0, -1)).toEqual(['dup', 'mid']);
  });

  it('refuses an unknown op before doing anything after it', async () => {
    await svc.redis.lpush(k('src'), 'a');
    await expect(svc.redis.muttMove(k('src'), k('d'), k('d'), k('d'), 1, 'X9', 'a', '')).rejects.toThrow(
      /bad op X9/,
    );
    expect(await svc.redis.llen(k('src'))).toBe(1);
  });
});

describe('settle-4.lua', () => {
  it('empties a list that is exactly the batch and does every push, in batch order per destination', async () => {
    // The layout take-2 leaves: the oldest at the tail.
    await svc.redis.lpush(k('p'), 'a', 'b', 'c', 'd', 'e');
    await svc.redis.rpush(k('q'), 'old');
    const r = await svc.redis.muttSettle(
      k('p'),
      k('dlq'),
      k('retry'),
      k('q'),
      5,
      'a',
      'e',
      'L4',
      'a!',
      'L2',
      'b!',
      'L4',
      'd!',
      'R3',
      'e!',
    );
    expect(r).toBe(1);
    expect(await svc.redis.exists(k('p'))).toBe(0);
    expect(await svc.redis.lrange(k('q'), 0, -1)).toEqual(['d!', 'a!', 'old']);
    expect(await svc.redis.lrange(k('dlq'), 0, -1)).toEqual(['b!']);
    expect(await svc.redis.lrange(k('retry'), 0, -1)).toEqual(['e!']);
  });

  it('removes only the batch from the tail when newer items are in hand', async () => {
    await svc.redis.lpush(k('p'), 'a', 'b', 'c', 'd', 'e');
    expect(await svc.redis.muttSettle(k('p'), k('d'), k('d'), k('q'), 3, 'a', 'c', 'L4', 'b!')).toBe(1);
    expect(await svc.redis.lrange(k('p'), 0, -1)).toEqual(['e', 'd']);
    expect(await svc.redis.lrange(k('q'), 0, -1)).toEqual(['b!']);
    // The next batch is then the tail.
    expect(await svc.redis.muttSettle(k('p'), k('d'), k('d'), k('q'), 2, 'd', 'e')).toBe(1);
    expect(await svc.redis.exists(k('p'))).toBe(0);
  });

  it('pushes more than one LPUSH holds (chunks of 1,000) in order', async () => {
    const items = Array.from({ length: 2500 }, (_, i) => `i${i}`);
    await svc.redis.lpush(k('p'), ...items);
    const pairs = items.flatMap((x) => ['L4', `${x}!`]);
    expect(await svc.redis.muttSettle(k('p'), k('d'), k('d'), k('q'), 2500, 'i0', 'i2499', ...pairs)).toBe(1);
    const q = await svc.redis.lrange(k('q'), 0, -1);
    expect(q).toHaveLength(2500);
    expect(q[0]).toBe('i2499!');
    expect(q.at(-1)).toBe('i0!');
  });

  it.each([
    ['the list was emptied by a janitor', [] as string[], 3, 'a', 'c'],
    ['the list is shorter than the batch', ['a', 'c'], 3, 'a', 'c'],
    ['the oldest item differs', ['x', 'b', 'c'], 3, 'a', 'c'],
    ['the newest item differs', ['a', 'b', 'x'], 3, 'a', 'c'],
  ])('does nothing and answers 0 when %s', async (_what, held, n, oldest, newest) => {
    if (held.length > 0) await svc.redis.lpush(k('p'), ...held);
    expect(await svc.redis.muttSettle(k('p'), k('d'), k('d'), k('q'), n, oldest, newest, 'L4', 'a!')).toBe(0);
    expect(await svc.redis.lrange(k('p'), 0, -1)).toEqual([...held].reverse());
    expect(await svc.redis.llen(k('q'))).toBe(0);
  });

  it('refuses an unknown op before doing anything', async () => {
    await svc.redis.lpush(k('p'), 'a');
    await expect(
      svc.redis.muttSettle(k('p'), k('d'), k('d'), k('q'), 1, 'a', 'a', 'X9', 'a!'),
    ).rejects.toThrow(/bad op X9/);
    expect(await svc.redis.llen(k('p'))).toBe(1);
  });
});

describe('DeferredList', () => {
  let now = 1_000_000;
  const list = () =>
    new DeferredList({
      redis: svc.redis,
      list: svc.keys.moogRetry('p1'),
      heartbeat: svc.keys.moogRetryHeartbeat('p1'),
      queue: svc.keys.alertQueue,
      heartbeatIntervalSeconds: 10,
      heartbeatTtlSeconds: 30,
      dueOf: retryAtOf,
      now: () => now,
    });
  const item = (id: string, at: number) => JSON.stringify({ id, _moog_retry_at: at });
  const push = async (d: DeferredList, id: string, at: number) => {
    await svc.redis.lpush(svc.keys.moogRetry('p1'), item(id, at));
    d.noted(item(id, at), at);
  };

  it('releases only due items, oldest taken first, and knows when the next is due', async () => {
    now = 1_000_000;
    const d = list();
    await d.start();
    expect(await svc.redis.get(svc.keys.moogRetryHeartbeat('p1'))).toBe('alive');
    expect(await d.releaseDue()).toBe(0); // first call reads the (empty) list
    expect(d.msUntilDue()).toBeUndefined();
    await push(d, 'a', 1_000_500);
    await push(d, 'b', 1_000_200);
    await push(d, 'c', 1_002_000);
    expect(d.msUntilDue()).toBe(200);
    now = 1_000_600;
    expect(await d.releaseDue()).toBe(2);
    // Consumers take from the right: a (pushed first) is taken before b.
    expect(await svc.redis.lrange(svc.keys.alertQueue, 0, -1)).toEqual([
      item('b', 1_000_200),
      item('a', 1_000_500),
    ]);
    expect(d.msUntilDue()).toBe(1400);
    expect(await d.releaseDue()).toBe(0);
    d.stopHeartbeat();
  });

  it('reads what an earlier life left behind (due times from the items)', async () => {
    now = 2_000_000;
    await svc.redis.lpush(svc.keys.moogRetry('p1'), item('left', 1_999_000), item('later', 2_500_000));
    const d = list();
    expect(await d.releaseDue()).toBe(1);
    expect(await svc.redis.lrange(svc.keys.alertQueue, 0, -1)).toEqual([item('left', 1_999_000)]);
    expect(d.msUntilDue()).toBe(500_000);
  });

  it('release returns everything and drops the heartbeat; items keep their due time', async () => {
    now = 3_000_000;
    const d = list();
    await d.start();
    await push(d, 'x', 9_000_000);
    expect(await d.release()).toBe(1);
    expect(await svc.redis.exists(svc.keys.moogRetryHeartbeat('p1'))).toBe(0);
    expect(retryAtOf((await svc.redis.lrange(svc.keys.alertQueue, 0, -1))[0]!)).toBe(9_000_000);
  });

  it('is recovered by the janitor like a processing list when its owner dies', async () => {
    let t = 0;
    await svc.redis.lpush(svc.keys.moogRetry('gone'), item('orphan', 5));
    const janitor = new Janitor({
      redis: svc.redis,
      pattern: svc.keys.moogProcessingPattern,
      heartbeatOf: (l) => svc.keys.moogHeartbeat(svc.keys.podOf(l)),
      queue: svc.keys.alertQueue,
      ttlSeconds: 30,
      now: () => t,
    });
    expect(await janitor.sweep()).toEqual([]);
    t = 30_000;
    expect(await janitor.sweep()).toEqual([{ list: svc.keys.moogRetry('gone'), items: 1 }]);
    expect(await svc.redis.lrange(svc.keys.alertQueue, 0, -1)).toEqual([item('orphan', 5)]);
  });
});
