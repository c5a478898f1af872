// Admin API telemetry under the MUTT 2.x web UI names (seed dashboards and alert rules use them).
import { Counter, Histogram, type Registry } from 'prom-client';

export interface WebMetrics {
  requests: Counter<'endpoint' | 'status'>;
  latency: Histogram<'endpoint'>;
  dbLatency: Histogram<'operation'>;
}

export function createWebMetrics(registry: Registry): WebMetrics {
  return {
    requests: new Counter({
      name: 'mutt_webui_api_requests_total',
      help: 'Admin API requests by endpoint (route pattern) and HTTP status',
      labelNames: ['endpoint', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'mutt_webui_api_latency_seconds',
      help: 'Admin API request latency by endpoint (route pattern)',
      labelNames: ['endpoint'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    dbLatency: new Histogram({
      name: 'mutt_webui_db_query_latency_ms',
      help: 'Admin PostgreSQL statement latency in milliseconds by operation',
      labelNames: ['operation'],
      buckets: [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers: [registry],
    }),
  };
}
