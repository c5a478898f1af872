// The operator's command line and start-up through the real `mutt` process: the bad-input rows of
// packaging (a misspelled variable in mutt.env, a world-readable mutt.env holding a secret, ports
// taken by rsyslog), `mutt keys show|rotate`, sysexits exit codes, and logs readable on a terminal.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runMutt, startMutt } from './harness/mutt-process.ts';
import { ensurePackages } from './harness/packages.ts';
import { freePort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let n = 0;
beforeAll(async () => {
  svc = await useServices();
});
afterAll(async () => svc.cleanup());

/** A fresh directory and env file for one test. */
function scratch(envText: string, mode = 0o640): { dir: string; envFile: string } {
  const dir = join(svc.tmp, `op-${n++}`);
  mkdirSync(dir, { recursive: true });
  const envFile = join(dir, 'mutt.env');
  writeFileSync(envFile, envText);
  chmodSync(envFile, mode);
  return { dir, envFile };
}

describe('bad input', () => {
  it('a misspelled variable in mutt.env: validate names it and the closest known name, serve does not start', () => {
    const { envFile } = scratch('# MUTT\nLOG_LEVEL=INFO\nSYSLOG_UDP_PROT=5514\nALERTER_WORKRES=2\n');
    const env = { ...svc.env, MUTT_ENV_FILE: envFile };
    const v = runMutt(['validate'], env);
    expect(v.status).toBe(78);
    expect(v.stderr).toBe(
      `mutt: configuration error: ${envFile}: SYSLOG_UDP_PROT: unknown variable; did you mean SYSLOG_UDP_PORT?\n` +
        `mutt: configuration error: ${envFile}: ALERTER_WORKRES: unknown variable; did you mean ALERTER_WORKERS?\n` +
        'mutt: 2 problems found\n',
    );
    const j = runMutt(['validate', '--json'], env);
    expect(j.status).toBe(78);
    expect(JSON.parse(j.stdout)).toMatchObject({
      ok: false,
      problems: [
        `${envFile}: SYSLOG_UDP_PROT: unknown variable; did you mean SYSLOG_UDP_PORT?`,
        `${envFile}: ALERTER_WORKRES: unknown variable; did you mean ALERTER_WORKERS?`,
      ],
    });
    const s = runMutt(['serve'], env);
    expect(s.status).toBe(78);
    expect(s.stderr).toContain('SYSLOG_UDP_PROT: unknown variable; did you mean SYSLOG_UDP_PORT?');
  });

  it('a world-readable mutt.env holding a secret: a start-up warning naming the file and the chmod', async () => {
    const { INGEST_API_KEY: key, ...env } = svc.env;
    const { envFile } = scratch(`INGEST_API_KEY=${key}\n`, 0o644);
    const port = await freePort();
    const p = startMutt({
      ...env,
      MUTT_ENV_FILE: envFile,
      SERVER_PORT_INGESTOR: String(port),
      ALERTER_WORKERS: '0',
    });
    try {
      await p.running();
      const warning = `mutt: warning: ${envFile} is readable by every user of this host (mode 0644) and holds INGEST_API_KEY: run "chmod o-rwx ${envFile}" (the package installs it as 0640 root:mutt)`;
      expect(p.stderr.join('')).toContain(warning);
      expect(p.stderr.join('') + p.lines.map((l) => JSON.stringify(l)).join('')).not.toContain(key);
      // The key from the file is the one in force.
      const res = await fetch(`http://127.0.0.1:${port}/ingest`, {
        method: 'POST',
        headers: { 'X-API-KEY': key!, 'Content-Type': 'application/json' },
        body: JSON.stringify({ hostname: 'h', message: 'm', timestamp: '2026-12-07T12:00:00Z' }),
      });
      expect(res.status).toBe(200);
    } finally {
      await p.stop();
    }
  });

  describe('ports taken by rsyslog', () => {
    let rsyslog: ChildProcess;
    let udp: number;
    let tcp: number;
    beforeAll(async () => {
      ensurePackages({ rsyslog: () => existsSync('/usr/sbin/rsyslogd') }, 'a real rsyslogd holding ports');
      udp = await freePort();
      tcp = await freePort();
      const dir = join(svc.tmp, 'rsyslog');
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, 'rsyslog.conf');
      writeFileSync(
        conf,
        [
          `global(workDirectory="${dir}")`,
          'module(load="imudp")',
          `input(type="imudp" port="${udp}")`,
          'module(load="imtcp")',
          `input(type="imtcp" port="${tcp}")`,
          `*.* ${join(dir, 'messages')}`,
          '',
        ].join('\n'),
      );
      rsyslog = spawn('/usr/sbin/rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
        stdio: 'ignore',
      });
      for (let i = 0; i < 100; i++) {
        const ss = spawnSync('ss', ['-lntu'], { encoding: 'utf8' }).stdout;
        if (ss.includes(`:${udp} `) && ss.includes(`:${tcp} `)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('rsyslogd did not bind its ports');
    });
    afterAll(() => {
      rsyslog?.kill('SIGTERM');
    });

    it.each([
      ['SYSLOG_UDP_PORT', 'udp'],
      ['SYSLOG_TCP_PORT', 'tcp'],
      ['SNMP_TRAP_PORT', 'udp'],
    ] as const)(
      '%s: start fails naming the port, rsyslogd and the variable to change',
      async (variable, proto) => {
        const port = proto === 'udp' ? udp : tcp;
        const r = runMutt(['serve'], {
          ...svc.env,
          SERVER_PORT_INGESTOR: String(await freePort()),
          ALERTER_WORKERS: '0',
          [variable]: String(port),
        });
        expect(r.status).toBe(78);
        expect(r.stderr).toContain(
          `mutt: ${variable}=${port} (${proto}): address already in use, held by rsyslogd (pid ${rsyslog.pid}); ` +
            'rsyslog listens there: remove its imudp/imtcp input for this port from /etc/rsyslog.conf (or /etc/rsyslog.d/) and "systemctl restart rsyslog". ' +
            `Stop the other program listening there, or set ${variable} to another port in /etc/mutt/mutt.env (0 turns this listener off).`,
        );
      },
    );
  });
});

describe('mutt keys', () => {
  const keysEnv = (dataDir: string, extra: Record<string, string> = {}) => {
    const { INGEST_API_KEY: _i, WEBUI_API_KEY: _w, ...env } = svc.env;
    return { ...env, MUTT_DATA_DIR: dataDir, ...extra };
  };

  it('shows keys not generated yet, then generated ones, rotates them keeping the mode, and prints values for scripts', () => {
    const { dir } = scratch('');
    const env = keysEnv(join(dir, 'data'));
    const before = JSON.parse(runMutt(['keys', 'show', '--json'], env).stdout) as { keys: object[] };
    expect(before.keys).toEqual([
      {
        key: 'ingest',
        variable: 'INGEST_API_KEY',
        source: 'not generated yet',
        file: join(dir, 'data/secrets/ingest_api_key'),
      },
      {
        key: 'admin',
        variable: 'WEBUI_API_KEY',
        source: 'not generated yet',
        file: join(dir, 'data/secrets/webui_api_key'),
      },
    ]);
    const noValue = runMutt(['keys', 'show', 'ingest', '--value'], env);
    expect(noValue.status).toBe(66);

    const r1 = runMutt(['keys', 'rotate', 'all', '--json'], env);
    expect(r1.status).toBe(0);
    const rotated = (JSON.parse(r1.stdout) as { rotated: { file: string; value: string }[] }).rotated;
    expect(rotated).toHaveLength(2);
    for (const k of rotated) {
      expect(k.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(readFileSync(k.file, 'utf8')).toBe(`${k.value}\n`);
      expect(statSync(k.file).mode & 0o777).toBe(0o600);
    }
    const show = runMutt(['keys', 'show'], env);
    expect(show.stdout).toContain(
      `ingest key, INGEST_API_KEY (the X-API-KEY header of HTTP ingest on SERVER_PORT_INGESTOR): ${rotated[0]!.value}`,
    );
    expect(show.stdout).toContain(`generated by MUTT, in ${join(dir, 'data/secrets/ingest_api_key')}`);
    expect(runMutt(['keys', 'show', 'admin', '--value'], env).stdout).toBe(`${rotated[1]!.value}\n`);

    chmodSync(rotated[0]!.file, 0o640);
    const r2 = runMutt(['keys', 'rotate', 'ingest'], env);
    expect(r2.status).toBe(0);
    expect(r2.stdout).toContain('MUTT uses the new key after a restart');
    const again = readFileSync(rotated[0]!.file, 'utf8').trim();
    expect(again).not.toBe(rotated[0]!.value);
    expect(statSync(rotated[0]!.file).mode & 0o777).toBe(0o640);
  });

  it('rotates a key read from <NAME>_FILE in that file, and refuses one set in mutt.env or the environment', () => {
    const { dir, envFile } = scratch('');
    const keyFile = join(dir, 'ingest.key');
    writeFileSync(keyFile, 'old-key\n', { mode: 0o640 });
    const fileEnv = keysEnv(join(dir, 'data'), { INGEST_API_KEY_FILE: keyFile });
    const r = runMutt(['keys', 'rotate', 'ingest', '--json'], fileEnv);
    expect(r.status).toBe(0);
    const value = (JSON.parse(r.stdout) as { rotated: { value: string; file: string }[] }).rotated[0]!;
    expect(value.file).toBe(keyFile);
    expect(readFileSync(keyFile, 'utf8')).toBe(`${value.value}\n`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o640);

    writeFileSync(envFile, 'WEBUI_API_KEY=from-the-env-file\n');
    const inFile = runMutt(
      ['keys', 'rotate', 'admin'],
      keysEnv(join(dir, 'data'), { MUTT_ENV_FILE: envFile }),
    );
    expect(inFile.status).toBe(78);
    expect(inFile.stderr).toContain(`mutt: WEBUI_API_KEY is set in ${envFile}: put a new value there`);
    expect(readFileSync(envFile, 'utf8')).toBe('WEBUI_API_KEY=from-the-env-file\n');
    const shown = JSON.parse(
      runMutt(['keys', 'show', 'admin', '--json'], keysEnv(join(dir, 'data'), { MUTT_ENV_FILE: envFile }))
        .stdout,
    ) as { keys: object[] };
    expect(shown.keys).toEqual([
      {
        key: 'admin',
        variable: 'WEBUI_API_KEY',
        source: 'env file',
        file: envFile,
        value: 'from-the-env-file',
      },
    ]);

    const inEnv = runMutt(['keys', 'rotate', 'ingest'], svc.env);
    expect(inEnv.status).toBe(78);
    expect(inEnv.stderr).toContain("INGEST_API_KEY is set in MUTT's environment");
  });

  it('answers a wrong key name with EX_USAGE', () => {
    const r = runMutt(['keys', 'rotate', 'moog'], svc.env);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain(
      "error: command-argument value 'moog' is invalid for argument 'key'. Allowed choices are ingest, admin, all.",
    );
  });
});

describe('exit codes and output', () => {
  it('follows sysexits for usage errors and answers --json on the reporting verbs', () => {
    expect(runMutt(['no-such-command'], svc.env).status).toBe(64);
    expect(runMutt(['validate', '--no-such-option'], svc.env).status).toBe(64);
    expect(runMutt(['--help'], svc.env).status).toBe(0);
    expect(runMutt(['--help'], svc.env).stdout).toContain('78  EX_CONFIG');
    const v = runMutt(['validate', '--json'], svc.env);
    expect(v.status).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({
      ok: true,
      problems: [],
      redis: 'external',
      postgres: 'external',
    });
    const m = runMutt(['migrate', '--json'], svc.env);
    expect(m.status).toBe(0);
    expect(JSON.parse(m.stdout)).toMatchObject({ applied: expect.any(Array), partitions: expect.any(Array) });
  });

  it('logs readable lines on a terminal and JSON lines otherwise', async () => {
    ensurePackages({ bsdutils: () => existsSync('/usr/bin/script') }, 'a terminal for the log format test');
    const env = { ...svc.env, SERVER_PORT_INGESTOR: String(await freePort()), ALERTER_WORKERS: '0' };
    // `mutt serve` for a few seconds, then SIGINT: on a pseudo-terminal (script(1)), and on a pipe.
    const serve = `timeout -s INT 8 ${process.execPath} ${inject('services').bundle} serve`;
    const tty = spawnSync('script', ['-qec', serve, '/dev/null'], { env, encoding: 'utf8' });
    expect(tty.stdout).toMatch(/INFO.*MUTT is running/);
    expect(tty.stdout).not.toMatch(/^\{"level"/m);
    const pipe = spawnSync('sh', ['-c', serve], { env, encoding: 'utf8' });
    const lines = pipe.stdout.split('\n').filter(Boolean);
    expect(lines.some((l) => (JSON.parse(l) as { msg: string }).msg === 'MUTT is running')).toBe(true);
    expect(lines.every((l) => l.startsWith('{"level"'))).toBe(true);
    const forced = spawnSync('sh', ['-c', serve], { env: { ...env, LOG_FORMAT: 'text' }, encoding: 'utf8' });
    expect(forced.stdout).toMatch(/INFO.*MUTT is running/);
    expect(forced.stdout).not.toMatch(/^\{"level"/m);
  }, 60_000);
});
