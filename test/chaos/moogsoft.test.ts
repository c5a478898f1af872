// Chaos: Moogsoft down, rejecting, flapping — with default settings, counting every event by id.
//   - 503 for 3 minutes (CI: 20 s) under HTTP load at 50 events/s, then 200: nothing dead-lettered,
//     delivery resumes within 10 s of Moogsoft answering again (the breaker's probes back off to 8 s);
//   - 400 for some alerts: exactly those go to mutt:dlq:moog, and `mutt dlq replay` delivers them
//     once Moogsoft takes them;
//   - flapping (200/503 every second): no alert in a DLQ, breaker transitions counted, and logged at
//     most once per 30 s for each kind.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChaosRun, criteria, type Fault, phase } from '../harness/chaos.ts';
import { metric } from '../harness/forwarding.ts';
import { fail, MockMoogsoft, ok } from '../harness/mock-moogsoft.ts';
import { runMutt } from '../harness/mutt-process.ts';
import { type TestServices, useServices } from '../harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
let run: ChaosRun | undefined;
beforeAll(async () => {
  svc = await useServices();
  mock = await MockMoogsoft.start();
});
afterEach(async () => {
  await run?.close();
  run = undefined;
  mock.respond(ok());
  mock.rejectEvents(() => false);
  mock.clear();
});
afterAll(async () => {
  await mock.close();
  await svc.cleanup();
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Moogsoft outages', () => {
  it(
    `503 for ${phase(20, 180) / 1000} s under HTTP load (50 events/s), then 200: nothing dead-lettered, delivery resumes within 10 s`,
    { timeout: phase(240, 600) },
    async () => {
      run = await ChaosRun.start({ name: 'moogsoft-503', svc, mock, http: 50 });
      await wait(5000);
      const fault: Fault = {
        what: `Moogsoft answers 503 for ${phase(20, 180) / 1000} s`,
        start: Date.now(),
        end: 0,
      };
      mock.respond(fail(503, 'maintenance'));
      await wait(phase(20, 180));
      mock.respond(ok());
      fault.end = Date.now();
      await wait(phase(5, 10));
      await run.stopLoad();
      await run.settle();
      const t = await run.tally({ load: 'HTTP 50 events/s', fault });
      expect(criteria(t, { transient: true })).toEqual([]);
      expect(t.http503).toBe(0); // the alert queue absorbed the outage: clients were never turned away
      // The probes backed off (about 2, 4, 8, 8 … s) instead of one per request.
      const failed = mock.posts().filter((r) => r.answer === 503).length;
      expect(failed).toBeLessThanOrEqual(10 + 4 + Math.ceil(phase(20, 180) / 8000) + 4);
    },
  );

  it(
    '400 for some alerts: exactly those go to mutt:dlq:moog with the reason; a replay delivers them once accepted',
    { timeout: 180_000 },
    async () => {
      mock.rejectEvents((e) => /eid=\S+h\d*7\b/.test(String(e.description)), 400);
      run = await ChaosRun.start({ name: 'moogsoft-400', svc, mock, http: 50 });
      await wait(phase(10, 30));
      await run.stopLoad();
      await run.settle();
      const rejected = [...run.ledger.acked.keys()].filter((id) => /h\d*7$/.test(id));
      const t = await run.tally({ load: 'HTTP 50 events/s' });
      expect(criteria(t, { transient: false, expectDeadLettered: rejected.length })).toEqual([]);
      expect(t.deadLetteredByCode).toEqual({ rejected: rejected.length });
      const item = JSON.parse((await run.redis.lindex(run.keys.moogDlq, 0))!);
      expect(item._dlq_reason).toMatch(/^HTTP 400 from Moogsoft: .*Invalid event/);
      // The LAM is fixed; the operator replays: every rejected alert is delivered, the DLQ is empty.
      mock.rejectEvents(() => false);
      const r = runMutt(['dlq', 'replay', '--queue', 'moog'], run.env);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`replayed ${rejected.length} item(s)`);
      await run.settle();
      const after = run.delivered().first;
      expect(rejected.filter((id) => !after.has(id))).toEqual([]);
      expect(await run.redis.llen(run.keys.moogDlq)).toBe(0);
    },
  );

  it(
    `flapping (200/503 every second for ${phase(20, 120) / 1000} s): no alert in a DLQ, transitions counted and rate-limited in the log`,
    { timeout: phase(180, 400) },
    async () => {
      run = await ChaosRun.start({ name: 'moogsoft-flapping', svc, mock, http: 50 });
      await wait(3000);
      const start = Date.now();
      const fault: Fault = {
        what: `Moogsoft flaps 200/503 every second for ${phase(20, 120) / 1000} s`,
        start,
        end: 0,
      };
      mock.respond(() => (Math.floor((Date.now() - start) / 1000) % 2 === 0 ? fail(503, 'flap') : undefined));
      await wait(phase(20, 120));
      mock.respond(ok());
      fault.end = Date.now();
      await wait(5000);
      await run.stopLoad();
      await run.settle();
      const t = await run.tally({ load: 'HTTP 50 events/s', fault });
      expect(criteria(t, { transient: true })).toEqual([]);
      const port = Number(run.env.SERVER_PORT_INGESTOR);
      const count = (from: string, to: string) =>
        metric(port, 'mutt_circuit_breaker_transitions_total', `from="${from}",to="${to}"`);
      const counted = {
        opened: (await count('CLOSED', 'OPEN')) + (await count('HALF_OPEN', 'OPEN')),
        halfOpen: await count('OPEN', 'HALF_OPEN'),
        closed: await count('HALF_OPEN', 'CLOSED'),
      };
      const logged = (msg: string) => run!.mutt.lines.filter((l) => l.msg === msg).length;
      const lines = {
        opened: logged('circuit breaker opened: alerts wait in the queue until a probe succeeds'),
        halfOpen: logged('circuit breaker half-open: probing'),
        closed: logged('circuit breaker closed: forwarding resumes'),
      };
      console.log(`flapping transitions ${JSON.stringify({ counted, logged: lines })}`);
      // The breaker did flap, and every transition was counted…
      expect(counted.opened).toBeGreaterThanOrEqual(2);
      expect(counted.closed).toBeGreaterThanOrEqual(1);
      expect(counted.halfOpen).toBe(counted.closed + counted.opened - (await count('CLOSED', 'OPEN')));
      // …but each kind was logged at most once per 30 s (two kinds lead to OPEN).
      const most = Math.ceil((Date.now() - start) / 30_000) + 1;
      expect(lines.opened).toBeLessThanOrEqual(2 * most);
      expect(lines.halfOpen).toBeLessThanOrEqual(most);
      expect(lines.closed).toBeLessThanOrEqual(most);
      expect(lines.opened + lines.halfOpen + lines.closed).toBeLessThan(
        counted.opened + counted.halfOpen + counted.closed,
      );
    },
  );
});
