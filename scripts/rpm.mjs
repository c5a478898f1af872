#!/usr/bin/env node
// `npm run rpm`: builds mutt-<version>-<release>.noarch.rpm and the source RPM with rpmbuild, offline,
// from this checkout (after `npm ci`). It prepares the spec's sources (packaging/rpm/mutt.spec):
//   Source0  the checkout's files (git ls-files: tracked and new, not ignored)
//   Source1  the npm packages the build needs (production dependencies and esbuild), from node_modules
//   Source2  macros naming the npm packages the bundle contains (bundled() provides and licences)
//   Source3  packaging/systemd/mutt.sysusers
// then runs rpmbuild -ba in a temporary directory and copies the packages to dist/rpm/.
//
// Options: --release N (default 1), --outdir DIR (default dist/rpm), --quiet.
// On a host whose rpm database does not hold the build dependencies (Debian, where CI builds the
// package), rpmbuild runs with --nodeps and uses the Node.js running this script.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const quiet = args.includes('--quiet');
const release = opt('--release', '1');
const outdir = resolve(root, opt('--outdir', 'dist/rpm'));
const log = (s) => quiet || console.log(s);

function run(cmd, argv, o = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28, ...o });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${argv.join(' ')} failed (exit ${r.status}):\n${(r.stderr || r.stdout || '').slice(-4000)}`,
    );
  }
  return r.stdout;
}

function fail(message) {
  console.error(`rpm: ${message}`);
  process.exit(1);
}

if (spawnSync('rpmbuild', ['--version']).status !== 0)
  fail('rpmbuild is missing: "apt-get install rpm" (Debian) or "dnf install rpm-build" (RHEL)');
if (!/^[0-9]+$/.test(release)) fail(`--release "${release}": expected a number`);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = pkg.version;
const spec = readFileSync(join(root, 'packaging/rpm/mutt.spec'), 'utf8');
const specVersion = /^Version:\s*(\S+)/m.exec(spec)?.[1];
if (specVersion !== version)
  fail(`packaging/rpm/mutt.spec says Version: ${specVersion}, package.json says ${version}: make them equal`);
if (!existsSync(join(root, 'node_modules/esbuild')))
  fail('node_modules is missing: run "npm ci" first (the package is built offline from it)');

// Reproducible archives: fixed times, owners and order.
const epoch = process.env.SOURCE_DATE_EPOCH ?? run('git', ['log', '-1', '--format=%ct']).trim();
const tarFlags = [
  '--sort=name',
  `--mtime=@${epoch}`,
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  '--mode=u+w,go-w',
];

// The rpmbuild tree lives outside the checkout, so the build can only use the vendored packages
// (Node.js would otherwise find the checkout's node_modules above the build directory).
const top = mkdtempSync(join(tmpdir(), 'mutt-rpmbuild-'));
if (!process.env.MUTT_RPM_KEEP) process.on('exit', () => rmSync(top, { recursive: true, force: true }));
mkdirSync(outdir, { recursive: true });
for (const d of ['SOURCES', 'SPECS', 'BUILD', 'RPMS', 'SRPMS', 'BUILDROOT'])
  mkdirSync(join(top, d), { recursive: true });
const sources = join(top, 'SOURCES');
const prefix = `mutt-${version}`;

// Source0: the checkout's files, deleted ones left out.
const deleted = new Set(run('git', ['ls-files', '--deleted', '-z']).split('\0').filter(Boolean));
const files = run('git', ['ls-files', '-co', '--exclude-standard', '-z'])
  .split('\0')
  .filter((f) => f && !deleted.has(f) && !f.startsWith('node_modules') && existsSync(join(root, f)));
run(
  'tar',
  [
    ...tarFlags,
    '--null',
    '-T',
    '-',
    `--transform=s,^,${prefix}/,`,
    '-czf',
    join(sources, `${prefix}.tar.gz`),
  ],
  {
    input: `${files.join('\0')}\0`,
  },
);

// Source1 (unpacked inside the source tree by %setup -a 1): production dependencies (package-lock entries not marked dev) plus esbuild and its
// platform binary, as they are in node_modules.
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const vendor = Object.entries(lock.packages)
  .filter(
    ([p, e]) =>
      p.startsWith('node_modules/') && (!e.dev || /node_modules\/(esbuild|@esbuild\/[^/]+)$/.test(p)),
  )
  .map(([p]) => p)
  .filter((p) => existsSync(join(root, p)))
  .sort();
run('tar', [...tarFlags, '-czf', join(sources, `${prefix}-vendor.tar.gz`), ...vendor]);

// Source2: what the bundle contains, from a build of this checkout.
run(process.execPath, ['scripts/build.mjs', '--quiet', '--licenses']);
const bundled = JSON.parse(readFileSync(join(root, 'dist/bundled.json'), 'utf8'));
const spdx = (l) => (/^\(.*\)$/.test(l) ? l : l.includes(' OR ') ? `(${l})` : l);
const licenses = [...new Set(bundled.map((b) => spdx(b.license)).filter((l) => l !== 'MIT'))].sort();
writeFileSync(
  join(sources, `${prefix}-bundled.macros`),
  [
    '# npm packages bundled into MUTT by esbuild (generated by scripts/rpm.mjs)',
    `%mutt_bundled_licenses ${licenses.join(' AND ') || 'MIT'}`,
    `%mutt_bundled_provides \\`,
    ...[...new Map(bundled.map((b) => [`${b.name}@${b.version}`, b])).values()].map(
      (b) => `Provides: bundled(npm(${b.name})) = ${b.version}\\`,
    ),
    '%{nil}',
    '',
  ].join('\n'),
);
copyFileSync(join(root, 'packaging/systemd/mutt.sysusers'), join(sources, 'mutt.sysusers'));
copyFileSync(join(root, 'packaging/rpm/mutt.spec'), join(top, 'SPECS/mutt.spec'));

// Build dependencies are checked only where rpm knows the installed packages (RHEL, Fedora).
const rpmKnowsHost = spawnSync('rpm', ['-q', '--whatprovides', 'nodejs(engine)']).status === 0;
const rpmbuildArgs = [
  '-ba',
  ...(rpmKnowsHost ? [] : ['--nodeps']),
  '--define',
  `_topdir ${top}`,
  '--define',
  `mutt_release ${release}`,
  '--define',
  `__node ${rpmKnowsHost ? '/usr/bin/node' : process.execPath}`,
  '--define',
  `_buildhost reproducible`,
  '--define',
  'use_source_date_epoch_as_buildtime 1',
  '--define',
  'clamp_mtime_to_source_date_epoch 1',
  join(top, 'SPECS/mutt.spec'),
];
log(`rpmbuild ${rpmbuildArgs.join(' ')}`);
const r = spawnSync('rpmbuild', rpmbuildArgs, {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 1 << 28,
  env: { ...process.env, SOURCE_DATE_EPOCH: epoch, LC_ALL: 'C.UTF-8' },
});
if (r.status !== 0) {
  process.stderr.write(r.stdout.slice(-6000));
  process.stderr.write(r.stderr.slice(-6000));
  fail(`rpmbuild failed (exit ${r.status})`);
}
const built = [
  ...readdirSync(join(top, 'RPMS/noarch')).map((f) => join(top, 'RPMS/noarch', f)),
  ...readdirSync(join(top, 'SRPMS')).map((f) => join(top, 'SRPMS', f)),
];
for (const f of built) {
  const dest = join(outdir, f.split('/').pop());
  copyFileSync(f, dest);
  console.log(dest);
}
