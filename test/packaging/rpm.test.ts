// The RPM, built by `npm run rpm` with Debian's rpmbuild and checked with the tools RHEL's own
// packaging is checked with: rpmlint, rpm -qp, shellcheck, systemd-analyze. Then the package's
// life: installed into a scratch root, validated and served from there; and, with its own
// scriptlets and a real systemd booted in a container on an overlay of this machine, installed,
// started, used, reloaded, stopped, upgraded and erased (boot.sh, in-container.sh).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMutt } from '../harness/mutt-process.ts';
import { ensurePackages } from '../harness/packages.ts';
import { freePort } from '../harness/ports.ts';
import { type TestServices, useServices } from '../harness/services.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const spec = readFileSync(join(root, 'packaging/rpm/mutt.spec'), 'utf8');
const have = (p: string) => () => existsSync(p);

function sh(cmd: string, args: string[], o: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 900_000, ...o });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', out: `${r.stdout}${r.stderr}` };
}

function ok(cmd: string, args: string[], o?: Parameters<typeof sh>[2]): string {
  const r = sh(cmd, args, o);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.out.slice(-4000)}`);
  return r.stdout;
}

const qp = (rpm: string, ...args: string[]) => ok('rpm', ['-qp', ...args, rpm]);

let work: string;
let current: string; // this checkout, release 2
let previous: string; // an earlier build (release 1) whose default mutt.env differs
let srpm: string;

beforeAll(() => {
  ensurePackages(
    {
      rpm: have('/usr/bin/rpmbuild'),
      rpmlint: have('/usr/bin/rpmlint'),
      shellcheck: have('/usr/bin/shellcheck'),
      systemd: have('/usr/bin/systemd-analyze'),
      'systemd-container': have('/usr/bin/systemd-nspawn'),
      iproute2: have('/usr/bin/ss'),
      curl: have('/usr/bin/curl'),
      snmp: have('/usr/bin/snmptrap'),
      bsdutils: have('/usr/bin/logger'),
      rsyslog: have('/usr/sbin/rsyslogd'),
      procps: have('/usr/bin/pgrep'),
      'groff-base': have('/usr/bin/groff'),
      'man-db': have('/usr/bin/man'),
    },
    'the packaging tests',
  );
  work = mkdtempSync(join(tmpdir(), 'mutt-rpm-test-'));
  const build = (cwd: string, release: string, outdir: string) =>
    ok(process.execPath, ['scripts/rpm.mjs', '--release', release, '--outdir', outdir, '--quiet'], { cwd })
      .trim()
      .split('\n');

  // The previous build: this tree with another default mutt.env (its header, generated from the
  // schema, so the spec's %check still holds), as an earlier version's would be.
  const prevTree = join(work, 'previous-tree');
  const files = ok('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root })
    .split('\0')
    .filter((f) => f && existsSync(join(root, f)));
  for (const f of files) {
    mkdirSync(dirname(join(prevTree, f)), { recursive: true });
    cpSync(join(root, f), join(prevTree, f));
  }
  symlinkSync(join(root, 'node_modules'), join(prevTree, 'node_modules'));
  for (const f of ['etc/mutt.env', 'src/runtime/config/reference.ts']) {
    const p = join(prevTree, f);
    writeFileSync(
      p,
      readFileSync(p, 'utf8').replace('# MUTT configuration,', '# MUTT (previous) configuration,'),
    );
  }
  const git = ['-c', 'user.name=build', '-c', 'user.email=build@localhost'];
  ok('git', ['init', '-q'], { cwd: prevTree });
  ok('git', [...git, 'add', '-A'], { cwd: prevTree });
  ok('git', [...git, 'commit', '-qm', 'previous'], { cwd: prevTree });
  previous = build(prevTree, '1', join(work, 'previous')).find((f) => f.endsWith('.noarch.rpm'))!;

  const built = build(root, '2', join(work, 'current'));
  current = built.find((f) => f.endsWith('.noarch.rpm'))!;
  srpm = built.find((f) => f.endsWith('.src.rpm'))!;
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm run rpm', () => {
  it('builds the binary and the source RPM', () => {
    expect(current).toBe(join(work, 'current', `mutt-${version}-2.noarch.rpm`));
    expect(srpm).toBe(join(work, 'current', `mutt-${version}-2.src.rpm`));
    expect(previous).toBe(join(work, 'previous', `mutt-${version}-1.noarch.rpm`));
    expect(qp(current, '--qf', '%{NAME} %{VERSION} %{RELEASE} %{ARCH}')).toBe(`mutt ${version} 2 noarch`);
  });

  it('rebuilds from the source RPM alone, without the network', () => {
    const top = join(work, 'rebuild');
    // A network namespace with nothing in it: any download would fail.
    const r = sh('unshare', [
      '--net',
      'rpmbuild',
      '--rebuild',
      '--nodeps',
      '--define',
      `_topdir ${top}`,
      '--define',
      `__node ${process.execPath}`,
      srpm,
    ]);
    expect(r.status, r.out.slice(-3000)).toBe(0);
    expect(existsSync(join(top, 'RPMS/noarch', `mutt-${version}-1.noarch.rpm`))).toBe(true);
  });

  it('passes rpmlint without errors; every warning left is explained in the spec', () => {
    const r = sh('rpmlint', ['-r', join(root, 'packaging/rpm/mutt.rpmlintrc'), current, srpm]);
    const lines = r.stdout.split('\n').filter((l) => /^mutt[.\w-]*: [EW]: /.test(l));
    expect(lines.filter((l) => / E: /.test(l))).toEqual([]);
    const warnings = new Set(lines.map((l) => / W: (\S+)/.exec(l)![1]!));
    const explained = /^# rpmlint[\s\S]*?^(?!#)/m.exec(spec)![0];
    for (const w of warnings) expect(explained, `warning ${w} is not explained in mutt.spec`).toContain(w);
    expect(r.stdout).toMatch(/2 packages and 0 specfiles checked; 0 errors/);
  });
});

describe('the package (rpm -qp)', () => {
  const files = () =>
    new Map(
      qp(
        current,
        '--qf',
        '[%{FILENAMES}\t%{FILEMODES:perms}\t%{FILEUSERNAME}\t%{FILEGROUPNAME}\t%{FILEFLAGS:fflags}\n]',
      )
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [name, mode, user, group, flags] = l.split('\t');
          return [name!, { mode: mode!, owner: `${user}:${group}`, flags: flags! }];
        }),
    );

  it('holds the program, its data, the unit and the system integration files', () => {
    const f = files();
    for (const p of [
      '/usr/bin/mutt',
      '/usr/lib/mutt/mutt.js',
      '/usr/lib/mutt/worker.js',
      '/usr/lib/mutt/syslog-parser.js',
      '/usr/lib/mutt/package.json',
      '/usr/lib/mutt/etc/mibs',
      '/usr/share/mutt/sql/0001_base.sql',
      '/usr/share/mutt/mibs/IF-MIB.txt',
      '/usr/lib/systemd/system/mutt.service',
      '/usr/lib/sysusers.d/mutt.conf',
      '/usr/lib/tmpfiles.d/mutt.conf',
      '/usr/lib/sysctl.d/60-mutt-udp.conf',
      '/usr/lib/firewalld/services/mutt.xml',
      '/usr/share/man/man8/mutt.8',
      '/usr/share/bash-completion/completions/mutt',
      '/etc/mutt/mutt.env',
      '/etc/mutt/secrets',
      `/usr/share/licenses/mutt-${version}/LICENSE`,
      `/usr/share/licenses/mutt-${version}/THIRD-PARTY-LICENSES.txt`,
      `/usr/share/doc/mutt-${version}/INSTALL.md`,
    ])
      expect(f.has(p), p).toBe(true);
    // Every SQL migration and MIB of the tree.
    for (const d of ['sql', 'etc/mibs'])
      for (const n of ok('ls', [join(root, d)])
        .split('\n')
        .filter((x) => /\.(sql|txt)$/.test(x)))
        expect(f.has(`/usr/share/mutt/${d === 'sql' ? 'sql' : 'mibs'}/${n}`), n).toBe(true);
    // Nothing of the build or the tests.
    expect([...f.keys()].filter((p) => /node_modules|\/test\/|\.ts$/.test(p))).toEqual([]);
  });

  it('sets modes, owners and %config(noreplace) on the configuration', () => {
    const f = files();
    expect(f.get('/etc/mutt/mutt.env')).toEqual({ mode: '-rw-r-----', owner: 'root:mutt', flags: 'cn' });
    expect(f.get('/etc/mutt/secrets')).toMatchObject({ mode: 'drwxr-x---', owner: 'root:mutt' });
    expect(f.get('/usr/bin/mutt')).toMatchObject({ mode: '-rwxr-xr-x', owner: 'root:root' });
    expect(f.get('/usr/lib/mutt/mutt.js')).toMatchObject({ mode: '-rw-r--r--', owner: 'root:root' });
    expect(f.get(`/usr/share/licenses/mutt-${version}/LICENSE`)?.flags).toBe('l');
    // Only mutt.env is configuration: the unit and the other vendor files are replaced on upgrade.
    expect([...f].filter(([, v]) => v.flags.includes('c')).map(([k]) => k)).toEqual(['/etc/mutt/mutt.env']);
  });

  it('requires Node.js 22, recommends Redis or Valkey and PostgreSQL, and declares what it bundles', () => {
    const requires = qp(current, '--requires');
    expect(requires).toContain('nodejs(engine) >= 22');
    expect(requires).toContain('/usr/bin/node');
    expect(requires).toContain('systemd');
    expect(requires).not.toMatch(/redis|valkey|postgresql/);
    expect(qp(current, '--recommends').trim().split('\n').sort()).toEqual([
      '(redis >= 6.2 or valkey)',
      'net-snmp-libs',
      'postgresql-server',
    ]);
    const bundled = JSON.parse(readFileSync(join(root, 'dist/bundled.json'), 'utf8')) as {
      name: string;
      version: string;
    }[];
    const provides = qp(current, '--provides');
    for (const b of bundled) expect(provides).toContain(`bundled(npm(${b.name})) = ${b.version}`);
    expect(qp(current, '--qf', '%{LICENSE}')).toMatch(/^MIT AND /);
  });

  it('has scriptlets that create the user, apply tmpfiles, presets and restarts, and pass shellcheck', () => {
    const scripts = Object.fromEntries(
      ['PREIN', 'POSTIN', 'PREUN', 'POSTUN'].map((t) => [t, qp(current, '--qf', `%{${t}}`)]),
    );
    expect(scripts.PREIN).toContain('systemd-sysusers --replace=/usr/lib/sysusers.d/mutt.conf -');
    expect(scripts.PREIN).toContain('u mutt - "MUTT event-intake daemon" /var/lib/mutt');
    expect(scripts.POSTIN).toContain('install-system-units mutt.service');
    expect(scripts.POSTIN).toContain('systemd-tmpfiles --create /usr/lib/tmpfiles.d/mutt.conf');
    expect(scripts.PREUN).toContain('remove-system-units mutt.service');
    expect(scripts.POSTUN).toContain('mark-restart-system-units mutt.service');
    // Nothing removes the state directory.
    expect(Object.values(scripts).join('\n')).not.toMatch(/rm\s+-[a-z]*r/);
    // The /usr/bin/mutt wrapper and the container scripts of these tests, too.
    for (const f of ['packaging/rpm/mutt.sh', 'test/packaging/boot.sh', 'test/packaging/in-container.sh']) {
      const r = sh('shellcheck', ['--severity=style', join(root, f)]);
      expect(r.stdout, f).toBe('');
    }
    for (const [tag, text] of Object.entries(scripts)) {
      const r = sh('shellcheck', ['--shell=sh', '--severity=style', '-'], { input: `#!/bin/sh\n${text}\n` });
      expect(r.stdout, `${tag}:\n${text}`).toBe('');
      expect(r.status).toBe(0);
    }
  });
});

