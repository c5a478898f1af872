import { Counter, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SourceRates } from './rates.ts';

describe('SourceRates', () => {
  let registry: Registry;
  let syslog: Counter;
  let http: Counter<'status'>;
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-12-07T12:00:00Z') });
    registry = new Registry();
    syslog = new Counter({ name: 'mutt_syslog_queued_total', help: 'x', registers: [registry] });
    new Counter({ name: 'mutt_snmp_traps_queued_total', help: 'x', registers: [registry] });
    http = new Counter({
      name: 'mutt_ingest_events_total',
      help: 'x',
      labelNames: ['status'],
      registers: [registry],
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns the listener counters into events/s per source, one point per 5 s, on a 15-minute axis', async () => {
    const rates = new SourceRates(registry);
    rates.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rates.rate()).toBeNull();
    for (let i = 0; i < 3; i++) {
      syslog.inc(50); // 10/s
      http.inc({ status: 'queued' }, 25); // 5/s
      http.inc({ status: 'rejected' }, 1000); // not an event that came in
      await vi.advanceTimersByTimeAsync(5000);
    }
    expect(rates.rate(60)).toEqual({ syslog: 10, snmp: 0, http: 5 });
    const s = rates.series();
    expect(s.span).toBe(900);
    expect(s.end).toBe(Date.parse('2026-12-07T12:00:15Z') / 1000);
    expect(s.x).toHaveLength(3);
    expect(s.x[1]! - s.x[0]!).toBe(5);
    expect(s.series.map((x) => x.label)).toEqual(['syslog', 'SNMP traps', 'HTTP']);
    expect(s.series[0]!.data).toEqual([10, 10, 10]);
    expect(s.series[2]!.data).toEqual([5, 5, 5]);
    rates.stop();
  });

  it('keeps 15 minutes of samples, no more', async () => {
    const rates = new SourceRates(registry);
    rates.start();
    await vi.advanceTimersByTimeAsync(20 * 60_000);
    expect(rates.series().x).toHaveLength(180);
    rates.stop();
  });
});
