// The local sink, MUTT's embedded default when MOOG_WEBHOOK_URL is unset: each alert becomes one line
// of JSON (the Moogsoft event it would have been) appended to MOOG_FILE_SINK_PATH, so a newcomer sees
// the whole flow without a Moogsoft. A batch is delivered once its lines are written and flushed to
// disk (fdatasync); the file is opened per batch, so logrotate may rename it at any time.
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Config } from '../../../runtime/config/load.ts';
import type { Alert } from '../../alert.ts';
import { toMoogEvent } from '../moogsoft/payload.ts';
import type { AlertOutcome, ProbeResult, SendOptions, SendResult, Sink } from '../types.ts';

export interface FileSinkOptions {
  path: string;
  batchSize: number;
  agentLocation: string;
  defaultTeam: string;
  /** Called after each written batch (the forwarder logs it, rate-limited). */
  onWritten?: (count: number, first: Alert) => void;
}

export function fileSinkPath(c: Pick<Config, 'MOOG_FILE_SINK_PATH' | 'dataDir'>): string {
  return c.MOOG_FILE_SINK_PATH ?? join(c.dataDir, 'alerts.jsonl');
}

export class FileSink implements Sink {
  readonly name = 'file';
  readonly target: string;
  readonly maxBatch: number;
  readonly guarded = false;
  private readonly o: FileSinkOptions;

  constructor(o: FileSinkOptions) {
    this.o = o;
    this.target = o.path;
    this.maxBatch = o.batchSize;
    mkdirSync(dirname(o.path), { recursive: true, mode: 0o750 });
  }

  async send(alerts: readonly Alert[], options: SendOptions = {}): Promise<SendResult> {
    const started = performance.now();
    const outcomes: AlertOutcome[] = [];
    const lines: string[] = [];
    for (const a of alerts) {
      try {
        lines.push(`${JSON.stringify(toMoogEvent(a, this.o, options.compat))}\n`);
        outcomes.push({ kind: 'delivered' });
      } catch (err) {
        outcomes.push({
          kind: 'reject',
          reason: 'render_failed',
          detail: `could not build the event: ${(err as Error).message}`,
        });
      }
    }
    if (lines.length === 0)
      return { outcomes, breaker: 'neutral', reason: 'render_failed', latencyMs: 0, anomalies: [] };
    try {
      const fh = await open(this.o.path, 'a', 0o640);
      try {
        await fh.writeFile(lines.join(''));
        await fh.datasync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      // A full disk or a permission problem: keep the alerts and try again later.
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      const failed: AlertOutcome = {
        kind: 'retry',
        reason: 'file_error',
        detail: `cannot write ${this.o.path} (${code}): ${(err as Error).message}`,
      };
      return {
        outcomes: outcomes.map((o) => (o.kind === 'delivered' ? failed : o)),
        breaker: 'neutral',
        reason: 'file_error',
        latencyMs: performance.now() - started,
        anomalies: [],
      };
    }
    const first = alerts[outcomes.findIndex((o) => o.kind === 'delivered')];
    if (first) this.o.onWritten?.(lines.length, first);
    return {
      outcomes,
      breaker: 'success',
      reason: 'ok',
      latencyMs: performance.now() - started,
      anomalies: [],
    };
  }

  /** Healthy when the file can be opened for appending (it is created when missing). */
  async probe(): Promise<ProbeResult> {
    const started = performance.now();
    try {
      const fh = await open(this.o.path, 'a', 0o640);
      await fh.close();
      return { healthy: true, reason: 'ok', latencyMs: performance.now() - started };
    } catch {
      return { healthy: false, reason: 'file_error', latencyMs: performance.now() - started };
    }
  }

  async close(): Promise<void> {}
}
