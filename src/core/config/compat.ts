// Parity mode for fleets that mix MUTT and Python MUTT 2.x nodes on one Redis and one PostgreSQL
// (COMPAT_MODE, dynamic key `compat_mode`; docs/COMPATIBILITY.md lists what it changes).
//
//   compatStatus()   which mode a node runs in and where the setting comes from: `mutt validate`
//                    (static only), `mutt status` and the admin status endpoint (static + Redis)
//   CompatTracker    what a worker reads once per batch, so that each batch is decided wholly in
//                    one mode; a change between batches is logged and counted
import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.ts';
import type { Config } from '../../runtime/config/load.ts';
import type { Logger } from '../../runtime/logging.ts';
import { validateDynamic } from './dynamic.ts';

export const COMPAT_MODES = ['off', 'python2'] as const;
export type CompatMode = (typeof COMPAT_MODES)[number];

/** What a node gives up in parity mode (logged once at start, and with a switch into it). */
export const PARITY_GIVES_UP: readonly string[] = [
  'OID prefixes compared as written (a leading dot on one side only makes a trap unhandled)',
  'text syslog severities ("err") never equal a rule severity',
  'an audit row PostgreSQL refuses (unreadable timestamp, no partition for its month, a host name over 255 characters) makes the event retried, then dead-lettered, instead of audited with the receive time',
  'unhandled messages counted by their exact text, not their template',
  'meta-alerts from host MUTT_Alerter, merged by Moogsoft into one alert',
  'alert severity always Warning (not derived from the event), sent to Moogsoft as 3, and Minor as 2',
  "alerts without MUTT's rule_id, handling, environment, signature and alerted_at",
];

export type CompatSource = 'static' | 'dynamic';

export interface CompatStatus {
  /** The mode the node's alerter and forwarder use now. */
  mode: CompatMode;
  /** `dynamic` when a valid `compat_mode` in Redis overrides COMPAT_MODE. */
  source: CompatSource;
  /** COMPAT_MODE of this node. */
  static: CompatMode;
  dynamicConfigEnabled: boolean;
  /** The text stored in `mutt:config:compat_mode`: null when absent, undefined when not read. */
  stored?: string | null;
  /** Set when the stored text is not a mode (the static one applies). */
  invalid?: string;
  /** What parity mode gives up (empty when off). */
  givesUp: readonly string[];
}

type CompatConfig = Pick<Config, 'COMPAT_MODE' | 'DYNAMIC_CONFIG_ENABLED'>;

function status(c: CompatConfig, stored: string | null | undefined): CompatStatus {
  let mode: CompatMode = c.COMPAT_MODE;
  let source: CompatSource = 'static';
  let invalid: string | undefined;
  if (c.DYNAMIC_CONFIG_ENABLED && typeof stored === 'string') {
    const v = validateDynamic('compat_mode', stored);
    if (v.ok) {
      mode = v.value as CompatMode;
      source = 'dynamic';
    } else invalid = v.error;
  }
  return {
    mode,
    source,
    static: c.COMPAT_MODE,
    dynamicConfigEnabled: c.DYNAMIC_CONFIG_ENABLED,
    ...(stored !== undefined ? { stored } : {}),
    ...(invalid !== undefined ? { invalid } : {}),
    givesUp: mode === 'python2' ? PARITY_GIVES_UP : [],
  };
}

/** The mode from the configuration alone (what `mutt validate` can say without Redis). */
export function staticCompatStatus(c: CompatConfig): CompatStatus {
  return status(c, undefined);
}

/** The mode a node runs in: COMPAT_MODE, overridden by a valid `compat_mode` in Redis. */
export async function compatStatus(
  c: CompatConfig,
  redis: Pick<Redis, 'get'>,
  keys: Pick<Keys, 'config'>,
): Promise<CompatStatus> {
  const stored = c.DYNAMIC_CONFIG_ENABLED ? await redis.get(keys.config('compat_mode')) : undefined;
  return status(c, stored);
}

/** One line for people: `python2 (dynamic compat_mode; COMPAT_MODE=off)`. */
export function describeCompat(s: CompatStatus): string {
  const where =
    s.source === 'dynamic'
      ? `dynamic compat_mode; COMPAT_MODE=${s.static}`
      : !s.dynamicConfigEnabled
        ? 'COMPAT_MODE'
        : s.stored === undefined
          ? 'COMPAT_MODE, unless the dynamic key compat_mode is set'
          : s.stored === null
            ? 'COMPAT_MODE; compat_mode is not set in Redis'
            : 'COMPAT_MODE';
  return `${s.mode} (${where}${s.invalid ? `; ignored in Redis: ${s.invalid}` : ''})`;
}

export interface CompatTrackerOptions {
  /** The current mode (DynamicConfig.get('compat_mode'), or the static setting). */
  read: () => CompatMode;
  log: Logger;
  /** Counts a switch (the component's `…_compat_mode_switches_total{to}`). */
  onSwitch?: (from: CompatMode, to: CompatMode) => void;
  component: string;
}

/**
 * Hands out the mode for the next batch. Read once per batch (never per event), so a batch in
 * flight keeps the mode it was decided in; a change is logged and counted when the first batch in
 * the new mode starts.
 */
export class CompatTracker {
  private readonly o: CompatTrackerOptions;
  private last?: CompatMode;

  constructor(o: CompatTrackerOptions) {
    this.o = o;
  }

  /** Takes the mode without logging a switch (once the dynamic configuration is loaded, at start). */
  start(): CompatMode {
    this.last = this.o.read();
    return this.last;
  }

  forBatch(): CompatMode {
    const mode = this.o.read();
    if (this.last === undefined) this.last = mode;
    else if (mode !== this.last) {
      const from = this.last;
      this.last = mode;
      this.o.onSwitch?.(from, mode);
      this.o.log.warn(
        {
          component: this.o.component,
          from,
          to: mode,
          ...(mode === 'python2' ? { gives_up: PARITY_GIVES_UP } : {}),
        },
        `compat mode switched from ${from} to ${mode}; batches in flight finish in the mode they were decided in`,
      );
    }
    return mode;
  }
}
