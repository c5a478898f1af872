// `mutt config list|get|set` through the real CLI against a real Redis: values validated before they
// are written, announced on mutt:config:updates, and the static variable shown as the fallback.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMutt } from './harness/mutt-process.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices({ database: false });
});
afterAll(async () => svc.cleanup());

const mutt = (args: string[]) => runMutt(['config', ...args], { ...svc.env, UNHANDLED_THRESHOLD: '77' });

describe('mutt config', () => {
  it('list shows the static fallbacks, set validates, stores and announces, get reads back, --unset removes', async () => {
    const list = mutt(['list', '--json']);
    expect(list.status).toBe(0);
    const keys = JSON.parse(list.stdout).keys as { key: string; value: string; source: string }[];
    expect(keys.map((k) => k.key)).toEqual([
      'cache_reload_interval',
      'unhandled_threshold',
      'unhandled_expiry_seconds',
      'alerter_queue_warn_threshold',
      'alerter_queue_shed_threshold',
      'alerter_shed_mode',
      'alerter_defer_sleep_ms',
      'compat_mode',
      'slo_window_hours',
      'slo_ingest_success_target',
      'slo_forward_success_target',
    ]);
    expect(keys.find((k) => k.key === 'unhandled_threshold')).toMatchObject({
      value: '77',
      source: 'static',
    });

    const sub = new Redis(svc.services.redis);
    const heard: string[] = [];
    sub.on('message', (_c: string, m: string) => heard.push(m));
    await sub.subscribe(svc.keys.configUpdates);
    try {
      const set = mutt(['set', 'alerter_shed_mode', 'DEFER']);
      expect(set.status).toBe(0);
      expect(set.stdout.trim()).toBe('alerter_shed_mode = defer');
      expect(await svc.redis.get(svc.keys.config('alerter_shed_mode'))).toBe('defer');
      expect(mutt(['get', 'alerter_shed_mode']).stdout.trim()).toBe('defer');
      const text = mutt(['list']).stdout;
      expect(text).toMatch(/alerter_shed_mode\s+defer\s+redis/);
      expect(text).toMatch(/unhandled_threshold\s+77\s+static \(UNHANDLED_THRESHOLD\)/);
      const unset = mutt(['set', 'alerter_shed_mode', '--unset']);
      expect(unset.status).toBe(0);
      expect(await svc.redis.get(svc.keys.config('alerter_shed_mode'))).toBeNull();
      await new Promise((r) => setTimeout(r, 200));
      expect(heard).toEqual(['alerter_shed_mode', 'alerter_shed_mode']);
    } finally {
      sub.disconnect();
    }
  });

  it.each([
    [['set', 'unhandled_threshold', '0'], /unhandled_threshold: "0" is not an integer >= 1/, 65],
    [['set', 'unhandled_threshold', '1e3'], /is not an integer >= 1/, 65],
    [['set', 'alerter_shed_mode', 'drop'], /alerter_shed_mode: "drop" is not dlq or defer/, 65],
    [['set', 'alerter_defer_sleep_ms', '600000'], /from 1 to 60000/, 65],
    [
      ['set', 'alerter_queue_shed_threshold', '499'],
      /alerter_queue_shed_threshold: "499": expected at least ALERTER_BATCH_SIZE \(500\): one batch can add that many alerts/,
      65,
    ],
    [
      ['set', 'alerter_queue_shed_threshold', '0'],
      /alerter_queue_shed_threshold: "0": expected at least ALERTER_BATCH_SIZE \(500\); 0 would defer or shed every batch/,
      65,
    ],
    [['set', 'no_such_key', '1'], /unknown key "no_such_key"; known keys: cache_reload_interval, /, 64],
    [['get', 'no_such_key'], /unknown key/, 64],
    [['set', 'cache_reload_interval'], /a value is required/, 64],
    // SLO objectives are fractions strictly between 0 and 1.
    [
      ['set', 'slo_ingest_success_target', '1.5'],
      /slo_ingest_success_target: "1.5" is not a number between 0 and 1, both excluded/,
      65,
    ],
    [['set', 'slo_ingest_success_target', '1'], /"1" is not a number between 0 and 1/, 65],
    [
      ['set', 'slo_forward_success_target', '0'],
      /slo_forward_success_target: "0" is not a number between 0 and 1/,
      65,
    ],
    [
      ['set', 'slo_forward_success_target', '99.5'],
      /"99.5" is not a number between 0 and 1, both excluded \(0.99 is 99%\)/,
      65,
    ],
    [['set', 'slo_forward_success_target', '--', '-0.5'], /"-0.5" is not a number between 0 and 1/, 65],
    [['set', 'slo_window_hours', '0'], /slo_window_hours: "0" is not an integer of hours from 1 to 720/, 65],
  ])('refuses %j with a precise message and a sysexits code, writing nothing', async (args, msg, code) => {
    const r = mutt(args);
    // EX_DATAERR (65) for a value that does not validate, EX_USAGE (64) for a wrong command line.
    expect(r.status).toBe(code);
    expect(r.stderr).toMatch(msg);
    expect(await svc.redis.keys(`${svc.keys.prefix}:config:*`)).toEqual([]);
  });

  it('shows an invalid value stored by another tool, and the static value that applies', async () => {
    await svc.redis.set(svc.keys.config('unhandled_expiry_seconds'), 'forever');
    try {
      const r = JSON.parse(mutt(['get', 'unhandled_expiry_seconds', '--json']).stdout);
      expect(r).toMatchObject({ value: '86400', source: 'invalid in redis, static used', stored: 'forever' });
    } finally {
      await svc.redis.del(svc.keys.config('unhandled_expiry_seconds'));
    }
  });
});
