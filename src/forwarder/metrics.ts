// Forwarder and remediation telemetry, under the MUTT 2.x names where 2.x had one (dashboards and the
// Prometheus rules in the 2.x runbooks use them). Each worker thread has its own registry; the main
// thread merges them for /metrics, summing counters. Gauges that read a shared Redis value (DLQ depth,
// breaker state) report the same number from every worker, so they merge with `max`, not `sum`.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Every failure reason a request can have (retry-policy.ts's labels, the sink's `render_failed`, the
 * forwarder's `internal`). Each exists from the start at 0, so Prometheus sees a failure from the
 * first one: a series born with a count of 3 would lose those 3 in increase() and rate().
 */
export const REQUEST_FAILURE_REASONS = [
  'http_500',
  'http_502',
  'http_503',
  'http_504',
  'http_5xx',
  'http_400',
  'http_404',
  'http_405',
  'http_408',
  'http_409',
  'http_410',
  'http_413',
  'http_415',
  'http_422',
  'http_425',
  'http_429',
  'http_4xx',
  'http_3xx',
  'http_other',
  'auth',
  'timeout',
  'connection_refused',
  'connection_reset',
  'dns',
  'tls',
  'network',
  'internal',
  'render_failed',
] as const;

export interface ForwarderMetrics {
  requests: Counter<'status' | 'reason'>;
  latency: Histogram<string>;
  batchSize: Histogram<string>;
  alerts: Counter<'status'>;
  dlqWrites: Counter<'reason'>;
  rateLimitHits: Counter<string>;
  rateLimitWait: Counter<string>;
  retriesExhausted: Counter<string>;
  anomalies: Counter<'reason'>;
  breakerState: Gauge<string>;
  breakerTransitions: Counter<'from' | 'to'>;
  recovered: Counter<string>;
  compatMode: Gauge<string>;
  compatSwitches: Counter<'to'>;
}

export interface ForwarderGauges {
  dlqDepth: () => Promise<number | undefined>;
  processingDepth: () => Promise<number | undefined>;
  retryDepth: () => Promise<number | undefined>;
  breakerState: () => Promise<number | undefined>;
}

const collectInto = (g: Gauge<string>, read: () => Promise<number | undefined>) => async () => {
  const v = await read().catch(() => undefined);
  if (v !== undefined) g.set(v);
};

