import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../runtime/config/load.ts';
import { createLogger } from '../../runtime/logging.ts';
import {
  type CompatMode,
  CompatTracker,
  describeCompat,
  PARITY_GIVES_UP,
  staticCompatStatus,
} from './compat.ts';
import { validateDynamic } from './dynamic.ts';

function logger() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'INFO',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  });
  return { log, lines };
}

describe('CompatTracker', () => {
  it('hands out one mode per batch; a change is logged once and counted, with what parity gives up', () => {
    let mode: CompatMode = 'off';
    const { log, lines } = logger();
    const switches: string[] = [];
    const t = new CompatTracker({
      read: () => mode,
      log,
      component: 'alerter',
      onSwitch: (from, to) => switches.push(`${from}>${to}`),
    });
    expect(t.start()).toBe('off');
    expect(t.forBatch()).toBe('off');
    mode = 'python2';
    expect(t.forBatch()).toBe('python2');
    expect(t.forBatch()).toBe('python2');
    mode = 'off';
    expect(t.forBatch()).toBe('off');
    expect(switches).toEqual(['off>python2', 'python2>off']);
    const logged = lines.filter((l) => String(l.msg).startsWith('compat mode switched'));
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ level: 'warn', from: 'off', to: 'python2', gives_up: PARITY_GIVES_UP });
    expect(logged[1]).toMatchObject({ from: 'python2', to: 'off' });
    expect(logged[1]!.gives_up).toBeUndefined();
  });

  it('the mode found at start is not a switch', () => {
    const { log, lines } = logger();
    let n = 0;
    const t = new CompatTracker({ read: () => 'python2', log, component: 'forwarder', onSwitch: () => n++ });
    expect(t.start()).toBe('python2');
    expect(t.forBatch()).toBe('python2');
    expect(n).toBe(0);
    expect(lines).toEqual([]);
  });
});

describe('compat status', () => {
  it('from COMPAT_MODE alone, as `mutt validate` shows it', () => {
    const off = staticCompatStatus({ COMPAT_MODE: 'off', DYNAMIC_CONFIG_ENABLED: true });
    expect(off).toMatchObject({ mode: 'off', source: 'static', static: 'off', givesUp: [] });
    expect(describeCompat(off)).toBe('off (COMPAT_MODE, unless the dynamic key compat_mode is set)');
    const py = staticCompatStatus({ COMPAT_MODE: 'python2', DYNAMIC_CONFIG_ENABLED: false });
    expect(py).toMatchObject({ mode: 'python2', givesUp: PARITY_GIVES_UP });
    expect(describeCompat(py)).toBe('python2 (COMPAT_MODE)');
  });

  it.each([
    ['python3', 'compat_mode: "python3" is not off or python2'],
    ['', 'compat_mode: "" is not off or python2'],
    ['on', 'compat_mode: "on" is not off or python2'],
  ])('the dynamic key refuses %j naming the allowed values', (value, error) => {
    expect(validateDynamic('compat_mode', value)).toEqual({ ok: false, error });
  });

  it('the dynamic key takes the modes in any case', () => {
    expect(validateDynamic('compat_mode', ' Python2 ')).toEqual({ ok: true, value: 'python2' });
    expect(validateDynamic('compat_mode', 'OFF')).toEqual({ ok: true, value: 'off' });
  });
});

describe('configuration defaults that differ from Python MUTT 2.x (docs/COMPATIBILITY.md)', () => {
  const load = (env: Record<string, string>) => loadConfig(env, { defaultEnvFile: '/nonexistent/mutt.env' });

  it('TLS off, dynamic configuration on, parity mode off', () => {
    const { config, problems } = load({});
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      REDIS_TLS_ENABLED: false,
      DB_TLS_ENABLED: false,
      DYNAMIC_CONFIG_ENABLED: true,
      COMPAT_MODE: 'off',
    });
  });

  it('per-service metrics and health ports are accepted and validated', () => {
    expect(load({ METRICS_PORT_ALERTER: '8081', HEALTH_PORT_MOOG: '8084' }).problems).toEqual([]);
    expect(load({ METRICS_PORT_ALERTER: 'x' }).problems).toEqual([
      'METRICS_PORT_ALERTER="x": expected a port from 1 to 65535, or 0 to disable',
    ]);
  });
});
