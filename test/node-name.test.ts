// A node's name (POD_NAME, by default the host name) is stable across restarts and held by one running
// process at a time: a second process with the same name refuses to start, naming the holder; a
// restart after kill -9 takes the name over at once and its workers take back the processing lists of
// the process it replaces (no janitor wait); a clean stop frees the name.
import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultPodName } from '../src/runtime/config/load.ts';
import { addRule, event, pushEvents, resetTables } from './harness/alerting.ts';
import { scenario, until } from './harness/forwarding.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices();
});
afterEach(async () => {
  for (const p of procs.splice(0))
    if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
});
afterAll(async () => svc.cleanup());

const spawn = (env: Record<string, string>) => {
  const p = startMutt(env);
  procs.push(p);
  return p;
};
const refusal = async (p: MuttProcess) => {
  const exit = await p.exited();
  return { code: exit.code, stderr: p.stderr.join('') };
};

describe('one running process per node name', () => {
  it('two nodes started with the same POD_NAME: the second refuses to start, naming the other', async () => {
    const s = await scenario(svc, { MUTT_ROLES: 'forwarder', POD_NAME: 'edge-a' });
    const first = spawn(s.env);
    await first.running();
    const second = spawn({ ...s.env, SERVER_PORT_INGESTOR: String(await freePort()) });
    const r = await refusal(second);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(
      `mutt: the node name "edge-a" (POD_NAME) is held by MUTT process ${first.child.pid} on host ${hostname()}, running since `,
    );
    expect(r.stderr).toContain('give this process a POD_NAME of its own, or stop the other one');
    // The first one was not disturbed.
    expect(first.child.exitCode).toBeNull();
    expect(await svc.redis.get(s.keys.node('edge-a'))).toContain(`"pid":${first.child.pid}`);
  });

  it('the default name is the host name, guarded the same way, with the advice to set POD_NAME', async () => {
    const s = await scenario(svc, { MUTT_ROLES: 'forwarder' });
    const first = spawn(s.env);
    await first.running();
    expect(first.lines.find((l) => l.msg === 'MUTT is running')?.pod).toBe(defaultPodName());
    const r = await refusal(spawn({ ...s.env, SERVER_PORT_INGESTOR: String(await freePort()) }));
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(
      `(POD_NAME, by default the host name) is held by MUTT process ${first.child.pid}`,
    );
    expect(r.stderr).toContain('set POD_NAME to a name of its own for each node that shares this host name');
  });

  it('a name held by a live process on another host: refused once its lease is seen renewed', async () => {
    const s = await scenario(svc, { MUTT_ROLES: 'forwarder', POD_NAME: 'edge-b' });
    const other = { host: 'other-host.example', pid: 4242, since: '2026-11-24T12:00:00.000Z' };
    const key = s.keys.node('edge-b');
    await svc.redis.set(key, JSON.stringify(other), 'PX', 15_000);
    // The other node renews its lease every second.
    const renew = setInterval(() => void svc.redis.pexpire(key, 15_000), 1000);
    try {
      const p = spawn(s.env);
      await p.waitForMessage(
        'the node name is held by a process MUTT cannot check from here: waiting for its lease to be renewed (it is alive) or to run out',
      );
      const r = await refusal(p);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(
        'is held by MUTT process 4242 on host other-host.example, running since 2026-11-24T12:00:00.000Z',
      );
    } finally {
      clearInterval(renew);
    }
  });

  it('a name whose holder on another host stopped renewing it: claimed once its lease runs out', async () => {
    const s = await scenario(svc, { MUTT_ROLES: 'forwarder', POD_NAME: 'edge-d' });
    const other = { host: 'other-host.example', pid: 4242, since: '2026-11-24T12:00:00.000Z' };
    await svc.redis.set(s.keys.node('edge-d'), JSON.stringify(other), 'PX', 2500);
    const started = Date.now();
    const p = spawn(s.env);
    await p.running();
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(await svc.redis.get(s.keys.node('edge-d'))).toContain(`"pid":${p.child.pid}`);
  });

  it('a clean stop frees the name at once', async () => {
    const s = await scenario(svc, { MUTT_ROLES: 'forwarder', POD_NAME: 'edge-c' });
    const first = spawn(s.env);
    await first.running();
    await first.stop();
    expect(await svc.redis.exists(s.keys.node('edge-c'))).toBe(0);
    const again = spawn(s.env);
    await again.running();
    expect(again.lines.some((l) => l.msg.startsWith("took over this node's name"))).toBe(false);
  });

  it(
    'kill -9 and an immediate restart: the name is taken over and the stranded events are processed at once, not after the janitor timeout',
    { timeout: 120_000 },
    async () => {
      await resetTables(svc.pool);
      await addRule(svc.pool, { match_string: 'down', prod_handling: 'Ignore' });
      // Default heartbeat and janitor timings (30 s): recovery must not depend on them.
      const s = await scenario(svc, { MUTT_ROLES: 'alerter', ALERTER_BATCH_SIZE: '200' });
      const first = spawn(s.env);
      await first.running();
      await first.waitForMessage('alerter started');
      const processing = s.keys.alerterProcessing(`${defaultPodName()}-0`);
      // A batch stranded in the processing list, as a kill -9 in the middle of one leaves it.
      first.kill('SIGKILL');
      await first.exited();
      const stranded = Array.from({ length: 150 }, (_, i) => JSON.stringify(event({ message: `down ${i}` })));
      await svc.redis.lpush(processing, ...stranded);
      await pushEvents(svc.redis, s.keys, [event({ message: 'down after' })]);
      const restartedAt = Date.now();
      const second = spawn(s.env);
      await second.running();
      const took = await second.waitForMessage(
        "took over this node's name from its previous process, which is gone: its unfinished work is taken back now",
      );
      expect(took.previous_pid).toBe(first.child.pid);
      await until(
        async () =>
          Number((await svc.pool.query('SELECT count(*) AS n FROM event_audit_log')).rows[0].n) === 151,
        20_000,
        'the stranded batch audited',
      );
      expect(await svc.redis.llen(processing)).toBe(0);
      // Well inside ALERTER_JANITOR_TIMEOUT (30 s): no janitor was involved.
      expect(Date.now() - restartedAt).toBeLessThan(15_000);
      expect(
        second.lines.some((l) =>
          l.msg.startsWith('returned the events of an alerter whose heartbeat stopped'),
        ),
      ).toBe(false);
    },
  );
});
