// Chaos: MUTT itself killed with SIGKILL, default settings, restarted the way systemd does it
// (Restart=on-failure, RestartSec=2s). The restarted node keeps its name, takes it over from the dead
// process and takes back at once what that process held: events and alerts in its processing lists are
// processed and delivered without waiting for a janitor.
//   - under HTTP load (100 events/s);
//   - under TCP syslog (200 events/s): plain TCP syslog has no acknowledgment, so events written in the
//     last second before the connection broke are reported apart ("unconfirmed");
//   - twice, 3 s apart.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChaosRun, criteria, type Fault, phase } from '../harness/chaos.ts';
import { MockMoogsoft, ok } from '../harness/mock-moogsoft.ts';
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
  mock.clear();
});
afterAll(async () => {
  await mock.close();
  await svc.cleanup();
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** systemd's RestartSec in packaging/systemd/mutt.service. */
const RESTART_SEC = 2000;

async function crashes(r: ChaosRun, times: number, apartMs: number): Promise<Fault> {
  const fault: Fault = { what: '', start: Date.now(), end: 0 };
  for (let i = 0; i < times; i++) {
    if (i > 0) await wait(apartMs);
    await r.kill9();
    await wait(RESTART_SEC);
    fault.end = Date.now();
    const p = await r.startMutt();
    await p.waitForMessage(
      "took over this node's name from its previous process, which is gone: its unfinished work is taken back now",
    );
  }
  fault.what =
    times === 1
      ? `kill -9 of MUTT, restarted after ${RESTART_SEC / 1000} s`
      : `kill -9 of MUTT ${times} times ${apartMs / 1000} s apart, each restarted after ${RESTART_SEC / 1000} s`;
  return fault;
}

describe('MUTT killed', () => {
  it(
    'kill -9 under HTTP load (100 events/s): nothing acknowledged lost, duplicates within a batch',
    { timeout: phase(180, 300) },
    async () => {
      // Slow answers keep requests in flight at the moment of the kill.
      mock.respond(ok(200, { delayMs: 100 }));
      run = await ChaosRun.start({ name: 'kill-http', svc, mock, http: 100 });
      await wait(phase(6, 20));
      const fault = await crashes(run, 1, 0);
      await wait(phase(6, 20));
      await run.stopLoad();
      await run.settle();
      const t = await run.tally({ load: 'HTTP 100 events/s', fault });
      expect(criteria(t, { transient: true, crashes: 1 })).toEqual([]);
    },
  );

  it(
    'kill -9 under TCP syslog (200 events/s): every event MUTT read is delivered; only the TCP window is unconfirmed',
    { timeout: phase(180, 300) },
    async () => {
      run = await ChaosRun.start({ name: 'kill-tcp', svc, mock, tcp: 200 });
      await wait(phase(6, 20));
      const fault = await crashes(run, 1, 0);
      await wait(phase(6, 20));
      await run.stopLoad();
      await run.settle();
      const t = await run.tally({ load: 'syslog TCP 200 events/s', fault });
      expect(criteria(t, { transient: true, crashes: 1 })).toEqual([]);
      // At most one second of sending was in flight when the connection broke.
      expect(t.unconfirmed).toBeLessThanOrEqual(200 + 50);
    },
  );

  it('two kill -9 3 s apart under HTTP load (100 events/s)', { timeout: phase(180, 300) }, async () => {
    mock.respond(ok(200, { delayMs: 100 }));
    run = await ChaosRun.start({ name: 'kill-twice', svc, mock, http: 100 });
    await wait(phase(6, 20));
    const fault = await crashes(run, 2, 3000);
    await wait(phase(6, 20));
    await run.stopLoad();
    await run.settle();
    const t = await run.tally({ load: 'HTTP 100 events/s', fault });
    expect(criteria(t, { transient: true, crashes: 2 })).toEqual([]);
  });
});
