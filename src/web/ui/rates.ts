// Events per second by source (syslog, SNMP, HTTP) for the dashboard: this node's listener counters
// (the same ones /metrics serves) sampled every 5 s into a 15-minute ring. The fleet-wide total is
// the mutt:metrics:* counters (core/admin/metrics.ts); these say which door the events came in by.
import type { Registry } from 'prom-client';

export const SOURCES = [
  { key: 'syslog', label: 'syslog', metric: 'mutt_syslog_queued_total', labels: {} },
  { key: 'snmp', label: 'SNMP traps', metric: 'mutt_snmp_traps_queued_total', labels: {} },
  { key: 'http', label: 'HTTP', metric: 'mutt_ingest_events_total', labels: { status: 'queued' } },
] as const;
type SourceKey = (typeof SOURCES)[number]['key'];

const STEP_MS = 5000;
const KEEP = 180; // 15 minutes

interface Sample {
  at: number;
  totals: Record<SourceKey, number>;
}

export class SourceRates {
  private readonly registry: Registry;
  private readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(registry: Registry) {
    this.registry = registry;
  }

  private async totals(): Promise<Record<SourceKey, number>> {
    const out = { syslog: 0, snmp: 0, http: 0 };
    for (const s of SOURCES) {
      const m = this.registry.getSingleMetric(s.metric);
      if (!m) continue;
      const got = await m.get();
      for (const v of got.values) {
        const labels = v.labels as Record<string, string | number>;
        if (Object.entries(s.labels).every(([k, want]) => labels[k] === want)) out[s.key] += v.value;
      }
    }
    return out;
  }

  /** Starts sampling (idempotent); the timer never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    const take = async () => {
      this.samples.push({ at: Date.now(), totals: await this.totals() });
      if (this.samples.length > KEEP + 1) this.samples.shift();
    };
    void take();
    this.timer = setInterval(() => void take(), STEP_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Events/s per source over the last `seconds` (null until two samples exist). */
  rate(seconds = 60): Record<SourceKey, number> | null {
    const last = this.samples[this.samples.length - 1];
    if (!last || this.samples.length < 2) return null;
    const from = this.samples.find((s) => last.at - s.at <= seconds * 1000 + STEP_MS / 2) ?? this.samples[0]!;
    const dt = (last.at - from.at) / 1000;
    if (dt <= 0) return null;
    const out = { syslog: 0, snmp: 0, http: 0 };
    for (const s of SOURCES) out[s.key] = Math.max(0, last.totals[s.key] - from.totals[s.key]) / dt;
    return out;
  }

  /** The chart: one point per sample interval (epoch seconds), events/s per source. */
  series(): { x: number[]; span: number; end: number; series: { label: string; data: number[] }[] } {
    const x: number[] = [];
    const data: number[][] = SOURCES.map(() => []);
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1]!;
      const b = this.samples[i]!;
      const dt = (b.at - a.at) / 1000;
      x.push(Math.round(b.at / 1000));
      SOURCES.forEach((s, j) =>
        data[j]!.push(
          dt > 0 ? Math.round((Math.max(0, b.totals[s.key] - a.totals[s.key]) / dt) * 10) / 10 : 0,
        ),
      );
    }
    return {
      x,
      span: (KEEP * STEP_MS) / 1000,
      end: Math.round(Date.now() / 1000),
      series: SOURCES.map((s, j) => ({ label: s.label, data: data[j]! })),
    };
  }
}