export function createForwarderMetrics(registry: Registry, gauges: ForwarderGauges): ForwarderMetrics {
  const registers = [registry];
  const dlqDepth: Gauge<string> = new Gauge({
    name: 'mutt_moog_dlq_depth',
    help: 'Alerts in the Moogsoft DLQ (mutt:dlq:moog)',
    aggregator: 'max',
    registers,
    collect: () => collectInto(dlqDepth, gauges.dlqDepth)(),
  });
  const processing: Gauge<string> = new Gauge({
    name: 'mutt_moog_processing_list_depth',
    help: "Alerts in this node's forwarder processing lists (taken, not yet settled)",
    registers,
    collect: () => collectInto(processing, gauges.processingDepth)(),
  });
  const retrying: Gauge<string> = new Gauge({
    name: 'mutt_moog_retry_list_depth',
    help: "Alerts this node's forwarders hold back until their retry time",
    registers,
    collect: () => collectInto(retrying, gauges.retryDepth)(),
  });
  const breakerState: Gauge<string> = new Gauge({
    name: 'mutt_circuit_breaker_state',
    help: 'Shared Moogsoft circuit breaker: 0 closed, 1 open, 2 half-open',
    aggregator: 'max',
    registers,
    collect: () => collectInto(breakerState, gauges.breakerState)(),
  });
  const m: ForwarderMetrics = {
    requests: new Counter({
      name: 'mutt_moog_requests_total',
      help: 'Moogsoft requests by outcome (status: success|fail; reason of failures: http_503, timeout, auth, …)',
      labelNames: ['status', 'reason'],
      registers,
    }),
    latency: new Histogram({
      name: 'mutt_moog_request_latency_seconds',
      help: 'Moogsoft request latency (until the answer was read)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    batchSize: new Histogram({
      name: 'mutt_moog_batch_size',
      help: 'Alerts per Moogsoft request',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    }),
    alerts: new Counter({
      name: 'mutt_moog_alerts_processed_total',
      help: 'Alerts settled by the forwarder (status: success = delivered, retry = held back for a retry, dlq = dead-lettered)',
      labelNames: ['status'],
      registers,
    }),
    dlqWrites: new Counter({
      name: 'mutt_moog_dlq_writes_total',
      help: 'Alerts written to the Moogsoft DLQ, by reason (invalid_json, invalid_alert, rejected, auth, retries_exhausted, render_failed)',
      labelNames: ['reason'],
      registers,
    }),
    retriesExhausted: new Counter({
      name: 'mutt_moog_retries_exhausted_total',
      help: 'Transient failures of alerts that had already been retried MOOG_MAX_RETRIES times (they keep being retried; MOOG_RETRY_EXHAUSTED_MODE=dlq dead-letters them instead)',
      registers,
    }),
    rateLimitHits: new Counter({
      name: 'mutt_moog_rate_limit_hits_total',
      help: 'Times a request had to wait for a slot of the shared Moogsoft rate limiter',
      registers,
    }),
    rateLimitWait: new Counter({
      name: 'mutt_moog_rate_limit_wait_seconds_total',
      help: 'Time requests spent waiting for a rate-limiter slot',
      registers,
    }),
    anomalies: new Counter({
      name: 'mutt_moog_response_anomalies_total',
      help: 'Moogsoft answers that were odd but did not change the outcome (invalid_json; oversized: longer than the 64 KiB MUTT reads)',
      labelNames: ['reason'],
      registers,
    }),
    breakerState,
    breakerTransitions: new Counter({
      name: 'mutt_circuit_breaker_transitions_total',
      help: 'Circuit breaker transitions made by this node',
      labelNames: ['from', 'to'],
      registers,
    }),
    recovered: new Counter({
      name: 'mutt_moog_janitor_recovered_total',
      help: 'Alerts the janitor returned to the alert queue from processing lists of dead forwarders',
      registers,
    }),
    compatMode: new Gauge({
      name: 'mutt_moog_compat_mode',
      help: 'Mode of the last batch: 0 MUTT (COMPAT_MODE=off), 1 parity with Python MUTT 2.x (python2)',
      aggregator: 'max',
      registers,
    }),
    compatSwitches: new Counter({
      name: 'mutt_moog_compat_mode_switches_total',
      help: 'Changes of COMPAT_MODE (dynamic key compat_mode) seen between batches, by the new mode',
      labelNames: ['to'],
      registers,
    }),
  };
  // Series that dashboards and alert rules read exist from the start, at 0.
  m.requests.inc({ status: 'success', reason: '' }, 0);
  for (const reason of REQUEST_FAILURE_REASONS) m.requests.inc({ status: 'fail', reason }, 0);
  for (const status of ['success', 'retry', 'dlq']) m.alerts.inc({ status }, 0);
  return m;
}

export interface RemediationMetrics {
  health: Gauge<string>;
  healthChecks: Counter<'result'>;
  replayed: Counter<string>;
  shedReplayed: Counter<string>;
  poison: Counter<string>;
  runs: Counter<'result'>;
}

export function createRemediationMetrics(
  registry: Registry,
  depth: (queue: 'moog' | 'alerter' | 'dead') => Promise<number | undefined>,
): RemediationMetrics {
  const registers = [registry];
  const dlq = new Gauge({
    name: 'mutt_remediation_dlq_depth',
    help: 'Items in each dead-letter list (queue: moog, alerter, dead)',
    labelNames: ['queue'],
    aggregator: 'max',
    registers,
    async collect() {
      for (const q of ['moog', 'alerter', 'dead'] as const) {
        const v = await depth(q).catch(() => undefined);
        if (v !== undefined) dlq.set({ queue: q }, v);
      }
    },
  });
  return {
    health: new Gauge({
      name: 'mutt_remediation_moog_health',
      help: 'Result of the last Moogsoft health probe: 1 healthy, 0 unhealthy',
      aggregator: 'max',
      registers,
    }),
    healthChecks: new Counter({
      name: 'mutt_remediation_health_checks_total',
      help: 'Moogsoft health probes by result (healthy, or the reason: auth, timeout, http_503, …)',
      labelNames: ['result'],
      registers,
    }),
    replayed: new Counter({
      name: 'mutt_remediation_replayed_total',
      help: 'Alerts moved from the Moogsoft DLQ back to the alert queue',
      registers,
    }),
    shedReplayed: new Counter({
      name: 'mutt_remediation_shed_replayed_total',
      help: 'Events the alerter shed (ALERTER_SHED_MODE=dlq) that remediation replayed into the ingest queue once the pressure was gone',
      registers,
    }),
    poison: new Counter({
      name: 'mutt_remediation_poison_messages_total',
      help: 'Items moved to the dead list (replayed MAX_POISON_RETRIES times, or never deliverable)',
      registers,
    }),
    runs: new Counter({
      name: 'mutt_remediation_runs_total',
      help: 'Remediation passes by result (replayed, empty, unhealthy, breaker_open, error)',
      labelNames: ['result'],
      registers,
    }),
  };
}
