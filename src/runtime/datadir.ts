// MUTT_DATA_DIR: created on first start (mode 0750). When MUTT is root and runs its own PostgreSQL,
// that server runs as an unprivileged user and must be able to pass through the directory to reach
// its own subdirectory: search permission for others is added (no listing, no reading).
import { chmodSync, mkdirSync, statSync } from 'node:fs';

export function prepareDataDir(dataDir: string, opts: { embeddedPostgres: boolean }): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  if (opts.embeddedPostgres && process.getuid?.() === 0) {
    chmodSync(dataDir, (statSync(dataDir).mode & 0o777) | 0o001);
  }
}
