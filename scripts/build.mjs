#!/usr/bin/env node
// Bundles MUTT into dist/ with esbuild: one file for the CLI/daemon and one per worker-thread entry.
// Lua scripts and SQL migrations are embedded as text, so the bundle needs nothing but Node.js at run time.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/** `import text from './file?raw'` (as Vite reads it in tests): the file's text, for the UI's assets. */
const rawText = {
  name: 'raw-text',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, async (args) => {
      const r = await b.resolve(args.path.slice(0, -4), { resolveDir: args.resolveDir, kind: args.kind });
      if (r.errors.length > 0) return { errors: r.errors };
      return { path: r.path, namespace: 'raw-text' };
    });
    b.onLoad({ filter: /.*/, namespace: 'raw-text' }, (args) => ({
      contents: readFileSync(args.path, 'utf8'),
      loader: 'text',
    }));
  },
};

const quiet = process.argv.includes('--quiet');
// `--bench` also bundles the benchmark runner (dist/bench.js); the product bundle never contains it.
const withBench = process.argv.includes('--bench');
// `--licenses` also writes dist/THIRD-PARTY-LICENSES.txt (the licence of every npm package the bundle
// contains) and dist/bundled.json (name, version, licence), which the RPM ships and declares.
const withLicenses = process.argv.includes('--licenses');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const started = Date.now();
const result = await build({
  entryPoints: {
    mutt: 'src/app/main.ts',
    worker: 'src/app/worker.ts',
    'syslog-parser': 'src/listeners/syslog/parser-thread.ts',
    ...(withBench ? { bench: 'bench/run.ts' } : {}),
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: quiet ? 'error' : 'warning',
  loader: { '.lua': 'text', '.sql': 'text' },
  plugins: [rawText],
  // pg's optional native binding is never used.
  external: ['pg-native', 'playwright-core'],
  define: { __MUTT_VERSION__: JSON.stringify(pkg.version) },
  banner: {
    // CommonJS dependencies (ioredis, pg) call require() on Node built-ins.
    js: "import { createRequire as __muttCreateRequire } from 'node:module'; const require = __muttCreateRequire(import.meta.url);",
  },
  metafile: !quiet || withLicenses,
});
if (!quiet) {
  const out = Object.entries(result.metafile.outputs)
    .filter(([name]) => name.endsWith('.js'))
    .map(([name, o]) => `${name} ${(o.bytes / 1024).toFixed(0)} KiB`);
  console.log(`built ${out.join(', ')} in ${Date.now() - started} ms`);
}

if (withLicenses) {
  // The packages whose files esbuild put into the bundle: node_modules/<name>/ or
  // node_modules/@scope/<name>/, nested ones included.
  const dirs = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    // Inputs loaded by a plugin carry its namespace ("raw-text:/abs/path"); the path follows it.
    const m = /^(?:[\w-]+:(?=\/))?(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]);
  }
  const packages = [...dirs]
    .map((dir) => {
      const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const license = typeof p.license === 'string' ? p.license : (p.license?.type ?? 'UNKNOWN');
      const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
      return {
        name: p.name,
        version: p.version,
        license,
        text: file ? readFileSync(join(dir, file), 'utf8') : undefined,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  const missing = packages.filter((p) => !p.text);
  const parts = ['Third-party software bundled into MUTT (dist/*.js), with the licence of each package.', ''];
  for (const p of packages) {
    parts.push('='.repeat(78), `${p.name} ${p.version} (${p.license})`, '='.repeat(78));
    parts.push(
      p.text?.trim() ?? `No licence file in the package; its package.json declares ${p.license}.`,
      '',
    );
  }
  writeFileSync('dist/THIRD-PARTY-LICENSES.txt', `${parts.join('\n')}\n`);
  writeFileSync(
    'dist/bundled.json',
    `${JSON.stringify(
      packages.map(({ name, version, license }) => ({ name, version, license })),
      null,
      2,
    )}\n`,
  );
  if (!quiet) console.log(`${packages.length} bundled packages (${missing.length} without a licence file)`);
  if (!existsSync('dist/THIRD-PARTY-LICENSES.txt')) process.exit(1);
}
