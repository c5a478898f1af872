// The parser thread against the main thread's own parsing: the same events, in the same order,
// and nothing lost when the thread fails with batches in hand.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../runtime/logging.ts';
import {
  Encoder,
  type Item,
  THREAD_OFF_UTILIZATION,
  THREAD_ON_UTILIZATION,
  threadPolicy,
} from './encoder.ts';
import { parserThreadUrl } from './index.ts';
import { type Frame, Intake } from './intake.ts';
import { SyslogTelemetry } from './metrics.ts';

const corpus = JSON.parse(readFileSync('test/fixtures/syslog/devices.json', 'utf8')) as {
  now: string;
  source_ip: string;
  cases: { raw: string }[];
};
const NOW = Date.parse(corpus.now);

const logLines: { level: number; msg: string }[] = [];
const log = createLogger({
  level: 'INFO',
  destination: new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) logLines.push(JSON.parse(l));
      cb();
    },
  }),
});

const open: Encoder[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});
const threaded = () => {
  const e = new Encoder({ threadUrl: parserThreadUrl(), threadWhen: 'always', tz: 'Europe/Paris', log });
  open.push(e);
  return e;
};
const intake = () => {
  const registry = new Registry();
  return { registry, intake: new Intake('udp', 'Europe/Paris', new SyslogTelemetry(registry, log)) };
};
const frame = (raw: string | Buffer, i = 0): Frame => ({
  buf: Buffer.isBuffer(raw) ? raw : Buffer.from(raw),
  truncated: i % 7 === 3,
  sourceIp: corpus.source_ip,
  fallbackHost: i % 2 === 0 ? corpus.source_ip : 'named.example',
  now: NOW + i,
});
/** Events without the random correlation id. */
const strip = (events: string[]) =>
  events.map((s) => {
    const { _correlation_id, ...rest } = JSON.parse(s) as Record<string, unknown>;
    expect(_correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    return rest;
  });

describe('Encoder', () => {
  it('builds on the parser thread exactly the events the main thread builds (device corpus, odd bytes)', async () => {
    const raws: (string | Buffer)[] = [
      ...corpus.cases.map((c) => c.raw),
      Buffer.from([0xff, 0xfe, 0x3c, 0x31, 0x33, 0x3e, 0x00]),
      '<999>Feb 30 10:00:00 host app: bad',
      '',
      'x'.repeat(3000),
    ];
    const frames = raws.map((r, i) => frame(r, i));
    const enc = threaded();
    expect(enc.threaded).toBe(true);
    const a = intake();
    const fromThread = await enc.encode(a.intake, frames);
    const b = intake();
    const inline = await new Encoder({ tz: 'Europe/Paris', log }).encode(b.intake, frames);
    expect(fromThread).toHaveLength(frames.length);
    expect(strip(fromThread)).toEqual(strip(inline));
    // Parse errors found on the thread are counted like those found on the main thread.
    a.intake.flush();
    b.intake.flush();
    const errors = async (r: Registry) =>
      (await r.getSingleMetric('mutt_syslog_parse_errors_total')!.get()).values[0]?.value ?? 0;
    expect(await errors(a.registry)).toBeGreaterThan(0);
    expect(await errors(a.registry)).toBe(await errors(b.registry));
  });

  it('keeps the order across many batches in flight, and events encoded before in their place', async () => {
    const enc = threaded();
    const { intake: i } = intake();
    const batches = Array.from({ length: 50 }, (_, b) =>
      Array.from({ length: 40 }, (_, k): Item => {
        const n = b * 40 + k;
        return k % 10 === 5 ? `{"pre":${n}}` : frame(`<13>Mar 10 12:00:00 h app: seq ${n}`, n);
      }),
    );
    // Every tenth batch holds only events encoded before: it must not overtake the ones on the thread.
    for (let b = 9; b < 50; b += 10) batches[b] = batches[b]!.map((_, k) => `{"pre":${b * 40 + k}}`);
    const resolved: string[][] = [];
    await Promise.all(batches.map((items) => enc.encode(i, items).then((events) => resolved.push(events))));
    const seq = resolved.flat().map((s) => {
      const e = JSON.parse(s) as { pre?: number; message?: string };
      return e.pre ?? Number(e.message!.split(' ')[1]);
    });
    expect(seq).toEqual(Array.from({ length: 2000 }, (_, n) => n));
  });

  it('parses on the calling thread, in order, when the thread is more than maxPendingFrames behind', async () => {
    let overflow = 0;
    const enc = new Encoder({
      threadUrl: parserThreadUrl(),
      threadWhen: 'always',
      tz: 'Europe/Paris',
      log,
      maxPendingFrames: 1000,
      onOverflow: (n) => (overflow += n),
    });
    open.push(enc);
    const { intake: i } = intake();
    const batches = Array.from({ length: 5 }, (_, b) =>
      Array.from({ length: 800 }, (_, k) => frame(`<13>Mar 10 12:00:00 h app: seq ${b * 800 + k}`, k)),
    );
    // All sent at once: the first goes to the thread, the next ones would pass the bound.
    const resolved: string[][] = [];
    await Promise.all(batches.map((items) => enc.encode(i, items).then((e) => resolved.push(e))));
    expect(overflow).toBeGreaterThanOrEqual(800);
    expect(enc.overflowBatches).toBeGreaterThanOrEqual(1);
    const seq = resolved
      .flat()
      .map((s) => Number((JSON.parse(s) as { message: string }).message.split(' ')[1]));
    expect(seq).toEqual(Array.from({ length: 4000 }, (_, n) => n));
    expect(logLines.some((l) => l.msg.includes('the syslog parser thread is behind'))).toBe(true);
  });

  it('parses the batches a failed thread held on the main thread, and goes on without it', async () => {
    const enc = threaded();
    const { intake: i } = intake();
    const n = 40_000;
    const items = Array.from({ length: n }, (_, k) => frame(`<13>Mar 10 12:00:00 h app: seq ${k}`, k));
    let onMain = 0;
    const encodeHere = i.encode.bind(i);
    i.encode = (f: Frame) => {
      onMain++;
      return encodeHere(f);
    };
    const inFlight = [enc.encode(i, items.slice(0, n / 2)), enc.encode(i, items.slice(n / 2))];
    // The thread dies with both batches in hand (each is some tens of milliseconds of work).
    void (enc as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const got = (await Promise.all(inFlight))
      .flat()
      .map((s) => (JSON.parse(s) as { message: string }).message);
    expect(got).toEqual(items.map((_, k) => `seq ${k}`));
    expect(onMain).toBeGreaterThanOrEqual(n / 2);
    expect(enc.threaded).toBe(false);
    expect(logLines.some((l) => l.msg.includes('the syslog parser thread failed'))).toBe(true);
    expect(await enc.encode(i, [frame('<13>Mar 10 12:00:00 h app: after', 1)])).toHaveLength(1);
  });

  it('parses on the main thread while it has room, on the thread while it is busy, in order across the switches', async () => {
    let utilization = 0.1;
    let clock = 0;
    const switches: boolean[] = [];
    const enc = new Encoder({
      threadUrl: parserThreadUrl(),
      tz: 'Europe/Paris',
      log,
      utilization: () => utilization,
      clock: () => (clock += 500),
      onThreadUse: (inUse, cause) => {
        expect(cause).toBe('policy');
        switches.push(inUse);
      },
    });
    open.push(enc);
    const { intake: i } = intake();
    let onMain = 0;
    const encodeHere = i.encode.bind(i);
    i.encode = (f: Frame) => {
      onMain++;
      return encodeHere(f);
    };
    let n = 0;
    const batch = () => Array.from({ length: 200 }, () => frame(`<13>Mar 10 12:00:00 h app: seq ${n}`, n++));
    const resolved: Promise<string[]>[] = [];
    // Idle main thread: parsed here.
    expect(enc.threaded).toBe(true);
    expect(enc.threadInUse).toBe(false);
    resolved.push(enc.encode(i, batch()));
    expect(onMain).toBe(200);
    // Busy: the next batches go to the thread.
    utilization = 0.9;
    enc.revisit();
    expect(enc.threadInUse).toBe(true);
    for (let k = 0; k < 5; k++) resolved.push(enc.encode(i, batch()));
    expect(onMain).toBe(200);
    // Less busy once the parsing moved off, but not enough to take it back: stays on the thread.
    utilization = THREAD_OFF_UTILIZATION;
    enc.revisit();
    expect(enc.threadInUse).toBe(true);
    // Room again: back on the main thread, while batches are still on the thread.
    resolved.push(enc.encode(i, batch()));
    utilization = 0.01;
    enc.revisit();
    expect(enc.threadInUse).toBe(false);
    resolved.push(enc.encode(i, batch()));
    expect(onMain).toBe(400);
    const seq = (await Promise.all(resolved))
      .flat()
      .map((s) => Number((JSON.parse(s) as { message: string }).message.split(' ')[1]));
    expect(seq).toEqual(Array.from({ length: n }, (_, k) => k));
    expect(switches).toEqual([true, false]);
  });

  it('threadPolicy: moves parsing off a busy main thread and back once it would have room', () => {
    const cases: [inUse: boolean, utilization: number, parseShare: number, expected: boolean][] = [
      [false, 0.2, 0, false],
      [false, THREAD_ON_UTILIZATION, 0, false],
      [false, THREAD_ON_UTILIZATION + 0.01, 0, true],
      [false, 1, 0, true],
      [true, 0.9, 0.3, true],
      // Parsing back on the main thread would bring it to 0.6: stays on the thread.
      [true, 0.3, 0.3, true],
      [true, THREAD_OFF_UTILIZATION - 0.2, 0.19, false],
      [true, 0.05, 0.01, false],
    ];
    for (const [inUse, u, share, expected] of cases)
      expect(threadPolicy(inUse, u, share), `${inUse} ${u} ${share}`).toBe(expected);
  });

  it('says the thread is no longer in use when it fails while in use', async () => {
    const switches: [boolean, string][] = [];
    const enc = new Encoder({
      threadUrl: parserThreadUrl(),
      tz: 'Europe/Paris',
      log,
      utilization: () => 0.9,
      onThreadUse: (inUse, cause) => switches.push([inUse, cause]),
    });
    open.push(enc);
    enc.revisit();
    expect(enc.threadInUse).toBe(true);
    const { intake: i } = intake();
    const held = enc.encode(i, [frame('<13>Mar 10 12:00:00 h app: held', 1)]);
    await (enc as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    expect((await held).map((s) => (JSON.parse(s) as { message: string }).message)).toEqual(['held']);
    await vi.waitFor(() => expect(enc.threaded).toBe(false));
    expect(enc.threadInUse).toBe(false);
    expect(switches).toEqual([
      [true, 'policy'],
      [false, 'thread_failed'],
    ]);
    // The policy no longer switches to a thread that is gone.
    enc.revisit();
    expect(switches).toHaveLength(2);
    expect(await enc.encode(i, [frame('<13>Mar 10 12:00:00 h app: after', 2)])).toHaveLength(1);
  });
});
