// The contract every network listener (syslog, SNMP, …) implements. The daemon starts each factory
// with the shared context, logs what it bound, and stops them before draining the shared enqueuer:
// a listener's stop() must stop reading and resolve only once everything it has read has been handed
// to the enqueuer (`enqueuer.push`), so that SIGTERM loses nothing that was read.
import type { Registry } from 'prom-client';
import type { Keys } from '../core/protocol/keys.ts';
import type { ScriptedRedis } from '../core/protocol/scripts.ts';
import type { Config } from '../runtime/config/load.ts';
import type { Logger } from '../runtime/logging.ts';
import type { Enqueuer } from './enqueue.ts';

export interface ListenerContext {
  config: Config;
  /** The one batched path into Redis, shared by every listener and HTTP ingest. */
  enqueuer: Enqueuer;
  registry: Registry;
  log: Logger;
  keys: Keys;
  /** Non-blocking Redis client with MUTT's scripts (fail-fast: errors while disconnected). */
  redis: ScriptedRedis;
}

export interface RunningListener {
  name: string;
  /** What it bound, merged into the "MUTT is running" log line (e.g. { syslogUdpPort: 514 }). */
  info: Record<string, unknown>;
  /** SIGHUP: reload what can change without a restart (TLS certificates). */
  reload?(): void;
  stop(): Promise<void>;
}

/** Returns undefined when the listener is disabled by its configuration (port 0). */
export type ListenerFactory = (ctx: ListenerContext) => Promise<RunningListener | undefined>;
