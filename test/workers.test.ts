// The worker-thread supervisor with real threads: start, merged metrics, restart after a crash,
// ordered stop, and termination of a thread that ignores stop.
import { join } from 'node:path';
import { AggregatorRegistry, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerInit } from '../src/runtime/workers/protocol.ts';
import { WorkerSupervisor } from '../src/runtime/workers/supervisor.ts';
import { quietLog, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => svc.cleanup());

const fixture = new URL('./fixtures/worker-fixture.mjs', import.meta.url);

function supervisor(behaviour: string, registry = new Registry()) {
  const marker = join(svc.tmp, `marker-${behaviour}-${Math.random()}`);
  return {
    registry,
    sup: new WorkerSupervisor({
      log: quietLog(),
      workerUrl: fixture,
      registry,
      restartMinMs: 50,
      restartMaxMs: 200,
      makeInit: (role, index) => ({ role, index, behaviour, marker }) as unknown as WorkerInit,
    }),
  };
}

const until = async (pred: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('WorkerSupervisor', () => {
  it('starts threads per role and merges their metrics', async () => {
    const { sup, registry } = supervisor('ok');
    await sup.start([
      { role: 'alerter', count: 2 },
      { role: 'forwarder', count: 1 },
    ]);
    expect(sup.status()).toEqual({
      alerter: { running: 2, configured: 2 },
      forwarder: { running: 1, configured: 1 },
    });
    // The restart counter of each role exists from the start, at 0 (dashboards and alerts read it).
    const own = await registry.metrics();
    expect(own).toMatch(/^mutt_worker_restarts_total\{role="alerter"\} 0$/m);
    expect(own).toMatch(/^mutt_worker_restarts_total\{role="forwarder"\} 0$/m);
    const snaps = await sup.collect();
    expect(snaps).toHaveLength(3);
    const merged = await AggregatorRegistry.aggregate(snaps).metrics();
    expect(merged).toMatch(/^fixture_items_total 31$/m); // 10 + 11 + 10
    await sup.stop(2000);
    expect(sup.status().alerter!.running).toBe(0);
  });

  it('restarts a thread that died, with backoff, and counts it', async () => {
    const { sup, registry } = supervisor('crash-once');
    await sup.start([{ role: 'alerter', count: 1 }]);
    await until(() => sup.status().alerter!.running === 0);
    await until(() => sup.status().alerter!.running === 1);
    const text = await registry.metrics();
    expect(text).toMatch(/^mutt_worker_restarts_total\{role="alerter"\} 1$/m);
    await sup.stop(2000);
  });

  it('terminates a thread that does not stop by the deadline', async () => {
    const { sup } = supervisor('ignore-stop');
    await sup.start([{ role: 'forwarder', count: 1 }]);
    const started = Date.now();
    await sup.stop(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(sup.status().forwarder!.running).toBe(0);
  });
});
