import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRegistry, renderMetrics } from './metrics.ts';

describe('renderMetrics', () => {
  it("merges worker threads' metrics and keeps the process's start time (MUTTServiceRestart reads it)", async () => {
    const main = createRegistry(true);
    const worker = new Registry();
    new Counter({ name: 'mutt_test_total', help: 'h', registers: [worker] }).inc(3);
    const text = (await renderMetrics(main, async () => [await worker.getMetricsAsJSON()])).body;
    expect(text).toMatch(/^mutt_test_total 3$/m);
    expect(text).toMatch(/^process_start_time_seconds \d+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
  });
});
