// Network listeners started by `mutt serve` when the node has the `listeners` role, in this order.
// HTTP ingest is started separately by the daemon because it also serves /health and /metrics.
import { snmpListener } from './snmp/index.ts';
import { syslogListener } from './syslog/index.ts';
import type { ListenerFactory } from './types.ts';

export const LISTENERS: readonly ListenerFactory[] = [syslogListener, snmpListener];
