// This receiver's SNMPv3 identity and USM timeliness (RFC 3414 §2.2–2.3, §3.2 step 7).
//
// Identity: the engine ID (SNMP_ENGINE_ID, else generated once) and snmpEngineBoots live in
// MUTT_DATA_DIR/snmp/engine.json. Boots go up by one at every start, so a v3 inform captured before a
// restart cannot be replayed after it; the engine ID stays, so senders configured with it (and their
// localized keys) keep working across restarts. snmpEngineTime counts seconds since this start.
//
// Timeliness: informs are authoritative here, so they must carry our boots and a time within 150 s of
// ours. Traps are authoritative at the sender: per sending engine MUTT keeps the notion of its boots
// and time that RFC 3414 §3.2 step 7b describes, in a bounded LRU (an engine evicted from it is
// treated as new: its next authentic message is accepted and re-learned).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LruMap } from './lru.ts';

/** RFC 3414 §2.2.3: the time window, in seconds. */
export const TIME_WINDOW = 150;
/** snmpEngineBoots at its maximum latches: the engine needs a new ID (RFC 3414 §2.2.2). */
export const MAX_BOOTS = 2 ** 31 - 1;

export interface EngineIdentity {
  engineId: Buffer;
  boots: number;
  file: string;
  /** True when this start created the identity. */
  created: boolean;
}

/**
 * net-snmp's generated format: 0x80 | enterprise 47491 (net-snmp) | 0x80 (enterprise-specific) and
 * 12 random octets — what the receiver would use if it had no persisted identity.
 */
export function generateEngineId(): Buffer {
  return Buffer.concat([Buffer.from('8000B98380', 'hex'), randomBytes(12)]);
}

export function engineFile(dataDir: string): string {
  return join(dataDir, 'snmp', 'engine.json');
}

/** Loads (or creates) the identity and records this start's boot count. */
export function startEngine(dataDir: string, configuredId?: string): EngineIdentity {
  const file = engineFile(dataDir);
  let stored: { engine_id?: string; boots?: number } | undefined;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(
        `${file}: cannot read the SNMP engine identity (${(err as Error).message}); fix or remove it`,
        {
          cause: err,
        },
      );
  }
  const configured = configuredId?.replace(/^0x/i, '').toLowerCase();
  const storedId =
    typeof stored?.engine_id === 'string' && /^([0-9a-f]{2}){5,32}$/.test(stored.engine_id)
      ? stored.engine_id
      : undefined;
  const id = configured ?? storedId ?? generateEngineId().toString('hex');
  // Boots count per engine ID: a new ID starts again at 1.
  const previous = id === storedId && Number.isInteger(stored?.boots) ? (stored!.boots as number) : 0;
  const boots = Math.min(MAX_BOOTS, previous + 1);
  mkdirSync(join(dataDir, 'snmp'), { recursive: true, mode: 0o750 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ engine_id: id, boots })}\n`, { mode: 0o640 });
  renameSync(tmp, file);
  return {
    engineId: Buffer.from(id, 'hex'),
    boots,
    file,
    created: storedId === undefined && configured === undefined,
  };
}

export type TimelinessVerdict = 'ok' | 'not_in_time_window';

/** Authoritative check (informs): our boots, and a time within the window of ours. */
export function checkAuthoritative(
  ours: { boots: number; time: number },
  msg: { boots: number; time: number },
): TimelinessVerdict {
  if (ours.boots >= MAX_BOOTS || msg.boots !== ours.boots || Math.abs(msg.time - ours.time) > TIME_WINDOW)
    return 'not_in_time_window';
  return 'ok';
}

interface Notion {
  boots: number;
  /** The engine's time when we learned it, and our monotonic clock (ms) then. */
  time: number;
  at: number;
  latest: number;
}

/** Per-sender notion of engine boots/time for messages where the sender is authoritative (traps). */
export class EngineTimes {
  private readonly notions: LruMap<string, Notion>;
  private readonly now: () => number;

  constructor(max = 10_000, now: () => number = () => performance.now()) {
    this.notions = new LruMap(max);
    this.now = now;
  }

  get size(): number {
    return this.notions.size;
  }

  /**
   * Checks and, when accepted, updates the notion (call only for authentic messages). A sender that
   * reports boots 0 and time 0 (some stacks do for every trap) gives nothing to check against and is
   * accepted: its messages cannot be protected against replay.
   */
  check(engineId: Buffer, boots: number, time: number): TimelinessVerdict {
    if (boots === 0 && time === 0) return 'ok';
    const key = engineId.toString('hex');
    const t = this.now();
    const n = this.notions.get(key);
    if (n) {
      const local = n.time + (t - n.at) / 1000;
      if (n.boots >= MAX_BOOTS || boots < n.boots || (boots === n.boots && time < local - TIME_WINDOW))
        return 'not_in_time_window';
      if (boots > n.boots || time > n.latest) this.notions.set(key, { boots, time, at: t, latest: time });
      return 'ok';
    }
    this.notions.set(key, { boots, time, at: t, latest: time });
    return 'ok';
  }
}
