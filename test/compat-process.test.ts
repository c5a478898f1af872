// Parity mode in real `mutt` processes: `mutt validate` and `mutt status` name the mode, a node in
// parity mode says once at start what it gives up, and the forwarder renders Python MUTT 2.x alerts
// (golden fixtures) and MUTT's with the severities of the mode its batch was taken in, also when
// `compat_mode` is switched at run time. Its outputs are read the way Python services read them.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { muttAlert, pythonAlert } from './fixtures/alerts.ts';
import { metric, pushAlerts, scenario, until } from './harness/forwarding.ts';
import { fail, MockMoogsoft, ok } from './harness/mock-moogsoft.ts';
import { type MuttProcess, runMutt, startMutt } from './harness/mutt-process.ts';
import {
  pyFixture,
  pyJson,
  pythonDlqProblems,
  pythonForwarderProblems,
  pythonJanitorProblems,
} from './harness/python2.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
const procs: MuttProcess[] = [];
beforeAll(async () => {
  svc = await useServices({ database: false });
  mock = await MockMoogsoft.start({ auth: { bearer: 'compat-key-9d1e' } });
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
  }
  mock.respond(ok());
  mock.clear();
});
afterAll(async () => {
  await mock.close();
  await svc.cleanup();
});

type Mode = 'off' | 'python2';
const MODES: Mode[] = ['off', 'python2'];
const moog = () => ({ MOOG_WEBHOOK_URL: mock.url, MOOG_API_KEY: 'compat-key-9d1e' });
const start = async (env: Record<string, string>) => {
  const p = startMutt(env);
  procs.push(p);
  await p.running();
  await p.waitForMessage('forwarder started');
  return p;
};
const byId = () => new Map(mock.acceptedEvents().map((e) => [e.external_id as string, e]));

