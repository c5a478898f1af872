#!/usr/bin/env node
// Bundles MUTT into dist/ with esbuild: one file for the CLI/daemon and one per worker-thread entry.
// Lua scripts and SQL migrations are embedded as text, so the bundle needs nothing but Node.js at run time.
import { readFileSync } from 'node:fs';
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
  metafile: !quiet,
});
if (!quiet) {
  const out = Object.entries(result.metafile.outputs)
    .filter(([name]) => name.endsWith('.js'))
    .map(([name, o]) => `${name} ${(o.bytes / 1024).toFixed(0)} KiB`);
  console.log(`built ${out.join(', ')} in ${Date.now() - started} ms`);
}
