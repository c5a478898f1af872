import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Suites that run after the fast one, one CI step each (scripts/test.mjs). */
export const LONG_SUITES = ['chaos', 'ha', 'ui', 'packaging', 'observability'] as const;

export default defineConfig({
  plugins: [
    {
      // Lua scripts and SQL migrations are imported as text, as esbuild's `text` loader does for the bundle.
      name: 'mutt-text-assets',
      enforce: 'pre',
      transform(code, id) {
        if (/\.(lua|sql)$/.test(id)) return { code: `export default ${JSON.stringify(code)};`, map: null };
        return undefined;
      },
    },
  ],
  define: { __MUTT_VERSION__: JSON.stringify(pkg.version) },
  test: {
    // The fast suite (`npm run test:fast`) and the long suites, each its own step of `npm test`
    // (scripts/test.mjs): chaos, high availability, browser UI, packaging, observability. A long
    // suite's files live in test/<suite>/.
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['src/**/*.test.ts', 'test/*.test.ts'],
        },
      },
      ...LONG_SUITES.map((name) => ({
        extends: true as const,
        test: { name, include: [`test/${name}/**/*.test.ts`], maxWorkers: 1, fileParallelism: false },
      })),
    ],
    globalSetup: ['test/harness/global-setup.ts'],
    // The UI's stylesheets are imported as text (`?raw`); without this Vitest replaces them with ''.
    css: true,
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
