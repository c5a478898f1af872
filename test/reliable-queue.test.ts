// The reliable-queue machinery against a real Redis: batch take, ack, redelivery of what was never
// acknowledged, blocking take, release on stop, and the janitor's TTL rule.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Janitor } from '../src/core/queue/janitor.ts';
import { ReliableQueue } from '../src/core/queue/reliable-queue.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let blocking: Redis;
beforeAll(async () => {
  svc = await useServices({ database: false });
  blocking = new Redis(svc.services.redis);
});
afterAll(async () => {
  blocking.disconnect();
  await svc.cleanup();
});

const queue = () => svc.keys.ingestQueue;
const make = (pod: string, batchSize = 10) =>
  new ReliableQueue({
    redis: svc.redis,
    blocking,
    queue: queue(),
    processing: svc.keys.alerterProcessing(pod),
    heartbeat: svc.keys.alerterHeartbeat(pod),
    batchSize,
    blockSeconds: 1,
    heartbeatIntervalSeconds: 10,
    heartbeatTtlSeconds: 30,
  });
/** Producers LPUSH: the list head is the newest. */
const produce = (...items: string[]) => svc.redis.lpush(queue(), ...items);

beforeEach(async () => {
  const keys = await svc.redis.keys(`${svc.prefix}:*`);
  if (keys.length > 0) await svc.redis.del(...keys);
});

