// The UI's static files, bundled into MUTT as text (no CDN, nothing read from disk at run time):
// our stylesheet and script, htmx and uPlot from their npm packages. Each is served under a
// content-hashed name (`/assets/app.3f2a9c1e.css`) with a one-year immutable cache, so a new MUTT
// version never meets a stale file in a browser.
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import htmxJs from 'htmx.org/dist/htmx.min.js?raw';
import uplotCss from 'uplot/dist/uPlot.min.css?raw';
import uplotJs from 'uplot/dist/uPlot.iife.min.js?raw';
import appCss from './assets/app.css?raw';
import appJs from './assets/app.js?raw';
import type { WebEnv } from '../env.ts';

export interface Asset {
  /** The URL path, with the content hash. */
  path: string;
  type: string;
  body: string;
  bytes: number;
}

function asset(name: string, ext: 'css' | 'js', body: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  return {
    path: `/assets/${name}.${hash}.${ext}`,
    type: ext === 'css' ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
    body,
    bytes: Buffer.byteLength(body),
  };
}

export const ASSETS = {
  css: asset('app', 'css', appCss),
  js: asset('app', 'js', appJs),
  htmx: asset('htmx-2.0', 'js', htmxJs),
  uplotCss: asset('uplot-1.6', 'css', uplotCss),
  uplotJs: asset('uplot-1.6', 'js', uplotJs),
} as const;

const byPath = new Map(Object.values(ASSETS).map((a) => [a.path, a]));

export function serveAssets(app: Hono<WebEnv>): void {
  app.get('/assets/:file', function serveAsset(c) {
    c.set('quiet', true);
    const a = byPath.get(c.req.path);
    if (!a) return c.text('Not found', 404);
    return c.body(a.body, 200, {
      'Content-Type': a.type,
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
  });
}
