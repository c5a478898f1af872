// An alert as a Moogsoft REST LAM event (PROTOCOL.md, "Forwarder → Payload"). Works for alerts from
// MUTT's alerter and from a Python MUTT 2.x alerter alike (which carry no signature, rule_id,
// handling, environment or alerted_at): every field has a derivation when the alert lacks it.
import { createHash } from 'node:crypto';
import type { CompatMode } from '../../../core/config/compat.ts';
import { isoMillisZMs } from '../../../core/protocol/digits.ts';
import { parseJsonLenient } from '../../../core/protocol/json.ts';
import type { Alert } from '../../alert.ts';

export interface MoogEvent {
  signature: string;
  source_id: string;
  external_id: string;
  manager: string;
  source: string;
  class: string;
  agent: string;
  agent_location: string;
  type: string;
  severity: number;
  description: string;
  agent_time: number;
  custom_info: Record<string, unknown>;
}

export interface RenderContext {
  /** The MUTT node (agent_location). */
  agentLocation: string;
  /** `class` of an alert without team_assignment. */
  defaultTeam: string;
  now?: () => number;
}

/** Moogsoft severities: 0 Clear, 1 Indeterminate, 2 Warning, 3 Minor, 4 Major, 5 Critical. */
const SEVERITY: Record<string, number> = {
  clear: 0,
  indeterminate: 1,
  info: 1,
  informational: 1,
  warning: 2,
  minor: 3,
  major: 4,
  critical: 5,
};

/** The Moogsoft number of an alert severity; Warning (Python MUTT's only severity) when unknown. */
export function moogSeverity(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 5) return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^[0-5]$/.test(s)) return Number(s);
    const n = SEVERITY[s.toLowerCase()];
    if (n !== undefined) return n;
  }
  return 2;
}

/**
 * Python MUTT 2.x's forwarder numbers (COMPAT_MODE=python2): Warning 3 and Minor 2, the reverse of
 * Moogsoft's scale (observed); the other labels agree with Moogsoft. A label Python does not know
 * is sent as its Warning.
 */
const PYTHON_SEVERITY: Record<string, number> = { ...SEVERITY, warning: 3, minor: 2 };

/** The Moogsoft number a Python MUTT 2.x forwarder sends for an alert severity. */
export function pythonMoogSeverity(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 5) return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^[0-5]$/.test(s)) return Number(s);
    const n = PYTHON_SEVERITY[s.toLowerCase()];
    if (n !== undefined) return n;
  }
  return 3;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined;

/** Epoch seconds of an ISO 8601 string or an epoch number (seconds or milliseconds). */
function epochSeconds(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.floor(v > 1e12 ? v / 1000 : v);
  if (typeof v === 'string' && v.length > 0) {
    // The shape MUTT's listeners write, without Date.parse.
    const fast = isoMillisZMs(v);
    if (fast !== undefined) return Math.floor(fast / 1000);
    if (/^\d+(\.\d+)?$/.test(v)) return epochSeconds(Number(v));
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return Math.floor(t / 1000);
  }
  return undefined;
}

/** The event an alert was raised for: `raw_json` is an object (MUTT) or a JSON string (some 2.x paths). */
export function eventOf(alert: Alert): Record<string, unknown> | undefined {
  const raw = alert.data.raw_json;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  if (typeof raw === 'string') {
    try {
      const parsed = parseJsonLenient(raw);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
        return parsed as Record<string, unknown>;
    } catch {
      // Not JSON: custom_info keeps the string as it is.
    }
  }
  return undefined;
}

/** The Moogsoft event for an alert; `mode` python2 maps severities as Python MUTT 2.x does. */
export function toMoogEvent(alert: Alert, ctx: RenderContext, mode: CompatMode = 'off'): MoogEvent {
  const d = alert.data;
  const event = eventOf(alert);
  const team = text(d.team_assignment) ?? ctx.defaultTeam;
  const signature =
    text(d.signature) ??
    `${alert.hostname}::${team}::${createHash('sha1').update(alert.message).digest('hex').slice(0, 16)}`;
  const agentTime =
    epochSeconds(event?.timestamp) ??
    epochSeconds(d.alerted_at) ??
    Math.floor((ctx.now ?? Date.now)() / 1000);
  return {
    signature,
    source_id: text(event?.source_ip) ?? text(event?.agent_address) ?? alert.hostname,
    external_id: alert.correlationId,
    manager: 'MUTT',
    source: alert.hostname,
    class: team,
    agent: 'MUTT',
    agent_location: ctx.agentLocation,
    type:
      text(event?.trap_oid) ?? text(event?.msgid) ?? text(event?.app_name) ?? text(event?.source) ?? 'MUTT',
    severity: mode === 'python2' ? pythonMoogSeverity(d.severity) : moogSeverity(d.severity),
    description: alert.message,
    agent_time: agentTime,
    custom_info: {
      rule_id: d.rule_id ?? null,
      handling: d.handling ?? null,
      environment: d.environment ?? null,
      team,
      severity: d.severity ?? null,
      correlation_id: alert.correlationId,
      alerted_at: d.alerted_at ?? null,
      event: event ?? d.raw_json ?? null,
    },
  };
}
