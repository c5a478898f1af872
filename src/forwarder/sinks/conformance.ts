// The conformance suite every sink passes (run from each sink's `*.case.test.ts`): the contract of
// ./types.ts checked against the real destination (a file, the mock Moogsoft server, …).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { muttAlert, pythonAlert } from '../../../test/fixtures/alerts.ts';
import { type Alert, parseAlert } from '../alert.ts';
import type { Sink } from './types.ts';

export interface SinkHarness {
  /** A sink whose destination works. */
  working(): Promise<Sink>;
  /** A sink whose destination cannot take anything (unreachable, unwritable, failing). */
  broken(): Promise<Sink>;
  /** external_id of every event the working destination stored, in order. */
  deliveredIds(): Promise<string[]>;
  /** Descriptions stored, by external_id. */
  storedDescriptions(): Promise<Map<string, unknown>>;
  /** Every event the destination stored, as JSON text (to look for credentials). */
  storedText(): Promise<string>;
  /** Credentials that must never appear in what is stored, logged or reported. */
  secrets: string[];
  cleanup(): Promise<void>;
}

const toAlert = (o: Record<string, unknown>): Alert => {
  const p = parseAlert(JSON.stringify(o));
  if (!p.ok) throw new Error(p.reason);
  return p.alert;
};

let counter = 0;
const fresh = (make: typeof pythonAlert, over: Record<string, unknown> = {}) =>
  toAlert(
    make(++counter, {
      _correlation_id: `conf-${counter}-${Math.random().toString(36).slice(2, 8)}`,
      ...over,
    }),
  );

export function sinkConformance(name: string, make: () => Promise<SinkHarness>): void {
  describe(`sink conformance: ${name}`, () => {
    let h: SinkHarness;
    let sink: Sink;
    let broken: Sink;
    beforeAll(async () => {
      h = await make();
      sink = await h.working();
      broken = await h.broken();
    });
    afterAll(async () => {
      await sink.close();
      await broken.close();
      await h.cleanup();
    });

    it('describes itself without credentials', () => {
      expect(sink.name).toMatch(/^[a-z]+$/);
      expect(sink.maxBatch).toBeGreaterThanOrEqual(1);
      for (const s of h.secrets) expect(sink.target).not.toContain(s);
    });

    it('delivers a batch and reports one outcome per alert, in order', async () => {
      const n = Math.min(sink.maxBatch, 7);
      const alerts = Array.from({ length: n }, (_, i) => fresh(i % 2 ? muttAlert : pythonAlert));
      const before = (await h.deliveredIds()).length;
      const r = await sink.send(alerts);
      expect(r.outcomes).toEqual(alerts.map(() => ({ kind: 'delivered' })));
      expect(r.reason).toBe('ok');
      expect(r.breaker).toBe('success');
      expect((await h.deliveredIds()).slice(before)).toEqual(alerts.map((a) => a.correlationId));
    });

    it('keeps odd content intact: unicode, control characters, quotes, 100 KB, empty', async () => {
      const odd = [
        'Ünïcødé ✓ 断线 🚨',
        'tab\tnew\nline\u0000nul',
        '"quoted" \\ back\\slash',
        'x'.repeat(100_000),
        '',
      ];
      const alerts = odd.map((m) => fresh(pythonAlert, { message_body: m }));
      for (let i = 0; i < alerts.length; i += sink.maxBatch) {
        const part = alerts.slice(i, i + sink.maxBatch);
        const r = await sink.send(part);
        expect(r.outcomes.every((o) => o.kind === 'delivered')).toBe(true);
      }
      const stored = await h.storedDescriptions();
      alerts.forEach((a, i) => expect(stored.get(a.correlationId)).toBe(odd[i]));
    });

    it('never throws when the destination fails: every alert is to be retried, with a reason', async () => {
      const alerts = Array.from({ length: Math.min(broken.maxBatch, 3) }, () => fresh(pythonAlert));
      const r = await broken.send(alerts);
      expect(r.outcomes).toHaveLength(alerts.length);
      for (const o of r.outcomes) {
        expect(o.kind).toBe('retry');
        if (o.kind === 'retry') {
          expect(o.reason).toMatch(/^[a-z0-9_]+$/);
          expect(o.detail.length).toBeGreaterThan(0);
          for (const s of h.secrets) expect(o.detail).not.toContain(s);
        }
      }
      expect(r.reason).not.toBe('ok');
      expect(r.breaker).not.toBe('success');
    });

    it('answers a health probe without throwing', async () => {
      expect(await sink.probe()).toMatchObject({ healthy: true, reason: 'ok' });
      const bad = await broken.probe();
      expect(bad.healthy).toBe(false);
      expect(bad.reason).toMatch(/^[a-z0-9_]+$/);
    });

    it('never stores a credential inside an event', async () => {
      await sink.send([
        fresh(pythonAlert, { moog_api_key: h.secrets[0] ?? 'k', apiKey: h.secrets[0] ?? 'k' }),
      ]);
      // The credential may authenticate a request, but no event may carry it.
      const text = await h.storedText();
      expect(text).toContain('"external_id"');
      for (const s of h.secrets) expect(text).not.toContain(s);
    });
  });
}
