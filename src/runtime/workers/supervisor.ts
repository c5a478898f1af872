// Supervises the worker threads (alerter, forwarder, remediation): starts one thread per slot,
// restarts a thread that dies with capped exponential backoff, forwards SIGHUP reloads, collects the
// threads' metrics for /metrics, and stops them in order on shutdown (a thread that does not finish
// its batch within the deadline is terminated; its processing list is then recovered by a janitor).
import { Worker } from 'node:worker_threads';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../logging.ts';
import type { MetricsSnapshot } from '../metrics.ts';
import type { SecretValues } from '../secrets/store.ts';
import type { FromWorker, ToWorker, WorkerInit, WorkerRole } from './protocol.ts';

export interface SupervisorOptions {
  log: Logger;
  /** The worker bootstrap script (dist/worker.js in the bundle). */
  workerUrl: URL;
  makeInit: (role: WorkerRole, index: number) => WorkerInit;
  registry: Registry;
  /** Backoff bounds for restarts. */
  restartMinMs?: number;
  restartMaxMs?: number;
}

type SlotState = 'starting' | 'running' | 'restarting' | 'stopped';

interface Slot {
  role: WorkerRole;
  index: number;
  worker?: Worker;
  state: SlotState;
  failures: number;
  timer?: NodeJS.Timeout;
}

export class WorkerSupervisor {
  private readonly o: Required<SupervisorOptions>;
  private readonly slots: Slot[] = [];
  private stopping = false;
  private nextId = 1;
  private readonly pending = new Map<number, { got: MetricsSnapshot[]; left: number; done: () => void }>();
  private readonly restarts: Counter<'role'>;

  constructor(o: SupervisorOptions) {
    this.o = { restartMinMs: 1000, restartMaxMs: 30_000, ...o };
    this.restarts = new Counter({
      name: 'mutt_worker_restarts_total',
      help: 'Worker threads restarted after they died',
      labelNames: ['role'],
      registers: [o.registry],
    });
  }

  /** Starts `count` threads per role and waits until each reported ready (or failed its first start). */
  async start(plan: { role: WorkerRole; count: number }[]): Promise<void> {
    const starts: Promise<void>[] = [];
    for (const { role, count } of plan) {
      // The series exists from the start (at 0), so a rate or an alert on it has data before any restart.
      this.restarts.inc({ role }, 0);
      for (let index = 0; index < count; index++) {
        const slot: Slot = { role, index, state: 'starting', failures: 0 };
        this.slots.push(slot);
        starts.push(this.spawn(slot));
      }
    }
    await Promise.all(starts);
  }

  private spawn(slot: Slot): Promise<void> {
    const { log } = this.o;
    return new Promise<void>((resolve) => {
      const init = this.o.makeInit(slot.role, slot.index);
      const worker = new Worker(this.o.workerUrl, { workerData: init, name: `${slot.role}-${slot.index}` });
      slot.worker = worker;
      slot.state = 'starting';
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          slot.state = 'running';
          slot.failures = 0;
          log.info({ role: slot.role, worker: slot.index, pod: init.pod }, `${slot.role} worker running`);
          settle();
        } else if (m.type === 'metrics') {
          const p = this.pending.get(m.id);
          if (p) {
            p.got.push(m.snapshot);
            if (--p.left === 0) p.done();
          }
        }
      });
      worker.on('error', (err) => {
        log.error({ role: slot.role, worker: slot.index, err }, `${slot.role} worker crashed`);
      });
      worker.on('exit', (code) => {
        settle();
        if (slot.worker !== worker) return;
        slot.worker = undefined;
        if (this.stopping) {
          slot.state = 'stopped';
          return;
        }
        slot.failures++;
        const delay = Math.min(
          this.o.restartMaxMs,
          this.o.restartMinMs * 2 ** Math.min(slot.failures - 1, 10),
        );
        slot.state = 'restarting';
        this.restarts.inc({ role: slot.role });
        log.error(
          { role: slot.role, worker: slot.index, exit_code: code, restart_in_ms: delay },
          `${slot.role} worker exited; restarting`,
        );
        slot.timer = setTimeout(() => {
          if (!this.stopping) void this.spawn(slot);
        }, delay);
      });
    });
  }

  private post(slot: Slot, msg: ToWorker): boolean {
    if (!slot.worker || slot.state !== 'running') return false;
    slot.worker.postMessage(msg);
    return true;
  }

  /** New secrets for every thread (also those still starting: their port queues the message). */
  updateSecrets(values: SecretValues): void {
    for (const s of this.slots) {
      if (s.worker && s.state !== 'stopped')
        s.worker.postMessage({ type: 'secrets', values } satisfies ToWorker);
    }
  }

  /** SIGHUP: every running worker reloads. */
  reload(): void {
    for (const s of this.slots) this.post(s, { type: 'reload' });
  }

  /** Metrics snapshots of every running worker (those that answer within the timeout). */
  collect(timeoutMs = 1000): Promise<MetricsSnapshot[]> {
    const id = this.nextId++;
    const running = this.slots.filter((s) => s.state === 'running' && s.worker);
    if (running.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const got: MetricsSnapshot[] = [];
      const finish = () => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(got);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.pending.set(id, { got, left: running.length, done: finish });
      for (const s of running) this.post(s, { type: 'metrics', id });
    });
  }

  /** Pod ids of the running threads of a role (whose state other components may wait for). */
  pods(role: WorkerRole): string[] {
    return this.slots
      .filter((s) => s.role === role && s.state === 'running' && s.worker)
      .map((s) => this.o.makeInit(s.role, s.index).pod);
  }

  /** Per role: how many threads run out of how many are configured. */
  status(): Record<string, { running: number; configured: number }> {
    const out: Record<string, { running: number; configured: number }> = {};
    for (const s of this.slots) {
      const r = (out[s.role] ??= { running: 0, configured: 0 });
      r.configured++;
      if (s.state === 'running') r.running++;
    }
    return out;
  }

  /** Asks every thread to finish its batch and stop; terminates those still running at the deadline. */
  async stop(deadlineMs = 30_000): Promise<void> {
    this.stopping = true;
    const exits: Promise<void>[] = [];
    for (const s of this.slots) {
      clearTimeout(s.timer);
      const w = s.worker;
      if (!w) {
        s.state = 'stopped';
        continue;
      }
      exits.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.o.log.warn(
              { role: s.role, worker: s.index },
              `${s.role} worker did not stop in time; terminating it`,
            );
            void w.terminate();
          }, deadlineMs);
          w.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          w.postMessage({ type: 'stop' } satisfies ToWorker);
        }),
      );
    }
    await Promise.all(exits);
  }
}
