import { describe, expect, it } from 'vitest';
import { muttAlert, pythonAlert } from '../../../test/fixtures/alerts.ts';
import { describeEntry, isShed, lowWaterMark, matches, replayForm } from './dlq.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const opts: { maxPoison: number; now: Date; force?: boolean } = { maxPoison: 3, now: NOW };
const form = (item: unknown, from: 'moog' | 'alerter' | 'dead', o = opts) => {
  const f = replayForm(typeof item === 'string' ? item : JSON.stringify(item), from, o);
  return {
    to: f.to,
    item: (() => {
      try {
        return JSON.parse(f.item);
      } catch {
        return f.item;
      }
    })(),
  };
};

describe('replayForm', () => {
  const moogDlqItem = (over: Record<string, unknown> = {}) => ({
    ...pythonAlert(1),
    _moog_retry_count: 5,
    _dlq_reason: 'HTTP 400 from Moogsoft: bad',
    _dlq_code: 'rejected',
    _dlq_status: 400,
    _failed_at: '2026-11-24T11:00:00.000Z',
    ...over,
  });

  it('moog DLQ → alert queue: retry count reset, replay counted, DLQ fields dropped', () => {
    const f = form(moogDlqItem(), 'moog');
    expect(f.to).toBe('alert_queue');
    expect(f.item).toMatchObject({
      _moog_retry_count: 0,
      _replay_count: 1,
      _last_dlq_reason: 'HTTP 400 from Moogsoft: bad',
      hostname: 'router1',
    });
    for (const k of ['_dlq_reason', '_dlq_code', '_dlq_status', '_failed_at'])
      expect(f.item).not.toHaveProperty(k);
  });

  // Each row: the item, where it is, → where it goes.
  const rows: [string, unknown, 'moog' | 'alerter' | 'dead', string, Record<string, unknown> | string][] = [
    ['a second replay', moogDlqItem({ _replay_count: 1 }), 'moog', 'alert_queue', { _replay_count: 2 }],
    [
      'the last allowed replay',
      moogDlqItem({ _replay_count: 2 }),
      'moog',
      'alert_queue',
      { _replay_count: 3 },
    ],
    [
      'poison: replayed MAX_POISON_RETRIES times',
      moogDlqItem({ _replay_count: 3 }),
      'moog',
      'dead',
      {
        _dead_from: 'moog',
        _dead_reason: 'replayed 3 times (MAX_POISON_RETRIES=3); last failure: HTTP 400 from Moogsoft: bad',
        _dead_at: NOW.toISOString(),
      },
    ],
    [
      'an item that was not JSON',
      { _raw: 'garbage', _dlq_code: 'invalid_json', _dlq_reason: 'not JSON' },
      'moog',
      'dead',
      { _raw: 'garbage', _dead_from: 'moog' },
    ],
    [
      'an object that is not an alert',
      { foo: 1, _dlq_code: 'invalid_alert', _dlq_reason: 'missing "hostname"' },
      'moog',
      'dead',
      { foo: 1, _dead_reason: 'never deliverable (invalid_alert): missing "hostname"' },
    ],
    ['a DLQ item that is not JSON itself', 'not json', 'moog', 'dead', { _raw: 'not json' }],
    [
      'alerter DLQ → ingest queue',
      {
        hostname: 'h',
        message: 'm',
        timestamp: 't',
        _retry_count: 4,
        _dlq_reason: 'poison',
        _failed_at: 'x',
      },
      'alerter',
      'ingest_queue',
      { hostname: 'h', _retry_count: 0, _replay_count: 1 },
    ],
    [
      'a shed event',
      { hostname: 'h', message: 'm', timestamp: 't', shedding_reason: 'queue over 2000' },
      'alerter',
      'ingest_queue',
      { _replay_count: 1 },
    ],
    [
      'alerter poison',
      { hostname: 'h', message: 'm', timestamp: 't', _replay_count: 3 },
      'alerter',
      'dead',
      { _dead_from: 'alerter' },
    ],
    [
      'dead (from moog) → alert queue, budget reset',
      { ...pythonAlert(2), _replay_count: 3, _dead_from: 'moog', _dead_reason: 'r', _dead_at: 't' },
      'dead',
      'alert_queue',
      { _replay_count: 0, _moog_retry_count: 0, hostname: 'router2' },
    ],
    [
      'dead (from alerter) → ingest queue',
      { hostname: 'h', message: 'm', timestamp: 't', _replay_count: 3, _dead_from: 'alerter' },
      'dead',
      'ingest_queue',
      { _replay_count: 0, _retry_count: 0 },
    ],
    [
      'dead, origin unknown, alert-shaped → alert queue',
      { ...muttAlert(1), _dead_reason: 'r' },
      'dead',
      'alert_queue',
      { hostname: 'core-sw1' },
    ],
    [
      'dead, a non-JSON item → its original text',
      { _raw: 'garbage', _dead_from: 'moog', _dead_reason: 'r' },
      'dead',
      'alert_queue',
      'garbage',
    ],
  ];
  for (const [name, item, from, to, want] of rows) {
    it(`${name} → ${to}`, () => {
      const f = form(item, from);
      expect(f.to).toBe(to);
      if (typeof want === 'string') expect(f.item).toBe(want);
      else expect(f.item).toMatchObject(want);
      if (to !== 'dead' && typeof f.item === 'object')
        for (const k of Object.keys(f.item)) expect(k).not.toMatch(/^_dead_/);
    });
  }

  // What a Python MUTT 2.x forwarder leaves in mutt:dlq:moog: the alert with its retry count and the
  // Moogsoft key it copied in; no _dlq_reason, _dlq_code or _replay_count.
  const pythonDlqItem = { ...pythonAlert(4), _moog_retry_count: 6, moog_api_key: 'k-7f2a' };

  it('a Python DLQ item (only _moog_retry_count) is replayed, counted from 0, without the copied key', () => {
    const e = describeEntry(JSON.stringify(pythonDlqItem), 0);
    expect(e).toMatchObject({ reason: undefined, code: undefined, replayCount: 0, hostname: 'router4' });
    const f = form(pythonDlqItem, 'moog');
    expect(f.to).toBe('alert_queue');
    expect(f.item).toMatchObject({ _moog_retry_count: 0, _replay_count: 1, hostname: 'router4' });
    expect(f.item).not.toHaveProperty('moog_api_key');
    expect(f.item).not.toHaveProperty('_last_dlq_reason');
  });

  it('a Python item an operator sends back from the dead list loses the copied key too', () => {
    const f = form({ ...pythonDlqItem, _dead_from: 'moog', _dead_reason: 'r' }, 'dead');
    expect(f.to).toBe('alert_queue');
    expect(f.item).not.toHaveProperty('moog_api_key');
  });

  it('--force replays poison with a fresh budget', () => {
    const f = form(moogDlqItem({ _replay_count: 7 }), 'moog', { ...opts, force: true });
    expect(f).toMatchObject({ to: 'alert_queue', item: { _replay_count: 1 } });
  });
});

