// Registers MUTT's Lua scripts on an ioredis client. Each script is a file in ./lua named
// `<name>-<numKeys>.lua` whose header documents KEYS, ARGV and the return values. Commands are
// registered under a versioned name so two MUTT versions can share one Redis while scripts change.
import type { Redis } from 'ioredis';
import ack from './lua/ack-1.lua';
import breaker from './lua/breaker-5.lua';
import enqueue from './lua/enqueue-4.lua';
import move from './lua/move-4.lua';
import nodeLease from './lua/node-lease-1.lua';
import rateLimitSliding from './lua/rate-limit-sliding-1.lua';
import recover from './lua/recover-3.lua';
import requeue from './lua/requeue-2.lua';
import settle from './lua/settle-4.lua';
import take from './lua/take-2.lua';
import unhandled from './lua/unhandled-5.lua';

const VERSION = 'v1';

export const SCRIPTS = {
  enqueue: { lua: enqueue, keys: 4 },
  rateLimitSliding: { lua: rateLimitSliding, keys: 1 },
  take: { lua: take, keys: 2 },
  ack: { lua: ack, keys: 1 },
  requeue: { lua: requeue, keys: 2 },
  recover: { lua: recover, keys: 3 },
  move: { lua: move, keys: 4 },
  settle: { lua: settle, keys: 4 },
  breaker: { lua: breaker, keys: 5 },
  unhandled: { lua: unhandled, keys: 5 },
  nodeLease: { lua: nodeLease, keys: 1 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

type Arg = string | number | Buffer;
export interface MuttScripts {
  muttEnqueue(...args: Arg[]): Promise<[number, number]>;
  muttRateLimitSliding(...args: Arg[]): Promise<[number, string]>;
  muttTake(source: string, processing: string, max: number, mode?: 'new'): Promise<string[]>;
  muttAck(processing: string, ...items: string[]): Promise<number>;
  muttRequeue(processing: string, queue: string): Promise<number>;
  muttRecover(processing: string, heartbeat: string, queue: string): Promise<number>;
  /**
   * move-4.lua: source, three destinations, LREM direction, then (op, item, replacement) triples →
   * [found, missing, 1-based positions of the missing triples].
   */
  muttMove(
    source: string,
    dest2: string,
    dest3: string,
    dest4: string,
    direction: 1 | -1,
    ...triples: string[]
  ): Promise<[number, number, number[]]>;
  /**
   * settle-4.lua: processing list, three destinations, batch size, oldest item, newest item, then
   * (op, replacement) pairs of the items that push → 1 settled, 0 the list is not the batch.
   */
  muttSettle(
    processing: string,
    dest2: string,
    dest3: string,
    dest4: string,
    n: number,
    oldest: string,
    newest: string,
    ...pairs: string[]
  ): Promise<number>;
  /**
   * unhandled-5.lua: counter, suppression, the host's signature set, overflow counter and
   * suppression, threshold, expiry seconds, cap, signature → [1 when a meta-alert is due, 1 when
   * the event was folded into the overflow counter].
   */
  muttUnhandled(
    counter: string,
    triggered: string,
    signatures: string,
    overflow: string,
    overflowTriggered: string,
    threshold: number,
    expirySeconds: number,
    cap: number,
    sig: string,
  ): Promise<[number, number]>;
  /** node-lease-1.lua: the lease of a node name → [1 done | 0 refused, the holder when refused]. */
  muttNodeLease(
    key: string,
    op: 'claim' | 'takeover' | 'renew' | 'release',
    mine: string,
    ttlMs: number,
    replacing?: string,
  ): Promise<[number, string]>;
  /** breaker-5.lua: → [state, permit, transition, wait ms]. */
  muttBreaker(
    state: string,
    failures: string,
    openTime: string,
    probe: string,
    probeFailures: string,
    op: 'acquire' | 'success' | 'failure' | 'release',
    nowMs: number,
    threshold: number,
    maxTimeoutMs: number,
    leaseMs: number,
    holder: string,
    initialTimeoutMs: number,
  ): Promise<[string, number, string, number]>;
}

export type ScriptedRedis = Redis & MuttScripts;

const commandName = (name: ScriptName) => `mutt${name[0]!.toUpperCase()}${name.slice(1)}`;

/** Defines every script as a command on the client (idempotent). */
export function withScripts(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis & { __muttScripts?: string };
  if (r.__muttScripts === VERSION) return r;
  for (const [name, s] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    r.defineCommand(commandName(name), { numberOfKeys: s.keys, lua: `-- mutt ${VERSION} ${name}\n${s.lua}` });
  }
  r.__muttScripts = VERSION;
  return r;
}