describe('bad input: COMPAT_MODE with an unknown value', () => {
  it('`mutt validate` names the variable, the value and the allowed values, and exits 78', () => {
    const r = runMutt(['validate'], { ...svc.env, COMPAT_MODE: 'python3' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(
      'mutt: configuration error: COMPAT_MODE="python3": expected one of off, python2',
    );
    const serve = runMutt(['serve'], { ...svc.env, COMPAT_MODE: 'python3' });
    expect(serve.status).toBe(78);
    expect(serve.stderr).toContain('COMPAT_MODE="python3": expected one of off, python2');
  });

  it('`mutt validate` says which mode a node runs in', () => {
    const off = runMutt(['validate'], svc.env);
    expect(off.status).toBe(0);
    expect(off.stdout).toContain(
      '  compat mode: off (COMPAT_MODE, unless the dynamic key compat_mode is set)',
    );
    const py = runMutt(['validate'], { ...svc.env, COMPAT_MODE: 'Python2', DYNAMIC_CONFIG_ENABLED: 'false' });
    expect(py.status).toBe(0);
    expect(py.stdout).toContain('  compat mode: python2 (COMPAT_MODE)');
  });
});

describe('`mutt status` shows the mode in use', () => {
  it('static, then switched for the fleet with `mutt config set compat_mode python2`', async () => {
    const s = await scenario(svc);
    const text = runMutt(['status'], s.env);
    expect(text.stdout).toMatch(/^compat mode\s+off \(COMPAT_MODE; compat_mode is not set in Redis\)$/m);
    expect(runMutt(['config', 'set', 'compat_mode', 'python2'], s.env).status).toBe(0);
    const json = JSON.parse(runMutt(['status', '--json'], s.env).stdout);
    expect(json.compat).toMatchObject({
      mode: 'python2',
      source: 'dynamic',
      static: 'off',
      stored: 'python2',
    });
    expect(runMutt(['config', 'set', 'compat_mode', 'python3'], s.env).stderr).toMatch(
      /compat_mode: "python3" is not off or python2/,
    );
  });
});

describe('a node in parity mode logs once, at start, what it gives up', () => {
  it.each(MODES)('%s', async (mode) => {
    const s = await scenario(svc, { ...moog(), COMPAT_MODE: mode, FORWARDER_WORKERS: '2' });
    const p = await start(s.env);
    await p.waitForMessage('MUTT is running');
    const lines = p.lines.filter((l) => l.msg.startsWith('COMPAT_MODE=python2'));
    if (mode === 'off') {
      expect(lines).toEqual([]);
      return;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', compat_mode: 'python2', source: 'static' });
    expect(lines[0]!.gives_up).toEqual(expect.arrayContaining([expect.stringMatching(/MUTT_Alerter/)]));
    const started = () => p.lines.filter((l) => l.msg === 'forwarder started');
    await until(() => started().length === 2, 10_000, 'both workers started');
    expect(started().map((l) => l.compat_mode)).toEqual(['python2', 'python2']);
  });
});

describe('case 6: alert "severity":"Warning" / "Minor" at the forwarder (golden: Python alerts and MUTT alerts)', () => {
  it.each(MODES)('%s', async (mode) => {
    const s = await scenario(svc, { ...moog(), COMPAT_MODE: mode });
    await start(s.env);
    const minor = pythonAlert(2, { severity: 'Minor' });
    await pushAlerts(svc.redis, s.keys, [
      pyFixture('alert.json'),
      pyFixture('meta-alert.json'),
      minor,
      muttAlert(3, { severity: 'Warning' }),
    ]);
    await mock.until(() => mock.uniqueAcceptedIds().size === 4, 15_000, 'delivered');
    expect(mock.invalid()).toEqual([]);
    const e = byId();
    const warning = mode === 'off' ? 2 : 3;
    expect(e.get(pyJson('alert.json')._correlation_id as string)).toMatchObject({
      source: 'core-sw1',
      severity: warning,
    });
    expect(e.get(pyJson('meta-alert.json')._correlation_id as string)).toMatchObject({
      source: 'MUTT_Alerter',
      severity: warning,
    });
    expect(e.get(minor._correlation_id as string)!.severity).toBe(mode === 'off' ? 3 : 2);
    expect(e.get('mutt-000003')!.severity).toBe(warning);
  });
});

describe('bad input: compat_mode switched at run time at the forwarder', () => {
  it('renders each batch wholly in one mode; the switch is logged and counted', async () => {
    const s = await scenario(svc, { ...moog(), MOOG_BATCH_SIZE: '20', MOOG_BATCH_LINGER_MS: '0' });
    const p = await start(s.env);
    const n = 3000;
    await pushAlerts(
      svc.redis,
      s.keys,
      Array.from({ length: n }, (_, i) => pythonAlert(10_000 + i, { severity: 'Warning' })),
    );
    let mode: Mode = 'off';
    const deadline = Date.now() + 60_000;
    while (mock.uniqueAcceptedIds().size < n) {
      if (Date.now() > deadline) throw new Error('alerts not all delivered in 60 s');
      mode = mode === 'off' ? 'python2' : 'off';
      await svc.redis.set(s.keys.config('compat_mode'), mode);
      await svc.redis.publish(s.keys.configUpdates, 'compat_mode');
      await new Promise((r) => setTimeout(r, 30));
    }
    // Every request carries one severity for its Warning alerts: 2 (off) or 3 (python2).
    const perRequest = mock.posts().map((r) => new Set(r.events.map((e) => e.severity)));
    expect(perRequest.filter((set) => set.size !== 1)).toEqual([]);
    const seen = new Set(perRequest.flatMap((set) => [...set]));
    expect(seen).toEqual(new Set([2, 3]));
    const switches =
      (await metric(s.port, 'mutt_moog_compat_mode_switches_total', 'to="python2"')) +
      (await metric(s.port, 'mutt_moog_compat_mode_switches_total', 'to="off"'));
    expect(switches).toBeGreaterThanOrEqual(2);
    expect(p.lines.filter((l) => l.msg.startsWith('compat mode switched'))).toHaveLength(switches);
  });
});

describe('golden, MUTT → Python: forwarder outputs read by Python consumers', () => {
  it.each(MODES)('%s', async (mode) => {
    const s = await scenario(svc, {
      ...moog(),
      COMPAT_MODE: mode,
      MOOG_RETRY_BASE_DELAY: '30',
      MOOG_RETRY_MAX_DELAY: '60',
    });
    await start(s.env);
    // Heartbeats a Python janitor checks before taking a MUTT forwarder's lists.
    const beats = await svc.redis.keys(`${s.keys.prefix}:heartbeat:moog:*`);
    expect(beats.length).toBeGreaterThanOrEqual(2); // the processing list's and the retry list's
    for (const k of beats) expect(await pythonJanitorProblems(svc.redis, k, 3)).toEqual([]);
    // A 400 dead-letters (the DLQ item), a 503 puts the alert on the retry list (a Python janitor
    // returns it to the alert queue if this node dies, where a Python forwarder reads it).
    mock.next(1, fail(400, 'bad event'));
    mock.next(1, fail(503));
    await pushAlerts(svc.redis, s.keys, [pyFixture('alert.json')]);
    await until(async () => (await svc.redis.llen(s.keys.moogDlq)) === 1, 10_000, 'dead-lettered');
    const dlq = (await svc.redis.lindex(s.keys.moogDlq, 0))!;
    expect(pythonDlqProblems(dlq, 'moog')).toEqual([]);
    expect(JSON.parse(dlq)).toMatchObject({ ...pyJson('alert.json'), _moog_retry_count: 0 });
    await pushAlerts(svc.redis, s.keys, [pythonAlert(77)]);
    const retryLists = async () =>
      (await svc.redis.keys(`${s.keys.prefix}:processing:moog:*`)).filter((k) => k.endsWith('-retry'));
    await until(
      async () => {
        for (const k of await retryLists()) if ((await svc.redis.llen(k)) > 0) return true;
        return false;
      },
      10_000,
      'on the retry list',
    );
    for (const k of await retryLists())
      for (const item of await svc.redis.lrange(k, 0, -1)) {
        expect(pythonForwarderProblems(item)).toEqual([]);
        expect(JSON.parse(item)).toMatchObject({ _moog_retry_count: 1 });
      }
  });
});
