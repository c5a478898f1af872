// The forwarder and remediation in real `mutt` processes (MUTT_ROLES=forwarder[,remediation]) against
// the harness Redis and the mock Moogsoft, with alerts placed on the alert queue exactly as Python
// MUTT 2.x and MUTT alerters write them. Every test counts: each alert ends delivered or in a DLQ.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { muttAlert, pythonAlert } from './fixtures/alerts.ts';
import { census, metric, pushAlerts, scenario, until } from './harness/forwarding.ts';
import { fail, MockMoogsoft, ok } from './harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices({ database: false });
  mock = await MockMoogsoft.start({ auth: { bearer: 'fwd-key-51c2' } });
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
  }
  mock.respond(ok());
  mock.respondToHealth(undefined);
  mock.rejectEvents(() => false);
  mock.clear();
});
afterAll(async () => {
  await mock.close();
  await svc.cleanup();
});

const moog = () => ({ MOOG_WEBHOOK_URL: mock.url, MOOG_API_KEY: 'fwd-key-51c2' });
const start = async (env: Record<string, string>) => {
  const p = startMutt(env);
  procs.push(p);
  await p.running();
  await p.waitForMessage('forwarder started');
  return p;
};
const alerts = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => (i % 2 ? muttAlert(from + i) : pythonAlert(from + i)));
const idsOf = (xs: Record<string, unknown>[]) => xs.map((a) => a._correlation_id as string);

