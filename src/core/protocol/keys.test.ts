import { describe, expect, it } from 'vitest';
import { loadConfigOrThrow } from '../../runtime/config/load.ts';
import { Keys } from './keys.ts';

const keys = (env: Record<string, string> = {}) =>
  new Keys(loadConfigOrThrow(env, { defaultEnvFile: '/nonexistent' }));

describe('Keys', () => {
  it('builds the PROTOCOL.md names by default', () => {
    const k = keys();
    expect(k.ingestQueue).toBe('mutt:ingest_queue');
    expect(k.alertQueue).toBe('mutt:alert_queue');
    expect(k.alerterProcessing('pod-1')).toBe('mutt:processing:alerter:pod-1');
    expect(k.alerterHeartbeat('pod-1')).toBe('mutt:heartbeat:alerter:pod-1');
    expect(k.moogProcessing('p')).toBe('mutt:processing:moog:p');
    expect(k.moogHeartbeat('p')).toBe('mutt:heartbeat:moog:p');
    expect(k.alerterDlq).toBe('mutt:dlq:alerter');
    expect(k.moogDlq).toBe('mutt:dlq:moog');
    expect(k.deadLetter).toBe('mutt:dlq:dead');
    expect(k.unhandled('r1', 'abcdef0123456789')).toBe('mutt:unhandled:r1:abcdef0123456789');
    expect(k.unhandledTriggered('r1', 'abc')).toBe('mutt:unhandled:r1:abc:triggered');
    expect(k.moogRateLimit).toBe('mutt:rate_limit:moog');
    expect(k.ingestRateLimit).toBe('mutt:rate_limit:ingestor');
    expect(k.config('unhandled_threshold')).toBe('mutt:config:unhandled_threshold');
    expect(k.configUpdates).toBe('mutt:config:updates');
    expect(k.breakerState).toBe('mutt:circuit_breaker:moogsoft:state');
    expect(k.breakerFailures).toBe('mutt:circuit_breaker:moogsoft:failures');
    expect(k.breakerOpenTime).toBe('mutt:circuit_breaker:moogsoft:open_time');
    expect(k.breakerProbe).toBe('mutt:circuit_breaker:moogsoft:probe');
    expect(k.breakerProbeFailures).toBe('mutt:circuit_breaker:moogsoft:probe_failures');
    expect(k.moogJournal).toBe('mutt:journal:moog');
    expect(k.sloHour('2025-11-08T12')).toBe('mutt:slo:1h:2025-11-08T12');
  });

  it('names a forwarder retry list as a processing list a janitor can recover', () => {
    const k = keys();
    expect(k.moogRetry('node-1-0')).toBe('mutt:processing:moog:node-1-0-retry');
    expect(k.moogRetryHeartbeat('node-1-0')).toBe('mutt:heartbeat:moog:node-1-0-retry');
    // The janitor derives the heartbeat from the list name: the retry list has its own.
    expect(k.moogHeartbeat(k.podOf(k.moogRetry('node-1-0')))).toBe(k.moogRetryHeartbeat('node-1-0'));
  });

  it('names the metrics buckets by UTC minute, hour and day', () => {
    expect(keys().metricsBuckets(new Date('2025-11-08T12:34:56.789Z'))).toEqual({
      '1m': 'mutt:metrics:1m:2025-11-08T12:34',
      '1h': 'mutt:metrics:1h:2025-11-08T12',
      '24h': 'mutt:metrics:24h:2025-11-08',
    });
  });

  it('applies MUTT_KEY_PREFIX to every mutt: name', () => {
    const k = keys({ MUTT_KEY_PREFIX: 'site2' });
    expect(k.ingestQueue).toBe('site2:ingest_queue');
    expect(k.alerterProcessing('p')).toBe('site2:processing:alerter:p');
    expect(k.metricsBuckets(new Date('2025-01-02T03:04:05Z'))['1m']).toBe(
      'site2:metrics:1m:2025-01-02T03:04',
    );
    expect(k.configUpdates).toBe('site2:config:updates');
    expect(k.moogJournal).toBe('site2:journal:moog');
    expect(k.sloHour('2025-01-02T03')).toBe('site2:slo:1h:2025-01-02T03');
  });

  it('keeps names an operator moved out of the mutt namespace', () => {
    const k = keys({ MUTT_KEY_PREFIX: 'site2', INGEST_QUEUE_NAME: 'legacy:queue' });
    expect(k.ingestQueue).toBe('legacy:queue');
  });

  it('refuses pod ids with a colon', () => {
    expect(() => keys().alerterProcessing('a:b')).toThrow(/must be non-empty without ":"/);
  });

  it('recovers the pod id from a processing list key', () => {
    const k = keys();
    expect(k.podOf(k.alerterProcessing('alerter-7f3c'))).toBe('alerter-7f3c');
  });

  it('escapes glob characters in SCAN patterns', () => {
    const base = loadConfigOrThrow({}, { defaultEnvFile: '/nonexistent' });
    const k = new Keys({ ...base, ALERTER_PROCESSING_LIST_PREFIX: 'mutt:proc[1]' });
    expect(k.alerterProcessingPattern).toBe('mutt:proc\\[1\\]:*');
  });
});
