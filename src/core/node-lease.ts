// One running process per node name. A node's name (POD_NAME, by default the host name) names its
// processing lists and heartbeats, and stays the same across restarts so that a restarted node takes
// back at once the work its previous process held (`take-2.lua` returns what a processing list holds)
// instead of waiting for a janitor. Two live processes must therefore never share a name: the running
// process holds `mutt:node:<name>` (node-lease-1.lua), renewed every RENEW_MS and gone
// NODE_LEASE_TTL_MS after a crash. At start-up:
//
//   free ───────────────────────────────────────────────────────────────► claimed
//   held by a process of this host that is gone (PID, start time, boot id) ► taken over at once
//                                                                            (a restart after a crash)
//   held by a live process of this host ─────────────────────────────────► refused, naming it
//   held by a process this one cannot check (another host or container) ─► watched: refused, naming
//        it, as soon as its lease is renewed (it is alive); claimed once the lease ran out (it was not)
import type { ScriptedRedis } from './protocol/scripts.ts';
import type { Keys } from './protocol/keys.ts';
import { type Logger, LogLimiter } from '../runtime/logging.ts';
import { checkable, mayBeAlive, type ProcessIdentity, selfIdentity } from '../runtime/process-identity.ts';
import { abortableSleep } from '../runtime/sleep.ts';

/** Lifetime of the lease without renewal: how long after a crash the name stays taken. */
export const NODE_LEASE_TTL_MS = 15_000;
const RENEW_MS = 5000;
/** How often a lease held by a process MUTT cannot check is looked at. */
const WATCH_MS = 250;

export interface Holder extends ProcessIdentity {
  /** ISO time the holder started. */
  since?: string;
  version?: string;
}

export class NodeNameTaken extends Error {
  readonly holder: Holder | undefined;
  constructor(pod: string, explicit: boolean, holder: Holder | undefined, raw: string) {
    const who = holder
      ? `MUTT process ${holder.pid} on host ${holder.host}${holder.since ? `, running since ${holder.since}` : ''}`
      : `another process (${raw.slice(0, 200)})`;
    const remedy = explicit
      ? 'give this process a POD_NAME of its own, or stop the other one'
      : 'set POD_NAME to a name of its own for each node that shares this host name, or stop the other process';
    super(
      `the node name "${pod}" (POD_NAME${explicit ? '' : ', by default the host name'}) is held by ${who}: two running processes cannot share a node name (they would take each other's work); ${remedy}. A name is free ${NODE_LEASE_TTL_MS / 1000} s after its process stops`,
    );
    this.name = 'NodeNameTaken';
    this.holder = holder;
  }
}

function parseHolder(raw: string): Holder | undefined {
  try {
    const v = JSON.parse(raw) as Holder;
    return typeof v.host === 'string' && typeof v.pid === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface NodeLeaseOptions {
  redis: ScriptedRedis;
  keys: Pick<Keys, 'node'>;
  pod: string;
  /** POD_NAME was set explicitly (for the refusal's advice). */
  explicit: boolean;
  log: Logger;
  version?: string;
  /** For tests: who this process is. */
  self?: ProcessIdentity;
}

export class NodeLease {
  private readonly o: NodeLeaseOptions;
  private readonly mine: string;
  private readonly self: ProcessIdentity;
  private readonly logs = new LogLimiter(60_000);
  private timer?: NodeJS.Timeout;

  constructor(o: NodeLeaseOptions) {
    this.o = o;
    this.self = o.self ?? selfIdentity();
    const holder: Holder = { ...this.self, since: new Date().toISOString(), version: o.version };
    this.mine = JSON.stringify(holder);
  }

  private get key(): string {
    return this.o.keys.node(this.o.pod);
  }

  /**
   * Claims the name, takes it over from a process of this host that is gone, or waits for the lease
   * of a holder it cannot check to run out; throws NodeNameTaken when the holder is alive. Then keeps
   * the lease renewed.
   */
  async acquire(signal?: AbortSignal): Promise<{ tookOverFrom?: Holder; waitedMs: number }> {
    const { redis } = this.o;
    const started = Date.now();
    let tookOverFrom: Holder | undefined;
    let watching: { holder: string; pttl: number } | undefined;
    for (let attempt = 0; ; attempt++) {
      const [ok, current] = await redis.muttNodeLease(this.key, 'claim', this.mine, NODE_LEASE_TTL_MS);
      if (ok === 1) break;
      const holder = parseHolder(current);
      if (holder && checkable(holder, this.self)) {
        if (mayBeAlive(holder, this.self) || attempt > 3)
          throw new NodeNameTaken(this.o.pod, this.o.explicit, holder, current);
        const [took] = await redis.muttNodeLease(this.key, 'takeover', this.mine, NODE_LEASE_TTL_MS, current);
        if (took === 1) {
          tookOverFrom = holder;
          break;
        }
        continue;
      }
      // Another host or container: only its heartbeat tells whether it lives.
      const pttl = await redis.pttl(this.key);
      if (watching?.holder === current && pttl > watching.pttl + 250)
        throw new NodeNameTaken(this.o.pod, this.o.explicit, holder, current);
      if (watching?.holder !== current)
        this.o.log.warn(
          { pod: this.o.pod, holder: holder ?? current.slice(0, 200), lease_ms: pttl },
          'the node name is held by a process MUTT cannot check from here: waiting for its lease to be renewed (it is alive) or to run out',
        );
      watching = { holder: current, pttl };
      await abortableSleep(WATCH_MS, signal);
    }
    this.timer = setInterval(() => void this.renew(), RENEW_MS);
    this.timer.unref();
    return { tookOverFrom, waitedMs: Date.now() - started };
  }

  /** Keeps the lease; logs (once a minute) when another process holds the name or Redis is away. */
  async renew(): Promise<boolean> {
    try {
      const [ok, current] = await this.o.redis.muttNodeLease(this.key, 'renew', this.mine, NODE_LEASE_TTL_MS);
      if (ok === 1) return true;
      const suppressed = this.logs.take('taken');
      if (suppressed >= 0)
        this.o.log.error(
          { pod: this.o.pod, holder: parseHolder(current) ?? current.slice(0, 200), suppressed },
          'another process holds this node name: two processes now share processing lists; give one of them another POD_NAME',
        );
      return false;
    } catch (err) {
      const suppressed = this.logs.take('error');
      if (suppressed >= 0)
        this.o.log.warn({ err: (err as Error).message, suppressed }, 'renewing the node name lease failed');
      return false;
    }
  }

  /** Stops renewing and frees the name (a clean stop). */
  async release(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.o.redis.muttNodeLease(this.key, 'release', this.mine, NODE_LEASE_TTL_MS);
  }
}
