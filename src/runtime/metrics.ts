// Prometheus registry of the main thread. Process metrics (`process_*`, `nodejs_*`) are collected
// here only; worker threads keep their own registries and the main thread merges them for /metrics.
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';

/** One registry's `getMetricsAsJSON()` result, as a worker thread sends it. */
export type MetricsSnapshot = object[];

export function createRegistry(defaults: boolean, labels?: Record<string, string>): Registry {
  const registry = new Registry();
  if (labels) registry.setDefaultLabels(labels);
  if (defaults) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Metrics text for the main registry plus snapshots sent by worker threads. */
export async function renderMetrics(
  main: Registry,
  workerSnapshots: () => Promise<MetricsSnapshot[]> = () => Promise.resolve([]),
): Promise<{ contentType: string; body: string }> {
  const snapshots = await workerSnapshots();
  if (snapshots.length === 0) return { contentType: main.contentType, body: await main.metrics() };
  // prom-client omits process_start_time_seconds when merging (made for a cluster of processes); the
  // threads share one process, whose start time only the main thread reports: keep it.
  const own = (await main.getMetricsAsJSON()).map((m) =>
    (m as { aggregator?: string }).aggregator === 'omit' ? { ...m, aggregator: 'first' } : m,
  );
  const merged = AggregatorRegistry.aggregate([own, ...snapshots]);
  return { contentType: main.contentType, body: await merged.metrics() };
}
