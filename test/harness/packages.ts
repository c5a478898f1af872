// Installs the Debian packages the tests need when they are missing and we may (root, apt-get present).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let updated = false;

export function aptInstall(packages: readonly string[], reason: string): void {
  if (packages.length === 0) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error(`${reason}: install ${packages.join(' ')} (apt-get install ${packages.join(' ')})`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write(`[harness] installing ${packages.join(' ')} (${reason})\n`);
  if (!updated) {
    const u = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    if (u.status !== 0) throw new Error('apt-get update failed');
    updated = true;
  }
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env,
  });
  if (r.status !== 0) throw new Error(`apt-get install ${packages.join(' ')} failed`);
}

/** Installs each package whose probe file is missing. */
export function ensurePackages(probes: Record<string, () => boolean>, reason: string): void {
  aptInstall(
    Object.entries(probes)
      .filter(([, present]) => !present())
      .map(([pkg]) => pkg),
    reason,
  );
}
