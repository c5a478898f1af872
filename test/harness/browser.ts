// Debian's Chromium, driven by playwright-core, for the UI tests, the screenshots and the browser
// benchmark. Headless with a fresh profile, and every background network feature off (the machines
// have no internet: without these flags Chromium keeps trying).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { ensurePackages } from './packages.ts';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface RunningBrowser {
  browser: BrowserContext;
  close(): Promise<void>;
}

/** Installs Debian's chromium when it is missing (as root, with apt-get). */
export function ensureChromium(): void {
  ensurePackages({ chromium: () => existsSync(CHROMIUM) }, "the UI tests drive Debian's Chromium");
}

/** A persistent context on a fresh user-data directory (removed on close). */
export async function launchChromium(o: { width?: number; height?: number } = {}): Promise<RunningBrowser> {
  ensureChromium();
  const dir = mkdtempSync(join(tmpdir(), 'mutt-chromium-'));
  const browser = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: o.width ?? 1280, height: o.height ?? 800 },
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type { Browser };
