// What the global setup hands to test files (through vitest's provide/inject).
export const TEST_DB_USER = 'mutt_test';
export const TEMPLATE_DB = 'mutt_template';

export interface HarnessServices {
  /** Scratch directory of this run (removed afterwards). */
  dir: string;
  redis: { host: string; port: number };
  postgres: { host: string; port: number; user: string; binDir: string };
  redisServerBinary: string;
  /** The esbuild bundle that spawned `mutt` processes run. */
  bundle: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: HarnessServices;
  }
}
