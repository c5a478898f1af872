// The contract every alert destination implements: Moogsoft first, the local file sink, and later
// PagerDuty Events v2, ServiceNow event management or Alertmanager. A sink turns one batch of alerts
// into one request and reports, per alert, what became of it; the forwarder owns everything around
// that (the reliable queue, the shared rate limiter and circuit breaker, backoff, the retry list, the
// DLQ), so a new sink is a payload mapping plus a classification of the destination's answers.
// docs/FORWARDER.md ("Writing a sink") is the component spec; ./conformance.ts is its shared test suite.
import type { CompatMode } from '../../core/config/compat.ts';
import type { Alert } from '../alert.ts';
import type { BreakerEffect } from '../retry-policy.ts';

export type AlertOutcome =
  | { kind: 'delivered' }
  | {
      kind: 'retry';
      /** Bounded label (metric label): http_503, timeout, connection_reset, … */
      reason: string;
      /** Human detail for logs and, if retries run out, the DLQ reason. */
      detail: string;
      /** The destination asked for this much patience (Retry-After). */
      retryAfterMs?: number;
    }
  | {
      kind: 'reject';
      reason: string;
      /** Names the status and quotes a bounded excerpt of the answer; becomes `_dlq_reason`. */
      detail: string;
      status?: number;
      /** A content error: the forwarder retries the alerts of a batch in halves to isolate the bad ones. */
      splittable?: boolean;
      /** The destination refused the credentials. */
      auth?: boolean;
    };

export interface SendResult {
  /** One outcome per alert, in the order given. */
  outcomes: AlertOutcome[];
  /** What the answer says about the destination's availability (circuit breaker). */
  breaker: BreakerEffect;
  /** `ok` or the bounded reason label of the failure. */
  reason: string;
  status?: number;
  latencyMs: number;
  /** Oddities of an answer that did not change the outcome (counted): invalid_json, oversized. */
  anomalies: string[];
}

export interface ProbeResult {
  healthy: boolean;
  /** `ok` or a bounded reason label. */
  reason: string;
  status?: number;
  latencyMs: number;
}

export interface SendOptions {
  /** COMPAT_MODE of the batch (read once per batch by the forwarder): python2 renders as Python MUTT 2.x. */
  compat?: CompatMode;
}

export interface Sink {
  /** Short name for logs: `moogsoft`, `file`. */
  readonly name: string;
  /** Where alerts go, for the start-up log (never includes credentials). */
  readonly target: string;
  /** Most alerts per send() (1 for destinations that take one event per request). */
  readonly maxBatch: number;
  /** Requests pass the shared Moogsoft rate limiter and circuit breaker (remote destinations). */
  readonly guarded: boolean;
  /**
   * Sends one request carrying `alerts`. Never throws because of the destination or of an alert:
   * every alert gets an outcome, and an unreachable destination means `retry` for all of them.
   */
  send(alerts: readonly Alert[], options?: SendOptions): Promise<SendResult>;
  /** A cheap health check (remediation asks before replaying the DLQ). Never throws. */
  probe(): Promise<ProbeResult>;
  /** A new MOOG_API_KEY (rotated in Vault or re-read on SIGHUP): used from the next request on. */
  setCredential?(apiKey: string | undefined): void;
  close(): Promise<void>;
}
