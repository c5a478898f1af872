// The Moogsoft sink against the mock Moogsoft server: authentication modes, payload modes, TLS with a
// private CA, and every kind of answer (each row a test).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonAlert } from '../../../../test/fixtures/alerts.ts';
import {
  type Behaviour,
  fail,
  type MockMoogsoftOptions,
  MockMoogsoft,
  ok,
} from '../../../../test/harness/mock-moogsoft.ts';
import { makePki, type TestPki } from '../../../../test/harness/tls.ts';
import { loadConfig } from '../../../runtime/config/load.ts';
import { type Alert, parseAlert } from '../../alert.ts';
import type { MoogAuth, MoogsoftOptions } from './config.ts';
import { moogsoftOptions } from './config.ts';
import { MoogsoftSink } from './index.ts';

const KEY = 'moog-key-2b7c4e91';
const alerts = (n: number, from = 0): Alert[] =>
  Array.from({ length: n }, (_, i) => {
    const p = parseAlert(JSON.stringify(pythonAlert(from + i)));
    if (!p.ok) throw new Error(p.reason);
    return p.alert;
  });

const options = (url: string, over: Partial<MoogsoftOptions> = {}): MoogsoftOptions => ({
  url,
  payload: 'batch',
  batchSize: 100,
  timeoutMs: 1500,
  auth: { mode: 'bearer', token: KEY },
  tlsVerify: true,
  maxSockets: 4,
  agentLocation: 'test-node',
  defaultTeam: 'NETO',
  maxResponseBytes: 64 * 1024,
  ...over,
});

const mocks: MockMoogsoft[] = [];
const sinks: MoogsoftSink[] = [];
async function setup(mockOpts: MockMoogsoftOptions, over: Partial<MoogsoftOptions> = {}) {
  const mock = await MockMoogsoft.start(mockOpts);
  mocks.push(mock);
  const sink = new MoogsoftSink(options(mock.url, over));
  sinks.push(sink);
  return { mock, sink };
}
afterAll(async () => {
  for (const s of sinks) await s.close();
  for (const m of mocks) await m.close();
});

describe('authentication', () => {
  const rows: [string, MoogAuth, MockMoogsoftOptions['auth']][] = [
    ['none', { mode: 'none' }, undefined],
    ['Bearer token', { mode: 'bearer', token: KEY }, { bearer: KEY }],
    ['basic', { mode: 'basic', user: 'mutt', password: KEY }, { basic: { user: 'mutt', password: KEY } }],
    ['REST LAM auth_token', { mode: 'auth_token', token: KEY }, { authToken: KEY }],
    ['Moogsoft Cloud apiKey header', { mode: 'apikey', key: KEY }, { apiKey: KEY }],
  ];
  for (const [name, auth, want] of rows) {
    it(`${name}: accepted with the right credential`, async () => {
      const { mock, sink } = await setup({ auth: want }, { auth });
      const r = await sink.send(alerts(3));
      expect(r.outcomes.map((o) => o.kind)).toEqual(['delivered', 'delivered', 'delivered']);
      expect(mock.invalid()).toEqual([]);
    });
  }

  it('a wrong credential is a rejection (auth) that never quotes the credential', async () => {
    const { sink } = await setup({ auth: { bearer: 'the-right-one' } });
    const r = await sink.send(alerts(2));
    expect(r.reason).toBe('auth');
    expect(r.breaker).toBe('neutral');
    for (const o of r.outcomes) {
      expect(o).toMatchObject({ kind: 'reject', reason: 'auth', status: 401, auth: true });
      if (o.kind === 'reject') {
        expect(o.detail).toMatch(/^HTTP 401 from Moogsoft/);
        expect(o.detail).not.toContain(KEY);
      }
    }
  });

  it('a credential the server echoes back is blanked in the excerpt', async () => {
    const { mock, sink } = await setup({});
    mock.next(1, fail(400, `bad request from token ${KEY}`));
    const r = await sink.send(alerts(1));
    const o = r.outcomes[0]!;
    expect(o.kind).toBe('reject');
    if (o.kind === 'reject') {
      expect(o.detail).toContain('[redacted]');
      expect(o.detail).not.toContain(KEY);
    }
  });

  it('options name the variable that is missing', () => {
    const base = {
      MOOG_WEBHOOK_URL: 'https://moog.example/events',
      MOOG_HEALTH_URL: undefined,
      MOOG_PAYLOAD_MODE: 'batch' as const,
      MOOG_BATCH_SIZE: 100,
      MOOG_WEBHOOK_TIMEOUT: 10,
      MOOG_API_KEY: undefined,
      MOOG_USERNAME: undefined,
      MOOG_CA_FILE: undefined,
      MOOG_TLS_VERIFY: true,
      MOOG_MAX_IN_FLIGHT: 4,
      UNHANDLED_DEFAULT_TEAM: 'NETO',
    };
    expect(() => moogsoftOptions({ ...base, MOOG_AUTH_MODE: 'bearer' })).toThrow(
      /MOOG_AUTH_MODE="bearer": needs MOOG_API_KEY/,
    );
    expect(() => moogsoftOptions({ ...base, MOOG_AUTH_MODE: 'basic', MOOG_API_KEY: 'k' })).toThrow(
      /needs MOOG_USERNAME/,
    );
    expect(moogsoftOptions({ ...base, MOOG_AUTH_MODE: undefined }).auth).toEqual({ mode: 'none' });
    expect(moogsoftOptions({ ...base, MOOG_AUTH_MODE: undefined, MOOG_API_KEY: 'k' }).auth).toEqual({
      mode: 'bearer',
      token: 'k',
    });
    expect(
      moogsoftOptions({ ...base, MOOG_AUTH_MODE: undefined, MOOG_PAYLOAD_MODE: 'single' }).batchSize,
    ).toBe(1);
  });
});