describe('installed into a scratch root (rpm --root)', () => {
  let scratch: string;
  let svc: TestServices;
  beforeAll(async () => {
    svc = await useServices();
    scratch = join(work, 'scratch');
    mkdirSync(scratch);
    // Debian's rpm knows none of the dependencies, and the scriptlets need a full system (they run
    // for real in the container test below).
    const r = sh('rpm', ['--root', scratch, '-i', '--nodeps', '--noscripts', current]);
    expect(r.status, r.out).toBe(0);
  });
  afterAll(async () => svc?.cleanup());

  const mutt = () => join(scratch, 'usr/lib/mutt/mutt.js');

  it('validates the shipped mutt.env', () => {
    const dataDir = join(svc.tmp, 'validate');
    const r = sh(process.execPath, [mutt(), 'validate', '--json'], {
      env: {
        PATH: process.env.PATH,
        HOME: svc.tmp,
        MUTT_ENV_FILE: join(scratch, 'etc/mutt/mutt.env'),
        MUTT_DATA_DIR: dataDir,
      },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      problems: [],
      env_file: join(scratch, 'etc/mutt/mutt.env'),
      redis: 'embedded',
      postgres: 'embedded',
      ports: { http_ingest: 8080, admin_ui: 8090, syslog_udp: 514, syslog_tcp: 514, snmp_traps: 162 },
    });
  });

  it('serves from the installed tree against Redis and PostgreSQL and answers /health', async () => {
    const port = await freePort();
    const p = startMutt(
      { ...svc.env, MUTT_ENV_FILE: join(scratch, 'etc/mutt/mutt.env'), SERVER_PORT_INGESTOR: String(port) },
      ['serve'],
      mutt(),
    );
    try {
      expect(await p.running()).toBe(port);
      // The MIBs come through the installed etc/mibs link to /usr/share/mutt/mibs.
      await p.waitForMessage(/database schema is up to date/);
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'healthy', redis: 'ok', postgres: 'ok', version });
    } finally {
      await p.stop();
    }
  });

  it('finds its MIBs, man page and completion where the package put them', () => {
    const env = {
      PATH: process.env.PATH,
      HOME: svc.tmp,
      MUTT_ENV_FILE: '/dev/null',
      SNMP_MIB_DIRS: 'etc/mibs',
    };
    const r = sh(process.execPath, [mutt(), 'mib', 'translate', 'IF-MIB::ifOperStatus'], { env });
    expect(r.stdout.trim()).toBe('1.3.6.1.2.1.2.2.1.8');
    const man = sh('man', ['-l', join(scratch, 'usr/share/man/man8/mutt.8')], {
      env: { ...process.env, MANWIDTH: '100' },
    });
    expect(man.stdout).toContain('mutt keys rotate');
    const completion = readFileSync(join(scratch, 'usr/share/bash-completion/completions/mutt'), 'utf8');
    expect(completion).toContain('complete -F _mutt mutt');
  });

  // systemd-analyze verify needs the whole system (sysinit.target, /usr/bin/mutt, mutt(8)): it runs
  // in the container below, on the installed package.
  it('has the unit of the tree, scoring 2.0 or less in systemd-analyze security', () => {
    const unit = join(scratch, 'usr/lib/systemd/system/mutt.service');
    expect(readFileSync(unit, 'utf8')).toBe(
      readFileSync(join(root, 'packaging/systemd/mutt.service'), 'utf8'),
    );
    const s = sh('systemd-analyze', ['security', '--offline=true', '--no-pager', unit]);
    const exposure = Number(/Overall exposure level for mutt\.service: ([\d.]+)/.exec(s.stdout)?.[1]);
    expect(exposure).toBeLessThanOrEqual(2.0);
    expect(s.stdout).toContain('✓ SystemCallFilter=~@privileged');
  });
});

