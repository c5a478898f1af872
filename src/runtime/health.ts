// What `/health` answers, on every node: built by the composition root, served by the ingest and
// ops apps (and the admin API's status).

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  [k: string]: unknown;
}
