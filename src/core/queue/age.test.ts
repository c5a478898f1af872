import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { itemTime, registerQueueAgeMetrics } from './age.ts';

describe('itemTime', () => {
  it('dates an event by received_at, else its timestamp', () => {
    expect(
      itemTime('{"received_at":"2026-01-01T00:00:10Z","timestamp":"2020-01-01T00:00:00Z"}', 'event'),
    ).toBe(Date.parse('2026-01-01T00:00:10Z'));
    expect(itemTime('{"timestamp":"2026-01-01T00:00:00Z"}', 'event')).toBe(
      Date.parse('2026-01-01T00:00:00Z'),
    );
  });
  it("dates an alert by alerted_at, else its event's received_at", () => {
    expect(itemTime('{"alerted_at":"2026-01-01T00:00:05Z","raw_json":{}}', 'alert')).toBe(
      Date.parse('2026-01-01T00:00:05Z'),
    );
    expect(itemTime('{"raw_json":{"received_at":"2026-01-01T00:00:01Z"}}', 'alert')).toBe(
      Date.parse('2026-01-01T00:00:01Z'),
    );
  });
  it('says nothing for items that carry no usable time', () => {
    for (const raw of ['not json', '[]', 'null', '{"timestamp":"yesterday"}', '{"received_at":5}'])
      expect(itemTime(raw, 'event')).toBeUndefined();
  });
});

describe('mutt_queue_oldest_age_seconds', () => {
  it('reads the tail of each queue: age of the oldest item, 0 when empty, no sample when unknown', async () => {
    const lists: Record<string, string[]> = {
      // LPUSH order: index 0 newest, the tail (-1) oldest.
      in: ['{"received_at":"2026-01-01T00:00:50Z"}', '{"received_at":"2026-01-01T00:00:30Z"}'],
      out: [],
      odd: ['{"hostname":"x"}'],
    };
    const redis = {
      lindex: async (key: string, i: number) => lists[key]?.at(i) ?? null,
    };
    const registry = new Registry();
    registerQueueAgeMetrics(
      registry,
      redis,
      [
        { queue: 'ingest', key: 'in', kind: 'event' },
        { queue: 'alert', key: 'out', kind: 'alert' },
        { queue: 'other', key: 'odd', kind: 'event' },
      ],
      () => Date.parse('2026-01-01T00:01:00Z'),
    );
    const text = await registry.metrics();
    expect(text).toMatch(/^mutt_queue_oldest_age_seconds\{queue="ingest"\} 30$/m);
    expect(text).toMatch(/^mutt_queue_oldest_age_seconds\{queue="alert"\} 0$/m);
    expect(text).not.toMatch(/queue="other"/);
  });
});
