// SNMP listener telemetry. Every reason label comes from the bounded sets below, so a flood of
// garbage cannot create series. What the listener counts it also logs (rate-limited) through
// `SnmpTelemetry.fail`, so the two never drift.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../runtime/logging.ts';
import { LogLimiter } from '../../runtime/logging.ts';

export const AUTH_FAILURES = [
  'bad_community',
  'unknown_user',
  'wrong_digest',
  'decryption_error',
  'unsupported_security_level',
  'unknown_engine_id',
  'not_in_time_window',
] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];

export const DECODE_ERRORS = [
  'malformed',
  'unsupported_version',
  'unsupported_pdu',
  'no_trap_oid',
  'too_many_varbinds',
] as const;
export type DecodeError = (typeof DECODE_ERRORS)[number];

export const DROP_REASONS = ['queue_full', 'buffer_full', 'shutdown'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export const UNANSWERED_REASONS = ['queue_full', 'redis_unavailable', 'shutdown'] as const;
export type UnansweredReason = (typeof UNANSWERED_REASONS)[number];

const FAILURE_TEXT: Record<AuthFailure | DecodeError, string> = {
  bad_community: 'SNMP message with a community that is not in SNMP_COMMUNITIES dropped',
  unknown_user: 'SNMPv3 message for a user that is not in SNMP_USERS_FILE dropped',
  wrong_digest: 'SNMPv3 message with a wrong authentication digest (wrong passphrase?) dropped',
  decryption_error: 'SNMPv3 message that does not decrypt (wrong privacy passphrase or protocol?) dropped',
  unsupported_security_level: 'SNMPv3 message at a security level that its user does not have dropped',
  unknown_engine_id: 'SNMPv3 trap from an engine ID that its user is not bound to (createUser -e) dropped',
  not_in_time_window: 'SNMPv3 message outside the USM time window (replayed or stale) dropped',
  malformed: 'malformed SNMP datagram dropped',
  unsupported_version: 'SNMP datagram of an unsupported version dropped',
  unsupported_pdu: 'SNMP PDU that is not a trap, an inform or a v3 discovery dropped',
  no_trap_oid: 'SNMP notification without snmpTrapOID.0 dropped',
  too_many_varbinds: 'SNMP notification with more than 1,024 variable bindings dropped',
};

export class SnmpTelemetry {
  readonly packets: Counter<string>;
  readonly received: Counter<'version' | 'pdu'>;
  readonly queued: Counter<string>;
  readonly dropped: Counter<'reason'>;
  readonly informsAnswered: Counter<string>;
  readonly informsUnanswered: Counter<'reason'>;
  readonly informsDuplicate: Counter<string>;
  readonly authFailures: Counter<'reason'>;
  readonly decodeErrors: Counter<'reason'>;
  readonly oids: Counter<'result'>;
  readonly reports: Counter<'kind'>;
  readonly pending: Gauge<string>;
  readonly caches: Gauge<'cache'>;
  readonly mib: Gauge<'what'>;
  /** Sizes of the receiver's bounded caches, read when /metrics is scraped. */
  sizes?: () => Record<string, number>;
  private readonly log: Logger;
  private readonly limiter: LogLimiter;

  constructor(registry: Registry, log: Logger, limiter = new LogLimiter()) {
    this.log = log;
    this.limiter = limiter;
    const r = [registry];
    this.packets = new Counter({
      name: 'mutt_snmp_packets_total',
      help: 'UDP datagrams read by the SNMP listener',
      registers: r,
    });
    this.received = new Counter({
      name: 'mutt_snmp_traps_received_total',
      help: 'Authentic, decoded notifications by SNMP version (v1, v2c, v3) and PDU (trap, inform)',
      labelNames: ['version', 'pdu'],
      registers: r,
    });
    this.queued = new Counter({
      name: 'mutt_snmp_traps_queued_total',
      help: 'Trap and inform events acknowledged by Redis',
      registers: r,
    });
    this.dropped = new Counter({
      name: 'mutt_snmp_traps_dropped_total',
      help: 'Trap events shed: queue_full (ingest queue at MAX_INGEST_QUEUE_SIZE), buffer_full (Redis unreachable and SNMP_PENDING_MAX_EVENTS held), shutdown (Redis still unreachable when MUTT stopped)',
      labelNames: ['reason'],
      registers: r,
    });
    this.informsAnswered = new Counter({
      name: 'mutt_snmp_informs_answered_total',
      help: 'Informs answered; every answer is sent after Redis acknowledged the event',
      registers: r,
    });
    this.informsUnanswered = new Counter({
      name: 'mutt_snmp_informs_unanswered_total',
      help: 'Informs left unanswered so that the sender retransmits them (queue_full, redis_unavailable, shutdown)',
      labelNames: ['reason'],
      registers: r,
    });
    this.informsDuplicate = new Counter({
      name: 'mutt_snmp_informs_duplicate_total',
      help: 'Retransmitted informs answered again without queueing a second event',
      registers: r,
    });
    this.authFailures = new Counter({
      name: 'mutt_snmp_auth_failures_total',
      help: `SNMP messages rejected by community or USM checks, by reason (${AUTH_FAILURES.join(', ')})`,
      labelNames: ['reason'],
      registers: r,
    });
    this.decodeErrors = new Counter({
      name: 'mutt_snmp_decode_errors_total',
      help: `SNMP datagrams that could not be decoded or are not notifications, by reason (${DECODE_ERRORS.join(', ')})`,
      labelNames: ['reason'],
      registers: r,
    });
    this.oids = new Counter({
      name: 'mutt_snmp_oids_total',
      help: 'Trap and varbind OIDs named by a loaded MIB (translated) or left numeric',
      labelNames: ['result'],
      registers: r,
    });
    this.reports = new Counter({
      name: 'mutt_snmp_reports_total',
      help: 'SNMPv3 Report PDUs sent: discovery (engine ID, boots and time for a sender), unknown_user, not_in_time_window',
      labelNames: ['kind'],
      registers: r,
    });
    this.pending = new Gauge({
      name: 'mutt_snmp_pending_events',
      help: 'Trap events held in memory while Redis is unreachable',
      registers: r,
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the gauge as `this`
    const self = this;
    this.caches = new Gauge({
      name: 'mutt_snmp_cache_entries',
      help: 'Entries in the bounded per-peer caches (localized_keys, engine_times, informs, reverse_dns)',
      labelNames: ['cache'],
      registers: r,
      collect() {
        for (const [cache, n] of Object.entries(self.sizes?.() ?? {})) this.set({ cache }, n);
      },
    });
    this.mib = new Gauge({
      name: 'mutt_snmp_mib',
      help: 'MIB store at start-up: modules, nodes (named OIDs), problems (files or modules skipped)',
      labelNames: ['what'],
      registers: r,
    });
    for (const reason of AUTH_FAILURES) this.authFailures.inc({ reason }, 0);
    for (const reason of DECODE_ERRORS) this.decodeErrors.inc({ reason }, 0);
    for (const reason of DROP_REASONS) this.dropped.inc({ reason }, 0);
    for (const reason of UNANSWERED_REASONS) this.informsUnanswered.inc({ reason }, 0);
    for (const result of ['translated', 'numeric']) this.oids.inc({ result }, 0);
  }

  /** Counts a rejected datagram and logs it, at most once a minute per reason. Never logs secrets. */
  fail(kind: 'auth' | 'decode', reason: AuthFailure | DecodeError, fields: Record<string, unknown>): void {
    if (kind === 'auth') this.authFailures.inc({ reason });
    else this.decodeErrors.inc({ reason });
    const suppressed = this.limiter.take(`snmp:${reason}`);
    if (suppressed >= 0) this.log.warn({ reason, ...fields, suppressed }, FAILURE_TEXT[reason]);
  }

  /** Logs an operational condition (queue full, Redis down), at most once a minute per key. */
  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const suppressed = this.limiter.take(`snmp:${key}`);
    if (suppressed >= 0) this.log.warn({ ...fields, suppressed }, msg);
  }
}
