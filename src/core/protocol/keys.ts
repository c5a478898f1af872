// The one place Redis key and channel names are built (PROTOCOL.md, "Redis keys"). Names come from
// the MUTT 2.x variables; MUTT_KEY_PREFIX replaces their leading `mutt` so several installations (or
// test files) can share one Redis. Nothing else in MUTT assembles a key by hand.
import type { Config } from '../../runtime/config/load.ts';

export type KeyConfig = Pick<
  Config,
  | 'MUTT_KEY_PREFIX'
  | 'INGEST_QUEUE_NAME'
  | 'ALERT_QUEUE_NAME'
  | 'ALERTER_PROCESSING_LIST_PREFIX'
  | 'ALERTER_HEARTBEAT_PREFIX'
  | 'ALERTER_DLQ_NAME'
  | 'MOOG_PROCESSING_LIST_PREFIX'
  | 'MOOG_HEARTBEAT_PREFIX'
  | 'MOOG_DLQ_NAME'
  | 'DEAD_LETTER_QUEUE'
  | 'UNHANDLED_PREFIX'
  | 'MOOG_RATE_LIMIT_KEY'
  | 'METRICS_PREFIX'
>;

/**
 * Seconds each metrics bucket lives. Python MUTT keeps minutes 2 h (PROTOCOL.md); MUTT keeps them
 * 25 h so the dashboard draws the last 24 hours per minute (1,440 small keys). Readers only ever
 * GET these keys, so the longer life changes nothing for a Python node sharing the Redis.
 */
export const METRICS_BUCKET_TTL = { '1m': 90000, '1h': 172800, '24h': 2592000 } as const;

export class Keys {
  readonly prefix: string;
  readonly ingestQueue: string;
  readonly alertQueue: string;
  readonly alerterDlq: string;
  readonly moogDlq: string;
  readonly deadLetter: string;
  readonly moogRateLimit: string;
  readonly ingestRateLimit: string;
  readonly configUpdates: string;
  /** MUTT addition: held for one pass by the remediation worker replaying shed events. */
  readonly shedReplayLock: string;
  readonly breakerState: string;
  readonly breakerFailures: string;
  readonly breakerOpenTime: string;
  /** MUTT addition: lease of the one half-open probe (Python nodes ignore it). */
  readonly breakerProbe: string;
  /** MUTT addition: half-open probes that failed since the breaker last closed (probe backoff). */
  readonly breakerProbeFailures: string;
  /** MUTT addition: hash pod → rule-set generation each alerter worker runs (the admin API waits on it). */
  readonly alerterGeneration: string;
  /** MUTT addition: a bounded sample of recent events as the alerter saw them (the rule tester reads it). */
  readonly recentEvents: string;
  /**
   * MUTT addition: stream of Moogsoft requests (when, which alerts by correlation id, the answer),
   * capped in length; `mutt trace` reads it.
   */
  readonly moogJournal: string;
  private readonly sloPrefix: string;
  private readonly alerterProcessingPrefix: string;
  private readonly alerterHeartbeatPrefix: string;
  private readonly moogProcessingPrefix: string;
  private readonly moogHeartbeatPrefix: string;
  private readonly unhandledPrefix: string;
  private readonly unhandledSignaturesPrefix: string;
  private readonly metricsPrefix: string;
  private readonly configPrefix: string;
  private readonly nodePrefix: string;

  constructor(c: KeyConfig) {
    this.prefix = c.MUTT_KEY_PREFIX;
    const p = (name: string) => this.withPrefix(name);
    this.ingestQueue = p(c.INGEST_QUEUE_NAME);
    this.alertQueue = p(c.ALERT_QUEUE_NAME);
    this.alerterDlq = p(c.ALERTER_DLQ_NAME);
    this.moogDlq = p(c.MOOG_DLQ_NAME);
    this.deadLetter = p(c.DEAD_LETTER_QUEUE);
    this.moogRateLimit = p(c.MOOG_RATE_LIMIT_KEY);
    this.ingestRateLimit = p('mutt:rate_limit:ingestor');
    this.configPrefix = p('mutt:config');
    this.configUpdates = `${this.configPrefix}:updates`;
    this.shedReplayLock = p('mutt:lock:shed_replay');
    this.nodePrefix = p('mutt:node');
    this.breakerState = p('mutt:circuit_breaker:moogsoft:state');
    this.breakerFailures = p('mutt:circuit_breaker:moogsoft:failures');
    this.breakerOpenTime = p('mutt:circuit_breaker:moogsoft:open_time');
    this.breakerProbe = p('mutt:circuit_breaker:moogsoft:probe');
    this.breakerProbeFailures = p('mutt:circuit_breaker:moogsoft:probe_failures');
    this.alerterGeneration = p('mutt:alerter:rules_generation');
    this.recentEvents = p('mutt:alerter:recent_events');
    this.moogJournal = p('mutt:journal:moog');
    this.sloPrefix = p('mutt:slo:1h');
    this.alerterProcessingPrefix = p(c.ALERTER_PROCESSING_LIST_PREFIX);
    this.alerterHeartbeatPrefix = p(c.ALERTER_HEARTBEAT_PREFIX);
    this.moogProcessingPrefix = p(c.MOOG_PROCESSING_LIST_PREFIX);
    this.moogHeartbeatPrefix = p(c.MOOG_HEARTBEAT_PREFIX);
    this.unhandledPrefix = p(c.UNHANDLED_PREFIX);
    this.unhandledSignaturesPrefix = `${this.unhandledPrefix}_signatures`;
    this.metricsPrefix = p(c.METRICS_PREFIX);
  }