describe('forwarding', () => {
  it('delivers every alert, Python- and MUTT-shaped, in batches of MOOG_BATCH_SIZE with valid payloads (two workers)', async () => {
    const s = await scenario(svc, { ...moog(), FORWARDER_WORKERS: '2' });
    await start(s.env);
    const input = alerts(1000);
    await pushAlerts(svc.redis, s.keys, input);
    await mock.until(() => mock.uniqueAcceptedIds().size === 1000, 30_000, 'all alerts accepted');
    expect(mock.invalid()).toEqual([]);
    expect([...mock.uniqueAcceptedIds()].sort()).toEqual(idsOf(input).sort());
    expect(mock.duplicates()).toBe(0);
    const sizes = mock.posts().map((r) => r.ids.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.filter((n) => n === 100).length).toBeGreaterThanOrEqual(5);
    // The Moogsoft fields of one alert of each kind.
    const byId = new Map(mock.acceptedEvents().map((e) => [e.external_id, e]));
    expect(byId.get('py-000000')).toMatchObject({
      source: 'router0',
      class: 'NETO',
      severity: 2,
      manager: 'MUTT',
    });
    expect(byId.get('mutt-000001')).toMatchObject({
      source: 'core-sw1',
      signature: 'core-sw1:7',
      severity: 4,
      type: 'OSPF',
    });
    await until(async () => (await census(svc.redis, s.keys)).inHand === 0, 5000, 'processing lists empty');
    expect(await census(svc.redis, s.keys)).toEqual({ queue: 0, dlq: 0, dead: 0, inHand: 0 });
    expect(await metric(s.port, 'mutt_moog_alerts_processed_total', 'status="success"')).toBe(1000);
    expect(await metric(s.port, 'mutt_moog_dlq_depth')).toBe(0);
  });

  it('counts 202 Accepted as delivered (Python MUTT dead-letters it)', async () => {
    const s = await scenario(svc, moog());
    mock.respond(ok(202));
    await start(s.env);
    await pushAlerts(svc.redis, s.keys, alerts(300));
    await mock.until(() => mock.uniqueAcceptedIds().size === 300, 20_000, 'all alerts accepted');
    await until(async () => (await census(svc.redis, s.keys)).inHand === 0, 5000, 'processing lists empty');
    expect(await census(svc.redis, s.keys)).toEqual({ queue: 0, dlq: 0, dead: 0, inHand: 0 });
  });

  it('400: dead-letters exactly the bad alerts with the status and an excerpt; delivers the rest of their batch', async () => {
    const s = await scenario(svc, moog());
    mock.rejectEvents((e) => e.source === 'bad-host');
    await start(s.env);
    const input = alerts(200).map((a, i) =>
      i === 17 || i === 18 || i === 150 ? { ...a, hostname: 'bad-host' } : a,
    );
    await pushAlerts(svc.redis, s.keys, input);
    await until(
      async () => (await census(svc.redis, s.keys)).dlq === 3 && mock.uniqueAcceptedIds().size === 197,
      20_000,
      'settled',
    );
    const dlq = (await svc.redis.lrange(s.keys.moogDlq, 0, -1)).map((x) => JSON.parse(x));
    expect(dlq.map((d) => d._correlation_id).sort()).toEqual(['mutt-000017', 'py-000018', 'py-000150']);
    for (const d of dlq) {
      expect(d).toMatchObject({ hostname: 'bad-host', _dlq_code: 'rejected', _dlq_status: 400 });
      expect(d._dlq_reason).toMatch(/^HTTP 400 from Moogsoft: .*Invalid event\(s\): /);
      expect(d._dlq_reason.length).toBeLessThan(400);
      expect(JSON.stringify(d)).not.toContain('fwd-key-51c2');
    }
    expect(mock.duplicates()).toBe(0);
    expect(await metric(s.port, 'mutt_moog_dlq_writes_total', 'reason="rejected"')).toBe(3);
  });

  it('waits for a slot when the shared rate limit is used up by another node, and drops nothing (Python MUTT drops)', async () => {
    const s = await scenario(svc, {
      ...moog(),
      MOOG_RATE_LIMIT: '10',
      MOOG_BATCH_SIZE: '1',
      MOOG_MAX_IN_FLIGHT: '2',
    });
    // A Python MUTT node has just used this second's whole budget (one member per request, ms scores).
    const now = Date.now();
    await svc.redis.zadd(
      s.keys.moogRateLimit,
      ...Array.from({ length: 10 }, (_, i) => [now, `python-pod:${i}`]).flat(),
    );
    await start(s.env);
    const input = alerts(30);
    await pushAlerts(svc.redis, s.keys, input);
    await mock.until(() => mock.uniqueAcceptedIds().size === 30, 20_000, 'all alerts accepted');
    expect(await census(svc.redis, s.keys)).toMatchObject({ dlq: 0, dead: 0 });
    expect(await metric(s.port, 'mutt_moog_rate_limit_hits_total')).toBeGreaterThan(0);
    // 30 requests at 10/s, the first second already spent: at least 2 s. The limiter admits at most 10
    // in any second of Redis time; arrival times at the mock add a few milliseconds of jitter.
    const at = mock.posts().map((r) => r.at);
    expect(at.at(-1)! - now).toBeGreaterThanOrEqual(2000);
    for (const t of at) expect(at.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(12);
  });
});

describe('Moogsoft outages', () => {
  it('503 for a while, then recovery: every alert delivered, none in a DLQ, duplicates bounded', async () => {
    const s = await scenario(svc, { ...moog(), CIRCUIT_BREAKER_THRESHOLD: '5' });
    const outageEnds = Date.now() + 5000;
    mock.respond(() => (Date.now() < outageEnds ? fail(503, 'maintenance') : undefined));
    await start(s.env);
    const input = alerts(2000);
    await pushAlerts(svc.redis, s.keys, input);
    await mock.until(() => mock.uniqueAcceptedIds().size === 2000, 60_000, 'all alerts accepted');
    expect([...mock.uniqueAcceptedIds()].sort()).toEqual(idsOf(input).sort());
    await until(async () => (await census(svc.redis, s.keys)).inHand === 0, 10_000, 'processing lists empty');
    expect(await census(svc.redis, s.keys)).toEqual({ queue: 0, dlq: 0, dead: 0, inHand: 0 });
    // A 503 accepts nothing, so nothing was delivered twice; the bound is what one worker holds.
    expect(mock.duplicates()).toBeLessThanOrEqual(400);
    expect(mock.invalid()).toEqual([]);
    // The breaker kept the outage from burning through the alerts' retries.
    expect(
      await metric(s.port, 'mutt_circuit_breaker_transitions_total', 'from="CLOSED",to="OPEN"'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metric(s.port, 'mutt_circuit_breaker_transitions_total', 'from="HALF_OPEN",to="CLOSED"'),
    ).toBe(1);
    const failed = mock.posts().filter((r) => r.answer === 503).length;
    expect(failed).toBeLessThan(5 + 10); // threshold, then about one probe per 2 s of outage
  });

  it('a transient fault never dead-letters: past MOOG_MAX_RETRIES an alert keeps being retried and is reported', async () => {
    const s = await scenario(svc, {
      ...moog(),
      MOOG_MAX_RETRIES: '1',
      CIRCUIT_BREAKER_THRESHOLD: '1000',
      MOOG_BATCH_SIZE: '5',
    });
    mock.next(12, fail(503));
    const p = await start(s.env);
    await pushAlerts(svc.redis, s.keys, alerts(5));
    await mock.until(() => mock.uniqueAcceptedIds().size === 5, 30_000, 'all alerts accepted');
    expect(await census(svc.redis, s.keys)).toMatchObject({ dlq: 0, dead: 0 });
    expect(await metric(s.port, 'mutt_moog_retries_exhausted_total')).toBeGreaterThanOrEqual(5);
    await p.waitForMessage(
      'alert still not delivered after MOOG_MAX_RETRIES retries; retrying at most MOOG_RETRY_MAX_DELAY apart',
    );
  });

  it('MOOG_RETRY_EXHAUSTED_MODE=dlq dead-letters after MOOG_MAX_RETRIES, as MUTT 2.x does', async () => {
    const s = await scenario(svc, {
      ...moog(),
      MOOG_MAX_RETRIES: '1',
      MOOG_RETRY_EXHAUSTED_MODE: 'dlq',
      CIRCUIT_BREAKER_THRESHOLD: '1000',
      MOOG_BATCH_SIZE: '5',
    });
    mock.respond(fail(503));
    await start(s.env);
    await pushAlerts(svc.redis, s.keys, alerts(5));
    await until(async () => (await census(svc.redis, s.keys)).dlq === 5, 30_000, 'five alerts dead-lettered');
    const item = JSON.parse((await svc.redis.lindex(s.keys.moogDlq, 0))!);
    expect(item).toMatchObject({
      _dlq_code: 'retries_exhausted',
      _dlq_reason: expect.stringMatching(/^gave up after 2 attempts \(MOOG_MAX_RETRIES=1\); last: HTTP 503/),
    });
  });

  it('the breaker opens at the threshold, holds alerts without spending retries, and closes after a good probe', async () => {
    const s = await scenario(svc, {
      ...moog(),
      CIRCUIT_BREAKER_THRESHOLD: '3',
      CIRCUIT_BREAKER_TIMEOUT: '2',
      MOOG_BATCH_SIZE: '1',
      MOOG_MAX_IN_FLIGHT: '1',
      MOOG_RETRY_BASE_DELAY: '5',
      MOOG_RETRY_MAX_DELAY: '5',
    });
    mock.respond(fail(503));
    await start(s.env);
    await pushAlerts(svc.redis, s.keys, alerts(20));
    await until(async () => (await svc.redis.get(s.keys.breakerState)) === 'OPEN', 10_000, 'breaker open');
    expect(mock.posts()).toHaveLength(3);
    expect(await svc.redis.get(s.keys.breakerFailures)).toBe('3');
    expect(await metric(s.port, 'mutt_circuit_breaker_state')).toBe(1);
    // Open: nothing is sent until the timeout (at least three quarters of CIRCUIT_BREAKER_INITIAL_TIMEOUT,
    // 2 s); then exactly one probe, which fails again.
    await new Promise((r) => setTimeout(r, 1200));
    expect(mock.posts()).toHaveLength(3);
    await mock.until(() => mock.posts().length === 4, 5000, 'the probe');
    await new Promise((r) => setTimeout(r, 300));
    expect(await svc.redis.get(s.keys.breakerState)).toBe('OPEN');
    expect(mock.posts()).toHaveLength(4);
    mock.respond(ok());
    await mock.until(() => mock.uniqueAcceptedIds().size === 20, 20_000, 'all alerts accepted');
    expect(await svc.redis.get(s.keys.breakerState)).toBe('CLOSED');
    expect(await census(svc.redis, s.keys)).toMatchObject({ dlq: 0, dead: 0 });
    // Only the three requests that opened the breaker cost a retry; the failed probe cost none.
    expect(await metric(s.port, 'mutt_moog_alerts_processed_total', 'status="retry"')).toBe(3);
    expect(mock.duplicates()).toBe(0);
    expect(await metric(s.port, 'mutt_circuit_breaker_transitions_total', 'from="HALF_OPEN",to="OPEN"')).toBe(
      1,
    );
    expect(
      await metric(s.port, 'mutt_circuit_breaker_transitions_total', 'from="HALF_OPEN",to="CLOSED"'),
    ).toBe(1);
    expect(await metric(s.port, 'mutt_circuit_breaker_state')).toBe(0);
  });
});

describe('crashes and stops', () => {
  it('SIGKILL in the middle of batches loses nothing: a second process recovers and delivers everything', async () => {
    const s = await scenario(svc, { ...moog(), MOOG_BATCH_SIZE: '50' });
    mock.respond(ok(200, { delayMs: 150 }));
    const first = await start(s.env);
    const input = alerts(3000);
    await pushAlerts(svc.redis, s.keys, input);
    await mock.until(() => mock.acceptedIds().length >= 400, 30_000, 'some deliveries');
    first.kill('SIGKILL');
    await first.exited();
    const before = await census(svc.redis, s.keys);
    expect(before.inHand).toBeGreaterThan(0); // it died holding alerts
    mock.respond(ok());
    await start({ ...s.env, SERVER_PORT_INGESTOR: '0' });
    await mock.until(() => mock.uniqueAcceptedIds().size === 3000, 60_000, 'all alerts accepted');
    expect([...mock.uniqueAcceptedIds()].sort()).toEqual(idsOf(input).sort());
    await until(async () => (await census(svc.redis, s.keys)).inHand === 0, 10_000, 'processing lists empty');
    expect(await census(svc.redis, s.keys)).toEqual({ queue: 0, dlq: 0, dead: 0, inHand: 0 });
    // At most what the killed worker held (MOOG_BATCH_SIZE × MOOG_MAX_IN_FLIGHT) arrives twice.
    expect(mock.duplicates()).toBeLessThanOrEqual(200);
  });

  it('SIGTERM finishes the requests in flight and returns every other alert to the queue', async () => {
    const s = await scenario(svc, { ...moog(), MOOG_BATCH_SIZE: '20' });
    mock.respond(ok(200, { delayMs: 400 }));
    const p = await start(s.env);
    await pushAlerts(svc.redis, s.keys, alerts(1000));
    await mock.until(() => mock.posts().length >= 4, 10_000, 'requests in flight');
    p.kill('SIGTERM');
    expect((await p.exited()).code).toBe(0);
    const c = await census(svc.redis, s.keys);
    expect(c.inHand).toBe(0);
    expect(await svc.redis.keys(`${s.keys.moogHeartbeat('*')}`)).toEqual([]);
    // Nothing lost: what Moogsoft accepted plus what waits in the queue is everything.
    expect(mock.uniqueAcceptedIds().size + c.queue).toBe(1000);
    expect(c.dlq).toBe(0);
  });
});

describe('remediation', () => {
  it('replays the Moogsoft DLQ once Moogsoft is healthy again; poison goes to the dead list', async () => {
    const s = await scenario(svc, {
      ...moog(),
      MUTT_ROLES: 'forwarder,remediation',
      MAX_POISON_RETRIES: '3',
    });
    const dlqItems = alerts(50).map((a, i) =>
      JSON.stringify({
        ...a,
        _moog_retry_count: 5,
        _dlq_reason: 'gave up after 6 attempts (MOOG_MAX_RETRIES=5); last: HTTP 503 from Moogsoft',
        _dlq_code: 'retries_exhausted',
        _failed_at: '2026-11-24T12:00:00.000Z',
        ...(i === 0 ? { _replay_count: 3 } : {}),
      }),
    );
    await svc.redis.lpush(s.keys.moogDlq, ...dlqItems);
    mock.respondToHealth(fail(503));
    await start(s.env);
    await until(
      async () => (await metric(s.port, 'mutt_remediation_health_checks_total', 'result="http_503"')) >= 2,
      15_000,
      'two failed probes',
    );
    expect(await svc.redis.llen(s.keys.moogDlq)).toBe(50);
    expect(await metric(s.port, 'mutt_remediation_moog_health')).toBe(0);
    expect(mock.posts()).toHaveLength(0);

    mock.respondToHealth(undefined);
    await mock.until(() => mock.uniqueAcceptedIds().size === 49, 20_000, 'replayed alerts delivered');
    expect(await census(svc.redis, s.keys)).toMatchObject({ dlq: 0, dead: 1, queue: 0 });
    expect(JSON.parse((await svc.redis.lindex(s.keys.deadLetter, 0))!)).toMatchObject({
      _dead_from: 'moog',
      _replay_count: 3,
    });
    expect(await metric(s.port, 'mutt_remediation_replayed_total')).toBe(49);
    expect(await metric(s.port, 'mutt_remediation_poison_messages_total')).toBe(1);
    expect(await metric(s.port, 'mutt_remediation_moog_health')).toBe(1);
    expect(mock.acceptedEvents()[0]).toMatchObject({ custom_info: expect.any(Object) });
  });
});

describe('without MOOG_WEBHOOK_URL', () => {
  it('writes alerts to the local JSON-lines file and says so in the log', async () => {
    const s = await scenario(svc);
    const p = await start(s.env);
    await pushAlerts(svc.redis, s.keys, alerts(10));
    const line = await p.waitForMessage(
      'alerts written to the local file sink (MOOG_WEBHOOK_URL is not set)',
    );
    expect(line.file).toBe(`${s.env.MUTT_DATA_DIR}/alerts.jsonl`);
    const { readFileSync } = await import('node:fs');
    await until(
      () =>
        readFileSync(line.file as string, 'utf8')
          .trim()
          .split('\n').length === 10,
      5000,
      'ten lines',
    );
    const events = readFileSync(line.file as string, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.external_id).sort()).toEqual(idsOf(alerts(10)).sort());
  });
});
