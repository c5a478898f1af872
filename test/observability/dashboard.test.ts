// The Grafana dashboard as Grafana 10+ imports it: a schema version it reads, a Prometheus datasource
// input and variable, `job` and `instance` variables that every query honours (one dashboard for a
// fleet of MUTT and MUTT 2.x nodes), a grid without overlaps, and the MUTT 2.x panels kept. That every
// query returns data from MUTT is tested against a real Prometheus in ./prometheus.test.ts.
import { describe, expect, it } from 'vitest';
import { dashboardTargets, loadDashboard, selectorsOf } from '../harness/prometheus.ts';

const d = loadDashboard('etc/grafana/mutt-dashboard.json');

describe('etc/grafana/mutt-dashboard.json', () => {
  it('is a Grafana 10+ dashboard with a Prometheus datasource input and variable', () => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36); // Grafana 9.3+; 39 is Grafana 10.4
    expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(d.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.job).toMatchObject({
      type: 'query',
      definition: 'label_values({__name__=~"mutt_.+"}, job)',
      allValue: '.+',
    });
    expect(vars.instance).toMatchObject({
      type: 'query',
      definition: 'label_values({__name__=~"mutt_.+", job=~"$job"}, instance)',
    });
  });

  it('every panel reads the datasource variable, and every selector honours $job and $instance', () => {
    const bad: string[] = [];
    for (const p of d.panels.filter((x) => x.type !== 'row')) {
      if (p.datasource?.uid !== '${datasource}') bad.push(`${p.title}: panel datasource`);
      for (const t of p.targets ?? []) {
        if (t.datasource?.uid !== '${datasource}') bad.push(`${p.title} ${t.refId}: target datasource`);
        for (const s of selectorsOf(t.expr))
          if (!s.includes('job=~"$job"') || !s.includes('instance=~"$instance"'))
            bad.push(`${p.title}: ${s}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has unique panel ids and refIds, and a 24-column grid without overlaps', () => {
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      const g = p.gridPos;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      const refs = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refs).size, p.title).toBe(refs.length);
    }
  });

  it("keeps MUTT 2.x's panels and shows what a single-process MUTT adds", () => {
    const titles = d.panels.map((p) => p.title);
    for (const t of [
      // MUTT 2.x
      'Event Processing Rate',
      'Queue Depths',
      'Processing Latency (95th %)',
      'Cache Status',
      'Rate Limiter Hits',
      // per-listener rates and drops, alerter decisions, forwarder latency and batch sizes, breaker,
      // DLQ depths, queue ages, worker restarts, process memory and event-loop lag
      'Intake by listener',
      'Drops, sheds and refusals',
      'Forwarder latency',
      'Batch sizes',
      'Circuit breaker state',
      'DLQ depth',
      'Queue age',
      'Worker restarts (1 h)',
      'Process memory',
      'Event-loop lag',
      'SLO availability',
    ])
      expect(titles).toContain(t);
    const exprs = dashboardTargets(d).map((t) => t.expr);
    for (const metric of [
      'mutt_syslog_messages_total',
      'mutt_snmp_traps_received_total',
      'mutt_ingest_events_total',
      'mutt_syslog_shed_total',
      'mutt_snmp_traps_dropped_total',
      'mutt_alerter_events_processed_total',
      'mutt_moog_request_latency_seconds_bucket',
      'mutt_moog_batch_size_sum',
      'mutt_circuit_breaker_state',
      'mutt_remediation_dlq_depth',
      'mutt_queue_oldest_age_seconds',
      'mutt_worker_restarts_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(
        exprs.some((e) => e.includes(metric)),
        metric,
      ).toBe(true);
  });
});
