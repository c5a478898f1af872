// The dashboard's SLO panel from the fleet's SLO report (src/core/slo.ts, the same report as
// GET /api/v1/slo), cached so the dashboard's 3-second refresh does not query Prometheus each time.
import type { SloReport, SloService } from '../../core/slo.ts';
import type { SloPanel } from './env.ts';

const NAMES = { ingestor: 'HTTP ingest success', forwarder: 'Moogsoft forwarding success' } as const;

const percent = (v: number) => Math.round(v * 1e5) / 1e3;

export function sloPanel(r: SloReport): SloPanel {
  return {
    window: `${r.window_hours} h`,
    objectives: (Object.keys(NAMES) as (keyof typeof NAMES)[]).map((k) => {
      const c = r.components[k];
      return {
        name: NAMES[k],
        target: percent(c.target),
        current: c.availability === null ? null : percent(c.availability),
        met: c.state === 'no_data' ? null : c.state === 'ok',
      };
    }),
    note:
      r.source === 'prometheus'
        ? `from Prometheus (${r.source_detail})`
        : `from MUTT's own counters in Redis${r.warning ? `: ${r.warning}` : ''}`,
  };
}

/** A panel provider that asks the service at most once per `ttlMs`. */
export function cachedSloPanel(
  service: Pick<SloService, 'report'>,
  ttlMs = 15_000,
  now: () => number = Date.now,
): () => Promise<SloPanel> {
  let cached: { at: number; panel: Promise<SloPanel> } | undefined;
  return () => {
    const t = now();
    if (!cached || t - cached.at >= ttlMs) {
      const panel = service.report().then(sloPanel);
      cached = { at: t, panel };
      // A failure is shown once and asked again at the next refresh.
      panel.catch(() => {
        if (cached?.panel === panel) cached = undefined;
      });
    }
    return cached.panel;
  };
}