describe('payload modes', () => {
  it('batch: one request {"events":[…]} for the whole batch', async () => {
    const { mock, sink } = await setup({ payload: 'batch' });
    expect(sink.maxBatch).toBe(100);
    await sink.send(alerts(5));
    expect(mock.posts()).toHaveLength(1);
    expect(mock.posts()[0]!.ids).toHaveLength(5);
    expect(mock.invalid()).toEqual([]);
  });

  it('single: one event object per request, as Python MUTT 2.x sends', async () => {
    const { mock, sink } = await setup({ payload: 'single' }, { payload: 'single', batchSize: 1 });
    expect(sink.maxBatch).toBe(1);
    const r = await sink.send(alerts(1, 40));
    expect(r.outcomes).toEqual([{ kind: 'delivered' }]);
    expect(mock.posts()[0]!.events[0]).toMatchObject({ external_id: 'py-000040', source: 'router40' });
    expect(mock.invalid()).toEqual([]);
  });

  it('auth_token travels in the body of both modes, never inside an event', async () => {
    for (const payload of ['batch', 'single'] as const) {
      const { mock, sink } = await setup(
        { payload, auth: { authToken: KEY } },
        { payload, batchSize: payload === 'single' ? 1 : 100, auth: { mode: 'auth_token', token: KEY } },
      );
      expect((await sink.send(alerts(1))).outcomes).toEqual([{ kind: 'delivered' }]);
      expect(mock.invalid()).toEqual([]);
      if (payload === 'batch') expect(JSON.stringify(mock.acceptedEvents())).not.toContain(KEY);
    }
  });
});

describe('TLS', () => {
  let pki: TestPki;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mutt-pki-'));
    pki = makePki(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the server against MOOG_CA_FILE', async () => {
    const { mock, sink } = await setup({ tls: { key: pki.key, cert: pki.cert } }, { caFile: pki.caFile });
    expect(mock.url).toMatch(/^https:/);
    expect((await sink.send(alerts(2))).outcomes.map((o) => o.kind)).toEqual(['delivered', 'delivered']);
  });

  it('refuses a server signed by another CA (retried as a TLS failure, nothing delivered)', async () => {
    const { mock, sink } = await setup(
      { tls: { key: pki.key, cert: pki.cert } },
      { caFile: pki.otherCaFile },
    );
    const r = await sink.send(alerts(1));
    expect(r).toMatchObject({ reason: 'tls', breaker: 'failure' });
    expect(r.outcomes[0]).toMatchObject({ kind: 'retry', reason: 'tls' });
    expect(mock.requests).toHaveLength(0);
  });

  it('refuses a private CA by default (system CAs only)', async () => {
    const { sink } = await setup({ tls: { key: pki.key, cert: pki.cert } });
    expect((await sink.send(alerts(1))).reason).toBe('tls');
  });

  it('MOOG_TLS_VERIFY=false accepts it (diagnosis only)', async () => {
    const { sink } = await setup({ tls: { key: pki.key, cert: pki.cert } }, { tlsVerify: false });
    expect((await sink.send(alerts(1))).outcomes).toEqual([{ kind: 'delivered' }]);
  });
});