describe('ReliableQueue', () => {
  it('writes the heartbeat before consuming, with the janitor TTL', async () => {
    const q = make('p1');
    await q.start();
    expect(await svc.redis.get(svc.keys.alerterHeartbeat('p1'))).toBe('alive');
    expect(await svc.redis.ttl(svc.keys.alerterHeartbeat('p1'))).toBeGreaterThan(25);
    q.stopHeartbeat();
  });

  it('takes batches oldest first and keeps them until acknowledged', async () => {
    await produce('a', 'b', 'c', 'd', 'e');
    const q = make('p2', 3);
    const batch = await q.take();
    expect(batch).toEqual(['a', 'b', 'c']);
    expect(await svc.redis.lrange(svc.keys.alerterProcessing('p2'), 0, -1)).toEqual(['c', 'b', 'a']);
    expect(await q.ack(batch)).toBe(3);
    expect(await svc.redis.llen(svc.keys.alerterProcessing('p2'))).toBe(0);
    expect(await q.take()).toEqual(['d', 'e']);
  });

  it('moves a batch larger than one LPUSH (1,000 items) in order', async () => {
    const items = Array.from({ length: 2500 }, (_, i) => `e${i}`);
    await produce(...items);
    const q = make('p8', 2400);
    expect(await q.take()).toEqual(items.slice(0, 2400));
    const held = await svc.redis.lrange(svc.keys.alerterProcessing('p8'), 0, -1);
    expect(held).toEqual(items.slice(0, 2400).reverse());
    // Topping up a list that already holds items returns everything, oldest first.
    expect(await q.take(2500)).toEqual(items);
  });

  it('returns unacknowledged items again before anything new', async () => {
    await produce('a', 'b', 'c');
    const q = make('p3', 2);
    expect(await q.take()).toEqual(['a', 'b']);
    // No ack (a crash, or a lost reply): the next take redelivers them and tops up to the batch size.
    expect(await q.take(3)).toEqual(['a', 'b', 'c']);
    await q.ack(['b']);
    expect(await q.take(3)).toEqual(['a', 'c']);
  });

  it('takeMore moves more items without returning those already held', async () => {
    await produce('a', 'b', 'c', 'd', 'e');
    const q = make('p7', 2);
    expect(await q.take()).toEqual(['a', 'b']); // in flight
    expect(await q.takeMore(2)).toEqual(['c', 'd']);
    expect(await q.takeMore(5)).toEqual(['e']);
    expect(await q.takeMore(5)).toEqual([]);
    expect(await svc.redis.lrange(svc.keys.alerterProcessing('p7'), 0, -1)).toEqual([
      'e',
      'd',
      'c',
      'b',
      'a',
    ]);
    await q.ack(['a', 'b', 'c', 'd']);
    // Once nothing is in flight, a plain take returns whatever the list still holds.
    expect(await q.take()).toEqual(['e']);
  });

  it('blocks while empty and wakes up when an item arrives', async () => {
    const q = make('p4');
    const empty = Date.now();
    expect(await q.take()).toEqual([]);
    expect(Date.now() - empty).toBeGreaterThanOrEqual(900);
    const pending = q.take();
    setTimeout(() => void produce('x'), 100);
    expect(await pending).toEqual(['x']);
  });

  it('release returns what is in hand to the consumer end, in order, and drops the heartbeat', async () => {
    await produce('a', 'b', 'c', 'd');
    const q = make('p5', 3);
    await q.start();
    await q.take();
    expect(await q.release()).toBe(3);
    expect(await svc.redis.exists(svc.keys.alerterHeartbeat('p5'))).toBe(0);
    // Consumers take from the right: a, b, c come back first, then d.
    expect(await make('p6', 10).take()).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('Janitor', () => {
  it('recovers a list only after its heartbeat has been absent a full TTL', async () => {
    let now = 0;
    const janitor = new Janitor({
      redis: svc.redis,
      pattern: svc.keys.alerterProcessingPattern,
      heartbeatOf: (list) => svc.keys.alerterHeartbeat(svc.keys.podOf(list)),
      queue: queue(),
      ttlSeconds: 30,
      now: () => now,
    });
    // A live MUTT worker, a dead one, and a dead Python worker (its own pod naming).
    await svc.redis.lpush(svc.keys.alerterProcessing('live'), 'l1');
    await svc.redis.setex(svc.keys.alerterHeartbeat('live'), 30, 'alive');
    await svc.redis.lpush(svc.keys.alerterProcessing('dead'), 'd1', 'd2');
    await svc.redis.lpush(svc.keys.alerterProcessing('alerter-7f9c2a'), 'py1');

    expect(await janitor.sweep()).toEqual([]); // first sighting: only noted
    now = 29_000;
    expect(await janitor.sweep()).toEqual([]);
    now = 30_000;
    const recovered = await janitor.sweep();
    expect(recovered.sort((a, b) => a.list.localeCompare(b.list))).toEqual([
      { list: svc.keys.alerterProcessing('alerter-7f9c2a'), items: 1 },
      { list: svc.keys.alerterProcessing('dead'), items: 2 },
    ]);
    expect((await svc.redis.lrange(queue(), 0, -1)).sort()).toEqual(['d1', 'd2', 'py1']);
    expect(await svc.redis.lrange(svc.keys.alerterProcessing('live'), 0, -1)).toEqual(['l1']);
  });

  it('leaves a list alone when the heartbeat comes back before the move', async () => {
    let now = 0;
    const janitor = new Janitor({
      redis: svc.redis,
      pattern: svc.keys.alerterProcessingPattern,
      heartbeatOf: (list) => svc.keys.alerterHeartbeat(svc.keys.podOf(list)),
      queue: queue(),
      ttlSeconds: 30,
      now: () => now,
    });
    await svc.redis.lpush(svc.keys.alerterProcessing('slow'), 's1');
    await janitor.sweep();
    await svc.redis.setex(svc.keys.alerterHeartbeat('slow'), 30, 'alive'); // it was only slow
    now = 60_000;
    expect(await janitor.sweep()).toEqual([]);
    // The atomic re-check in the Lua move also protects a racing sweep.
    expect(
      await svc.redis.muttRecover(
        svc.keys.alerterProcessing('slow'),
        svc.keys.alerterHeartbeat('slow'),
        queue(),
      ),
    ).toBe(-1);
    expect(await svc.redis.llen(svc.keys.alerterProcessing('slow'))).toBe(1);
  });
});
