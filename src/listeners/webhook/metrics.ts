// HTTP ingest telemetry under the MUTT 2.x names (dashboards and alert rules depend on them).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ERRORS } from '../../errors.ts';

export interface IngestMetrics {
  requests: Counter<'status' | 'reason'>;
  events: Counter<'status'>;
  latency: Histogram<string>;
  queueDepth: Gauge<string>;
  previousKey: Counter<string>;
  queueLimit: Gauge<string>;
}

export function createIngestMetrics(
  registry: Registry,
  queueDepth: () => Promise<number | undefined>,
  queueLimit: number,
): IngestMetrics {
  const limit = new Gauge({
    name: 'mutt_ingest_queue_limit',
    help: 'Ingest queue cap (MAX_INGEST_QUEUE_SIZE): at this depth HTTP ingest answers 503, stream listeners pause and UDP listeners shed',
    registers: [registry],
  });
  limit.set(queueLimit);
  const requests = new Counter({
    name: 'mutt_ingest_requests_total',
    help: 'HTTP ingest requests by outcome (status: success|fail; reason for failures)',
    labelNames: ['status', 'reason'],
    registers: [registry],
  });
  // Every outcome exists from the start, at 0, so SLO ratios and alert rules have data before the
  // first failure of each kind.
  requests.inc({ status: 'success', reason: '' }, 0);
  for (const e of Object.values(ERRORS))
    if (e.reason !== 'not_found' && e.reason !== 'method_not_allowed')
      requests.inc({ status: 'fail', reason: e.reason }, 0);
  return {
    requests,
    events: new Counter({
      name: 'mutt_ingest_events_total',
      help: 'Events in HTTP ingest requests (status: queued|rejected)',
      labelNames: ['status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'mutt_ingest_latency_seconds',
      help: 'HTTP ingest request processing latency, including the Redis acknowledgement',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    previousKey: new Counter({
      name: 'mutt_ingest_previous_key_requests_total',
      help: 'Ingest requests authenticated with INGEST_API_KEY_PREVIOUS (a key rotation in progress: remove the previous key once this stops growing)',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'mutt_ingest_queue_depth',
      help: 'Current ingest queue depth',
      registers: [registry],
      async collect() {
        const depth = await queueDepth();
        if (depth !== undefined) this.set(depth);
      },
    }),
    queueLimit: limit,
  };
}
