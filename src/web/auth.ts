// Admin authentication: the key in `X-API-KEY`, or `?api_key=` (Python MUTT's browser convenience),
// compared in constant time with WEBUI_API_KEY and, during a rotation, WEBUI_API_KEY_PREVIOUS. The
// key is never logged: URLs are logged with `api_key` redacted, and audit rows name the caller by
// the key's fingerprint (`api:3f2a9c1e`).
import type { MiddlewareHandler } from 'hono';
import { type ApiKeyRing, apiKeyChecker, keyFingerprint } from '../core/security.ts';
import type { WebEnv } from './env.ts';

export interface AuthOptions {
  apiKey: string | undefined;
  previousApiKey?: string | undefined;
  /** The keys in force, following rotations (Vault, SIGHUP); replaces apiKey/previousApiKey when given. */
  keys?: ApiKeyRing;
  /** Paths anyone may read. */
  publicPaths?: readonly string[];
}

/** The URL's path and query with every `api_key` value replaced, for logs. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = url.slice(0, q === -1 ? undefined : q).replace(/^[a-z]+:\/\/[^/]+/i, '');
  if (q === -1) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((kv) => (/^api_key(=|$)/i.test(kv) ? 'api_key=[redacted]' : kv))
    .join('&');
  return `${path}?${query}`;
}

/** The key a request presents (header first), or undefined. */
export function presentedKey(header: string | undefined, url: string): string | undefined {
  if (header !== undefined && header !== '') return header;
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get('api_key') ?? undefined;
}

export function apiKeyAuth({
  apiKey,
  previousApiKey,
  keys,
  publicPaths = [],
}: AuthOptions): MiddlewareHandler<WebEnv> {
  if (apiKey === undefined || apiKey.length === 0)
    throw new Error('the admin API needs WEBUI_API_KEY (MUTT generates one when it is unset)');
  const fixedCurrent = apiKeyChecker(apiKey);
  const fixedPrevious = apiKeyChecker(previousApiKey);
  const current = keys ? (k: string | undefined) => keys.check(k) === 'current' : fixedCurrent;
  const previous = keys ? (k: string | undefined) => keys.check(k) === 'previous' : fixedPrevious;
  const open = new Set(publicPaths);
  return async function checkAdminKey(c, next) {
    if (open.has(c.req.path)) return next();
    const key = presentedKey(c.req.header('x-api-key'), c.req.url);
    // Both checks run, so timing does not tell which key matched.
    const a = current(key);
    const b = previous(key);
    if (!a && !b) {
      c.get('metricsLabel').auth = key === undefined ? 'missing' : 'wrong';
      return c.json(
        {
          error:
            key === undefined
              ? 'Unauthorized: send the admin API key in the X-API-KEY header'
              : 'Unauthorized: the API key is not valid',
          correlation_id: c.get('correlationId'),
        },
        401,
      );
    }
    c.set('actor', { changedBy: `api:${keyFingerprint(key!)}`, correlationId: c.get('correlationId') });
    return next();
  };
}
