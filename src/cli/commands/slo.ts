// `mutt slo`: the fleet's SLO report, the same as `GET /api/v1/slo` (src/core/slo.ts), from Prometheus
// when PROMETHEUS_URL is set and answers, else from MUTT's own counters in Redis.
import { Keys } from '../../core/protocol/keys.ts';
import { type ComponentSlo, SLO_COMPONENTS, type SloReport, SloService } from '../../core/slo.ts';
import { cliLogger, connectRedis, loadConfigOrExit } from '../context.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);
const pct = (n: number | null, digits: number) => (n === null ? '-' : `${(n * 100).toFixed(digits)}%`);

export function formatSlo(r: SloReport): string {
  const from =
    r.source === 'prometheus'
      ? `Prometheus (${r.source_detail})`
      : `MUTT's own counters (${r.source_detail})`;
  const lines = [`SLO over the last ${r.window_hours} h, from ${from}`];
  if (r.warning) lines.push(`warning: ${r.warning}`);
  const head = ['component', 'target', 'availability', 'budget left', 'burn rate', 'state', 'requests'];
  const rows = SLO_COMPONENTS.map((name) => {
    const c: ComponentSlo = r.components[name];
    return [
      name,
      pct(c.target, 2),
      pct(c.availability, 3),
      pct(c.error_budget_remaining, 1),
      c.burn_rate === null ? '-' : c.burn_rate.toFixed(2),
      c.state === 'no_data' ? 'no data' : c.state,
      `${c.total - c.good} failed of ${c.total}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [head, ...rows])
    lines.push(
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  return lines.join('\n');
}

export async function sloCommand(o: { json?: boolean }): Promise<void> {
  const config = loadConfigOrExit();
  const log = cliLogger(config);
  const redis = await connectRedis(config, log);
  try {
    const report = await new SloService({ redis, keys: new Keys(config), config, log }).report();
    out(o.json ? JSON.stringify(report) : formatSlo(report));
  } finally {
    redis.disconnect();
  }
}
