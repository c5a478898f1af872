// Chooses the node's sink from the configuration: Moogsoft when MOOG_WEBHOOK_URL is set, else the
// local JSON-lines file. A further sink (PagerDuty, ServiceNow, Alertmanager) is one more folder
// implementing ./types.ts and one more branch here (docs/FORWARDER.md, "Writing a sink").
import { hostname } from 'node:os';
import type { Config } from '../../runtime/config/load.ts';
import type { Alert } from '../alert.ts';
import { FileSink, fileSinkPath } from './file/index.ts';
import { MoogsoftSink } from './moogsoft/index.ts';
import type { Sink } from './types.ts';

export type { AlertOutcome, ProbeResult, SendResult, Sink } from './types.ts';

export interface SinkHooks {
  /** The file sink wrote a batch (for the newcomer's log line). */
  onFileWritten?: (count: number, first: Alert) => void;
}

export function createSink(c: Config, hooks: SinkHooks = {}): Sink {
  if (c.MOOG_WEBHOOK_URL) return MoogsoftSink.fromConfig(c);
  return new FileSink({
    path: fileSinkPath(c),
    batchSize: c.MOOG_BATCH_SIZE,
    agentLocation: hostname(),
    defaultTeam: c.UNHANDLED_DEFAULT_TEAM,
    onWritten: hooks.onFileWritten,
  });
}