describe('answers', () => {
  // What the mock answers → what the sink reports for every alert of the request.
  const rows: [string, Behaviour, Record<string, unknown>, string[]?][] = [
    ['200', ok(200), { kind: 'delivered' }],
    ['202 Accepted (Python MUTT dead-letters it)', ok(202), { kind: 'delivered' }],
    ['204 without a body', { kind: 'status', status: 204 }, { kind: 'delivered' }],
    [
      '429 with Retry-After',
      fail(429, 'slow down', { headers: { 'Retry-After': '3' } }),
      { kind: 'retry', reason: 'http_429', retryAfterMs: 3000 },
    ],
    ['500', fail(500), { kind: 'retry', reason: 'http_500' }],
    [
      '503 with Retry-After',
      fail(503, 'maintenance', { headers: { 'Retry-After': '1' } }),
      { kind: 'retry', reason: 'http_503', retryAfterMs: 1000 },
    ],
    [
      '400',
      fail(400, 'Invalid event: severity'),
      {
        kind: 'reject',
        reason: 'http_400',
        status: 400,
        splittable: true,
        detail: 'HTTP 400 from Moogsoft: {"success":false,"message":"Invalid event: severity"}',
      },
    ],
    ['404', fail(404, 'no such LAM'), { kind: 'reject', reason: 'http_404', status: 404, splittable: false }],
    ['a reset connection', { kind: 'reset' }, { kind: 'retry', reason: 'connection_reset' }],
    ['a body that is not JSON (200)', { kind: 'invalid_json' }, { kind: 'delivered' }, ['invalid_json']],
    ['a 10 MB body (200)', { kind: 'huge' }, { kind: 'delivered' }, ['oversized']],
    [
      'a 10 MB body (500)',
      { kind: 'huge', status: 500 },
      { kind: 'retry', reason: 'http_500' },
      ['oversized'],
    ],
    ['an answer slower than the deadline', ok(200, { delayMs: 3000 }), { kind: 'retry', reason: 'timeout' }],
    ['no answer at all', { kind: 'hang' }, { kind: 'retry', reason: 'timeout' }],
  ];
  let mock: MockMoogsoft;
  let sink: MoogsoftSink;
  beforeAll(async () => {
    ({ mock, sink } = await setup({}));
  });
  for (const [name, behaviour, want, anomalies] of rows) {
    it(name, async () => {
      mock.respond(behaviour);
      const started = performance.now();
      const r = await sink.send(alerts(2));
      const took = performance.now() - started;
      for (const o of r.outcomes) expect(o).toMatchObject(want);
      expect(r.anomalies).toEqual(anomalies ?? []);
      // Bounded by the deadline (1.5 s), whatever the answer; the slack absorbs a busy machine.
      expect(took).toBeLessThan(5000);
      for (const o of r.outcomes) if (o.kind !== 'delivered') expect(o.detail.length).toBeLessThan(400);
    });
  }
  it('is ready for the next request after each of those', async () => {
    mock.respond(ok());
    expect((await sink.send(alerts(2))).outcomes.map((o) => o.kind)).toEqual(['delivered', 'delivered']);
  });
});

describe('health probe', () => {
  const rows: [string, string | undefined, Behaviour, boolean, string][] = [
    ['GET on the webhook answered 200', undefined, ok(), true, 'ok'],
    ['GET on the webhook answered 405 (POST only): up', undefined, fail(405), true, 'ok'],
    ['GET on the webhook answered 503', undefined, fail(503), false, 'http_503'],
    ['GET on the webhook answered 401', undefined, fail(401), false, 'auth'],
    ['GET on the webhook answered 429', undefined, fail(429), false, 'http_429'],
    ['MOOG_HEALTH_URL answered 200', '/health', ok(), true, 'ok'],
    ['MOOG_HEALTH_URL answered 405: not healthy', '/health', fail(405), false, 'http_405'],
    ['no answer', undefined, { kind: 'hang' }, false, 'timeout'],
  ];
  for (const [name, path, behaviour, healthy, reason] of rows) {
    it(name, async () => {
      const mock = await MockMoogsoft.start({});
      mocks.push(mock);
      const sink = new MoogsoftSink(
        options(mock.url, {
          healthUrl: path ? new URL(path, mock.url).toString() : undefined,
          timeoutMs: 500,
        }),
      );
      sinks.push(sink);
      mock.respondToHealth(behaviour);
      expect(await sink.probe()).toMatchObject({ healthy, reason });
      expect(mock.requests[0]).toMatchObject({ method: 'GET', path: path ?? '/events' });
      expect(mock.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    });
  }
});

describe('the README example', () => {
  it('is a valid configuration for this sink', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Forwarding alerts to Moogsoft'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const dir = mkdtempSync(join(tmpdir(), 'mutt-readme-'));
    const env: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const m = /^([A-Z_]+)=(\S+)/.exec(line);
      if (m) env[m[1]!] = m[2]!;
    }
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining(['MOOG_WEBHOOK_URL', 'MOOG_API_KEY_FILE', 'MOOG_AUTH_MODE']),
    );
    // The files it names exist on a real host; here they are stand-ins.
    writeFileSync(join(dir, 'key'), 'example-key\n');
    writeFileSync(join(dir, 'ca.pem'), 'not read by loadConfig');
    const r = loadConfig(
      { ...env, MOOG_API_KEY_FILE: join(dir, 'key'), MOOG_CA_FILE: join(dir, 'ca.pem') },
      { defaultEnvFile: '/nonexistent' },
    );
    rmSync(dir, { recursive: true, force: true });
    expect(r.problems).toEqual([]);
    const o = moogsoftOptions(r.config!);
    expect(o).toMatchObject({
      auth: { mode: 'bearer', token: 'example-key' },
      batchSize: 100,
      payload: 'batch',
    });
  });
});