describe('filters', () => {
  const e = describeEntry(
    JSON.stringify({
      ...pythonAlert(3),
      _dlq_reason: 'HTTP 401 from Moogsoft',
      _dlq_code: 'auth',
      _failed_at: '2026-11-24T12:00:00.000Z',
    }),
    0,
  );
  const rows: [string, Parameters<typeof matches>[1], boolean][] = [
    ['no filter', {}, true],
    ['reason text', { reason: '401' }, true],
    ['reason code, any case', { reason: 'AUTH' }, true],
    ['other reason', { reason: 'timeout' }, false],
    ['host', { host: 'router3' }, true],
    ['other host', { host: 'router4' }, false],
    ['since before', { since: new Date('2026-11-24T11:00:00Z') }, true],
    ['since after', { since: new Date('2026-11-24T13:00:00Z') }, false],
    ['all together', { reason: 'auth', host: 'router3', since: new Date('2026-11-24T12:00:00Z') }, true],
  ];
  for (const [name, f, want] of rows) it(`${name} → ${want}`, () => expect(matches(e, f)).toBe(want));
});

describe('isShed', () => {
  const rows: [string, unknown, boolean][] = [
    ['MUTT shed event', { hostname: 'h', _dlq_code: 'shed', shedding_reason: 'x' }, true],
    ['Python MUTT shed event', { hostname: 'h', shedding_reason: 'queue full' }, true],
    ['poison', { _raw: 'x', _dlq_code: 'invalid_json', _dlq_reason: 'not JSON' }, false],
    ['missing field', { message: 'm', _dlq_code: 'missing_field' }, false],
    ['retries exhausted', { hostname: 'h', _dlq_code: 'retries_exhausted' }, false],
    ['not JSON at all', 'garbage', false],
  ];
  for (const [name, item, want] of rows)
    it(`${name} → ${want}`, () => {
      expect(isShed(describeEntry(typeof item === 'string' ? item : JSON.stringify(item), 0))).toBe(want);
    });

  it('the low-water mark is half the shed threshold', () => {
    expect(lowWaterMark(100_000)).toBe(50_000);
    expect(lowWaterMark(501)).toBe(250);
  });
});
