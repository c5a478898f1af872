// Gauges for what the node depends on, read when /metrics is scraped: whether Redis and PostgreSQL
// answer, and whether the audit log can take this month's and next month's events. The alert rules
// (etc/prometheus/mutt-alerts.yml) page on them; /health says the same in words.
import { Gauge, type Registry } from 'prom-client';

export interface DependencyProbes {
  /** PING with a short timeout. */
  redis: () => Promise<{ ok: boolean }>;
  /** `SELECT 1` with a short timeout; absent on a node without PostgreSQL. */
  postgres?: () => Promise<{ ok: boolean }>;
  /** Partitions of this month and the next; undefined while the schema is not ready. */
  auditPartitions?: () => Promise<{ current: boolean; next: boolean } | undefined>;
}

export function registerDependencyMetrics(registry: Registry, probes: DependencyProbes): void {
  const registers = [registry];
  new Gauge({
    name: 'mutt_redis_up',
    help: 'Whether Redis answered a PING from this node when metrics were read (1 yes, 0 no)',
    registers,
    async collect() {
      this.set((await probes.redis().catch(() => ({ ok: false }))).ok ? 1 : 0);
    },
  });
  const postgres = probes.postgres;
  if (postgres) {
    new Gauge({
      name: 'mutt_postgres_up',
      help: 'Whether PostgreSQL answered a query from this node when metrics were read (1 yes, 0 no)',
      registers,
      async collect() {
        this.set((await postgres().catch(() => ({ ok: false }))).ok ? 1 : 0);
      },
    });
  }
  const partitions = probes.auditPartitions;
  if (partitions) {
    new Gauge({
      name: 'mutt_audit_partition_present',
      help: 'Whether event_audit_log has the partition of this UTC month (month="current") and of the next (month="next"): 1 yes, 0 no. MUTT creates them two months ahead',
      labelNames: ['month'],
      registers,
      async collect() {
        const p = await partitions().catch(() => undefined);
        // Unknown (PostgreSQL down, schema not ready): no sample rather than a false alarm.
        this.reset();
        if (!p) return;
        this.set({ month: 'current' }, p.current ? 1 : 0);
        this.set({ month: 'next' }, p.next ? 1 : 0);
      },
    });
  }
}