describe('with its scriptlets and a real systemd (container on an overlay of this machine)', () => {
  let results: Record<string, string>;
  let out: string;
  const file = (name: string) => readFileSync(join(out, name), 'utf8');

  beforeAll(() => {
    out = join(work, 'boot');
    mkdirSync(out);
    chmodSync(out, 0o777);
    const r = sh('unshare', [
      '--mount',
      '--propagation',
      'private',
      join(root, 'test/packaging/boot.sh'),
      previous,
      current,
      out,
      process.execPath,
    ]);
    expect(r.status, r.out).toBe(0);
    results = Object.fromEntries(
      file('results')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(results.complete, `container runs incomplete:\n${file('results')}`).toBe('1');
  }, 900_000);

  it('installs with its scriptlets: the mutt user, the directories, the modes', () => {
    expect(results.installed).toBe(`mutt-${version}-1.noarch`);
    expect(results['first.mutt_user']).toBe('mutt:/var/lib/mutt:/usr/sbin/nologin');
    expect(results['first.env_mode']).toBe('640 root:mutt');
    expect(results['first.secrets_mode']).toBe('750 root:mutt');
    expect(results['first.state_mode']).toBe('750 mutt:mutt');
  });

  it('starts with systemctl start, which returns once MUTT answers (Type=notify)', () => {
    expect(results['first.start_rc']).toBe('0');
    expect(results['first.active']).toBe('active');
    // Right after systemctl start returned, /health answers at once.
    expect(results['first.health_code']).toBe('200');
    expect(results['first.status_text']).toBe(
      'running: ingest 8080, syslog udp 514, syslog tcp 514, snmp trap 162, webui 8090',
    );
  });

  it('runs as mutt with CAP_NET_BIND_SERVICE only, and its private Redis and PostgreSQL as mutt under /var/lib/mutt', () => {
    expect(results['first.main_user']).toBe('mutt');
    expect(results['first.main_caps']).toBe('0000000000000400'); // bit 10: CAP_NET_BIND_SERVICE
    expect(file('servers.txt').trim().split('\n')).toEqual(['mutt/postgres', 'mutt/redis-server']);
    expect(results['first.data_dirs']).toContain('postgres redis secrets');
    expect(results['first.pg_owner']).toBe('mutt');
    expect(results['first.redis_owner']).toBe('mutt');
  });

  it('receives syslog on 514, traps on 162 and HTTP with the generated key, and says where the keys are', () => {
    expect(results['first.syslog_messages']).toBe('2');
    expect(results['first.snmp_traps']).toBe('1');
    expect(results['first.ingest_code']).toBe('200');
    const journal = file('journal-first.txt');
    for (const k of ['ingest_api_key', 'webui_api_key'])
      expect(journal).toContain(
        `generated one in /var/lib/mutt/secrets/${k} (\\"mutt keys show\\" prints it)`,
      );
    const keys = JSON.parse(file('keys.json')) as { keys: { source: string; file: string; value: string }[] };
    expect(keys.keys.map((k) => [k.source, k.file])).toEqual([
      ['generated', '/var/lib/mutt/secrets/ingest_api_key'],
      ['generated', '/var/lib/mutt/secrets/webui_api_key'],
    ]);
  });

  it('serves the admin API on 8090 with the generated admin key, showing a rule added with mutt rules add', () => {
    expect(results['first.rules_add_rc']).toBe('0');
    expect(results['first.api_code']).toBe('200');
    expect(results['first.api_rule']).toBe('1');
  });

  it('reloads after validating, refuses a bad reload and keeps running', () => {
    expect(results['first.reload_rc']).toBe('0');
    expect(results['first.bad_reload_rc']).not.toBe('0');
    expect(results['first.active_after_bad_reload']).toBe('active');
  });

  it('passes systemd-analyze verify and security on the running system', () => {
    expect(results['first.verify_rc']).toBe('0');
    expect(file('verify.txt')).toBe('');
    const exposure = Number(
      /Overall exposure level for mutt\.service: ([\d.]+)/.exec(file('security.txt'))?.[1],
    );
    expect(exposure).toBeLessThanOrEqual(2.0);
  });

  it('stops, draining and stopping its private servers', () => {
    expect(results['first.stop_rc']).toBe('0');
    expect(results['first.stopped']).toBe('inactive');
    expect(results['first.servers_after_stop']).toBe('0');
    expect(file('journal-first.txt')).toContain('"msg":"MUTT stopped"');
  });

  // Bad input: a misspelled variable in mutt.env, and 514 taken by rsyslog.
  it('does not start with a misspelled variable, naming it and the closest known one', () => {
    expect(results['first.bad_start_rc']).not.toBe('0');
    expect(results['first.bad_start_state']).toBe('failed');
    expect(file('journal-first.txt')).toContain(
      'mutt: configuration error: /etc/mutt/mutt.env: REDIS_HOTS: unknown variable; did you mean REDIS_HOST?',
    );
  });

  it('does not start when rsyslog holds 514, naming the port and the variable to change', () => {
    expect(results['first.busy_start_rc']).not.toBe('0');
    expect(results['first.busy_state']).toBe('failed');
    expect(file('journal-first.txt')).toContain(
      `mutt: SYSLOG_UDP_PORT=514 (udp): address already in use, another process holds it (find it with "ss -lunp 'sport = :514'"). Stop the other program listening there, or set SYSLOG_UDP_PORT to another port in /etc/mutt/mutt.env (0 turns this listener off).`,
    );
  });

  it('upgrades keeping the edited mutt.env, the new default as mutt.env.rpmnew, and starts again with its data', () => {
    expect(results.upgraded).toBe(`mutt-${version}-2.noarch`);
    expect(results.env_kept).toBe('2');
    expect(results.rpmnew).toBe('yes');
    expect(results.rpmnew_mode).toBe('640 root:mutt');
    expect(results['upgraded.start_rc']).toBe('0');
    expect(results['upgraded.health_code']).toBe('200');
    expect(results['upgraded.keys_kept']).toBe('2');
    // Migrations ran at start-up against the kept database (under the advisory lock).
    expect(file('journal-upgraded.txt')).toContain('"msg":"database schema is up to date"');
    expect(results['upgraded.stop_rc']).toBe('0');
  });

  it('erases the program and keeps /var/lib/mutt and the edited configuration', () => {
    expect(results.erased).toBe('yes');
    expect(results.program_after_erase).toBe('gone');
    expect(results.state_after_erase).toContain('postgres redis secrets');
    expect(results.pg_data_after_erase).toBe('kept');
    expect(results.env_after_erase).toContain('mutt.env.rpmsave');
  });
});
