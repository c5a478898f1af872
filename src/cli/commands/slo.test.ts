import { describe, expect, it } from 'vitest';
import { componentSlo, type SloReport } from '../../core/slo.ts';
import { formatSlo } from './slo.ts';

describe('formatSlo', () => {
  it('prints the source, the warning and one line per component', () => {
    const r: SloReport = {
      window_hours: 24,
      source: 'mutt_counters',
      source_detail: 'Redis mutt:slo:1h:<hour>',
      warning: 'Prometheus at http://p:9090 failed',
      generated_at: '2026-01-01T00:00:00.000Z',
      components: {
        ingestor: componentSlo(0.995, 24, { good: 999, bad: 1 }),
        forwarder: componentSlo(0.99, 24, { good: 0, bad: 0 }),
      },
    };
    expect(formatSlo(r).split('\n')).toEqual([
      "SLO over the last 24 h, from MUTT's own counters (Redis mutt:slo:1h:<hour>)",
      'warning: Prometheus at http://p:9090 failed',
      'component  target  availability  budget left  burn rate  state    requests',
      'ingestor   99.50%  99.900%       80.0%        0.20       ok       1 failed of 1000',
      'forwarder  99.00%  -             -            -          no data  0 failed of 0',
    ]);
  });
});
