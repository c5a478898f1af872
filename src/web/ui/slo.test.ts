import { describe, expect, it } from 'vitest';
import { componentSlo, type SloReport } from '../../core/slo.ts';
import { Sessions } from './session.ts';
import { cachedSloPanel, sloPanel } from './slo.ts';

const report = (over: Partial<SloReport> = {}): SloReport => ({
  window_hours: 24,
  source: 'mutt_counters',
  source_detail: 'Redis mutt:slo:1h:<hour>',
  generated_at: '2026-12-07T12:00:00.000Z',
  components: {
    ingestor: componentSlo(0.995, 24, { good: 999, bad: 1 }),
    forwarder: componentSlo(0.99, 24, { good: 0, bad: 0 }),
  },
  ...over,
});

describe('SLO panel', () => {
  it('shows each objective in percent, met or missed, and no data honestly', () => {
    const p = sloPanel(report());
    expect(p.window).toBe('24 h');
    expect(p.objectives).toEqual([
      { name: 'HTTP ingest success', target: 99.5, current: 99.9, met: true },
      { name: 'Moogsoft forwarding success', target: 99, current: null, met: null },
    ]);
    expect(p.note).toBe("from MUTT's own counters in Redis");
    const missed = sloPanel(
      report({
        components: {
          ingestor: componentSlo(0.995, 24, { good: 90, bad: 10 }),
          forwarder: componentSlo(0.99, 24, { good: 1, bad: 0 }),
        },
        warning: 'Prometheus at http://p:9090 failed (unreachable)',
      }),
    );
    expect(missed.objectives[0]).toMatchObject({ current: 90, met: false });
    expect(missed.note).toContain('Prometheus at http://p:9090 failed');
  });

  it('asks the report at most once per TTL, and again after a failure', async () => {
    let t = 0;
    let calls = 0;
    let fail = false;
    const panel = cachedSloPanel(
      {
        report: () => {
          calls++;
          return fail ? Promise.reject(new Error('redis down')) : Promise.resolve(report());
        },
      },
      15_000,
      () => t,
    );
    await panel();
    t = 10_000;
    await panel();
    expect(calls).toBe(1);
    t = 20_000;
    fail = true;
    await expect(panel()).rejects.toThrow('redis down');
    fail = false;
    t = 20_001;
    await expect(panel()).resolves.toMatchObject({ window: '24 h' });
    expect(calls).toBe(3);
  });
});

describe('UI sessions across an admin key rotation', () => {
  it('sign-in takes the new key at once; a session of the old key lives while it is the previous key', () => {
    const s = new Sessions({ apiKey: 'old-key-0123456789' });
    const before = s.create('old-key-0123456789').cookie;
    s.setKeys('new-key-0123456789', 'old-key-0123456789');
    expect(s.checkKey('new-key-0123456789')).toBe(true);
    expect(s.checkKey('old-key-0123456789')).toBe(true);
    expect(s.verify(before)).toBeDefined();
    s.setKeys('new-key-0123456789', undefined);
    expect(s.checkKey('old-key-0123456789')).toBe(false);
    expect(s.verify(before)).toBeUndefined();
    expect(() => s.setKeys('', undefined)).toThrow(/WEBUI_API_KEY/);
  });
});
