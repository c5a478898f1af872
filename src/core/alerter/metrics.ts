// Alerter telemetry under the MUTT 2.x names (the 2.x dashboards and Prometheus rules use them), plus
// MUTT's additions. Every worker thread has its own registry; the main thread merges them for
// /metrics: counters sum; gauges that read shared state (queue depths, cache sizes) merge with `max`.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PoisonCode } from './event.ts';

export interface AlerterMetrics {
  events: Counter<'status'>;
  latency: Histogram<string>;
  shed: Counter<'mode'>;
  dbWriteMs: Histogram<string>;
  reloadFailures: Counter<string>;
  reloads: Counter<string>;
  rules: Gauge<string>;
  rulesRejected: Gauge<string>;
  devHosts: Gauge<string>;
  teams: Gauge<string>;
  metaAlerts: Counter<string>;
  unhandledFolded: Counter<string>;
  dlqWrites: Counter<'reason'>;
  auditRows: Counter<string>;
  substituted: Counter<string>;
  batchSize: Histogram<string>;
  recovered: Counter<string>;
  compatMode: Gauge<string>;
  compatSwitches: Counter<'to'>;
}

export interface AlerterGauges {
  alertQueueDepth: () => Promise<number | undefined>;
  dlqDepth: () => Promise<number | undefined>;
  processingDepth: () => Promise<number | undefined>;
}

const collectInto = (g: Gauge<string>, read: () => Promise<number | undefined>) => async () => {
  const v = await read().catch(() => undefined);
  if (v !== undefined) g.set(v);
};

export function createAlerterMetrics(registry: Registry, gauges: AlerterGauges): AlerterMetrics {
  const registers = [registry];
  const queueDepth: Gauge<string> = new Gauge({
    name: 'mutt_alerter_queue_depth',
    help: 'Length of the alert queue the alerter feeds (mutt:alert_queue), watched for backpressure',
    aggregator: 'max',
    registers,
    collect: () => collectInto(queueDepth, gauges.alertQueueDepth)(),
  });
  const dlqDepth: Gauge<string> = new Gauge({
    name: 'mutt_alerter_dlq_depth',
    help: 'Events in the alerter DLQ (mutt:dlq:alerter)',
    aggregator: 'max',
    registers,
    collect: () => collectInto(dlqDepth, gauges.dlqDepth)(),
  });
  const processing: Gauge<string> = new Gauge({
    name: 'mutt_alerter_processing_list_depth',
    help: "Events in this node's alerter processing lists (taken, not yet settled)",
    registers,
    collect: () => collectInto(processing, gauges.processingDepth)(),
  });
  const m: AlerterMetrics = {
    events: new Counter({
      name: 'mutt_alerter_events_processed_total',
      help: 'Events by outcome: handled (a rule matched), unhandled, poison (dead-lettered or re-queued), error',
      labelNames: ['status'],
      registers,
    }),
    latency: new Histogram({
      name: 'mutt_alerter_processing_latency_seconds',
      help: 'Time from taking a batch to settling it, observed once per event',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    shed: new Counter({
      name: 'mutt_alerter_shed_events_total',
      help: 'Backpressure actions: events shed to the DLQ (mode="dlq") or pauses (mode="defer")',
      labelNames: ['mode'],
      registers,
    }),
    dbWriteMs: new Histogram({
      name: 'mutt_db_write_latency_ms',
      help: 'Audit-log batch write (COPY) latency in milliseconds',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers,
    }),
    reloadFailures: new Counter({
      name: 'mutt_alerter_cache_reload_failures_total',
      help: 'Rule-cache reloads that failed (the last good cache stays in use)',
      registers,
    }),
    reloads: new Counter({
      name: 'mutt_alerter_cache_reloads_total',
      help: 'Rule-cache reloads that succeeded',
      registers,
    }),
    rules: new Gauge({
      name: 'mutt_alerter_cache_rules_count',
      help: 'Active rules in the memory cache',
      aggregator: 'max',
      registers,
    }),
    rulesRejected: new Gauge({
      name: 'mutt_alerter_cache_rules_rejected',
      help: 'Active rules refused at load (invalid or Python-only regex, empty team); see the log for reasons',
      aggregator: 'max',
      registers,
    }),
    devHosts: new Gauge({
      name: 'mutt_alerter_cache_dev_hosts_count',
      help: 'Development hosts in the cache',
      aggregator: 'max',
      registers,
    }),
    teams: new Gauge({
      name: 'mutt_alerter_cache_teams_count',
      help: 'Device team assignments in the cache',
      aggregator: 'max',
      registers,
    }),
    metaAlerts: new Counter({
      name: 'mutt_alerter_unhandled_meta_alerts_total',
      help: 'Meta-alerts raised for hosts sending unhandled messages',
      registers,
    }),
    unhandledFolded: new Counter({
      name: 'mutt_alerter_unhandled_folded_total',
      help: "Unhandled events counted under their host's overflow signature because the host already had UNHANDLED_MAX_SIGNATURES distinct ones in the window",
      registers,
    }),
    dlqWrites: new Counter({
      name: 'mutt_alerter_dlq_writes_total',
      help: 'Events written to the alerter DLQ, by reason',
      labelNames: ['reason'],
      registers,
    }),
    auditRows: new Counter({
      name: 'mutt_alerter_audit_rows_total',
      help: 'Rows written to event_audit_log',
      registers,
    }),
    substituted: new Counter({
      name: 'mutt_alerter_timestamp_substituted_total',
      help: 'Handled events audited with their receive time because their timestamp could not be stored',
      registers,
    }),
    batchSize: new Histogram({
      name: 'mutt_alerter_batch_size',
      help: 'Events per batch taken from the ingest queue',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers,
    }),
    recovered: new Counter({
      name: 'mutt_alerter_recovered_events_total',
      help: 'Events the janitor returned to the ingest queue from dead alerters (MUTT or Python)',
      registers,
    }),
    compatMode: new Gauge({
      name: 'mutt_alerter_compat_mode',
      help: 'Mode of the last batch: 0 MUTT (COMPAT_MODE=off), 1 parity with Python MUTT 2.x (python2)',
      aggregator: 'max',
      registers,
    }),
    compatSwitches: new Counter({
      name: 'mutt_alerter_compat_mode_switches_total',
      help: 'Changes of COMPAT_MODE (dynamic key compat_mode) seen between batches, by the new mode',
      labelNames: ['to'],
      registers,
    }),
  };
  // Every outcome and backpressure mode exists from the start, at 0, so a dashboard or an alert rule
  // reading them has data before the first event of that kind.
  for (const status of ['handled', 'unhandled', 'poison', 'error']) m.events.inc({ status }, 0);
  for (const mode of ['dlq', 'defer']) m.shed.inc({ mode }, 0);
  const dlqReasons: (PoisonCode | 'shed')[] = [
    'invalid_json',
    'not_an_object',
    'missing_field',
    'invalid_field',
    'retries_exhausted',
    'shed',
  ];
  for (const reason of dlqReasons) m.dlqWrites.inc({ reason }, 0);
  return m;
}