  /** `mutt:…` → `<MUTT_KEY_PREFIX>:…`; names outside the `mutt` namespace are left alone. */
  withPrefix(name: string): string {
    if (this.prefix === 'mutt') return name;
    if (name === 'mutt') return this.prefix;
    return name.startsWith('mutt:') ? `${this.prefix}${name.slice(4)}` : name;
  }

  alerterProcessing(pod: string): string {
    return `${this.alerterProcessingPrefix}:${checkPod(pod)}`;
  }
  alerterHeartbeat(pod: string): string {
    return `${this.alerterHeartbeatPrefix}:${checkPod(pod)}`;
  }
  /** MUTT addition: held by the one running process of a node name (POD_NAME). */
  node(pod: string): string {
    return `${this.nodePrefix}:${checkPod(pod)}`;
  }
  /** SCAN pattern matching every alerter processing list (MUTT's and Python's). */
  get alerterProcessingPattern(): string {
    return `${globEscape(this.alerterProcessingPrefix)}:*`;
  }
  /** SCAN pattern matching every alerter heartbeat (MUTT's and Python's). */
  get alerterHeartbeatPattern(): string {
    return `${globEscape(this.alerterHeartbeatPrefix)}:*`;
  }
  moogProcessing(pod: string): string {
    return `${this.moogProcessingPrefix}:${checkPod(pod)}`;
  }
  moogHeartbeat(pod: string): string {
    return `${this.moogHeartbeatPrefix}:${checkPod(pod)}`;
  }
  /**
   * Alerts a forwarder holds back until their retry time. Named as the processing list of the pseudo
   * pod `<pod>-retry`, with its own heartbeat, so any janitor (MUTT's or Python's) returns it to the
   * alert queue when its owner dies.
   */
  moogRetry(pod: string): string {
    return this.moogProcessing(`${checkPod(pod)}-retry`);
  }
  moogRetryHeartbeat(pod: string): string {
    return this.moogHeartbeat(`${checkPod(pod)}-retry`);
  }
  get moogProcessingPattern(): string {
    return `${globEscape(this.moogProcessingPrefix)}:*`;
  }
  get moogHeartbeatPattern(): string {
    return `${globEscape(this.moogHeartbeatPrefix)}:*`;
  }
  /** Pod id from a processing-list key built by alerterProcessing / moogProcessing. */
  podOf(processingKey: string): string {
    return processingKey.slice(processingKey.lastIndexOf(':') + 1);
  }

  unhandled(hostname: string, sig: string): string {
    return `${this.unhandledPrefix}:${hostname}:${sig}`;
  }
  unhandledTriggered(hostname: string, sig: string): string {
    return `${this.unhandled(hostname, sig)}:triggered`;
  }
  /** MUTT addition: the unhandled signatures counted for a host in the current window (a set). */
  unhandledSignatures(hostname: string): string {
    return `${this.unhandledSignaturesPrefix}:${hostname}`;
  }

  config(name: string): string {
    return `${this.configPrefix}:${name}`;
  }
  get configPattern(): string {
    return `${globEscape(this.configPrefix)}:*`;
  }

  /** The three per-UTC-bucket event counters for an instant (PROTOCOL.md). */
  metricsBuckets(at: Date): { '1m': string; '1h': string; '24h': string } {
    const iso = at.toISOString(); // 2025-11-08T12:34:56.789Z
    return {
      '1m': `${this.metricsPrefix}:1m:${iso.slice(0, 16)}`,
      '1h': `${this.metricsPrefix}:1h:${iso.slice(0, 13)}`,
      '24h': `${this.metricsPrefix}:24h:${iso.slice(0, 10)}`,
    };
  }
  metrics1m(minuteIso: string): string {
    return `${this.metricsPrefix}:1m:${minuteIso}`;
  }
  metrics1h(hourIso: string): string {
    return `${this.metricsPrefix}:1h:${hourIso}`;
  }
  metrics24h(dayIso: string): string {
    return `${this.metricsPrefix}:24h:${dayIso}`;
  }

  /**
   * MUTT addition: the fleet's request counts of one UTC hour (`YYYY-MM-DDTHH`) for the SLO report, a
   * hash of `<component>:good` / `<component>:bad` that every node increments.
   */
  sloHour(hourIso: string): string {
    return `${this.sloPrefix}:${hourIso}`;
  }
}

function checkPod(pod: string): string {
  if (pod.length === 0 || pod.includes(':'))
    throw new Error(`invalid pod id "${pod}": must be non-empty without ":"`);
  return pod;
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
