/** @jsxImportSource hono/jsx */
// The browser admin UI, mounted on the admin app (src/web/app.ts) beside the JSON API:
//
//   /assets/<name>.<hash>.(js|css)   public, immutable (assets.ts)
//   /login  /logout                  sign-in with the admin API key → session cookie (session.ts)
//   every other page                 session required; POSTs need the CSRF token and a same-origin
//                                    request (Origin / Sec-Fetch-Site), else 403 and nothing changes
//   /  /rules  /tester  /hosts  /teams  /audit  /tail  /config  /dlq   (pages/*.tsx)
//
// Pages are server-rendered with hono/jsx and call the admin services (src/core/admin) directly:
// the same functions, validation and audit rows as the API and the CLI. Every response carries a
// strict Content-Security-Policy (scripts and styles from MUTT only, no inline script), frame
// refusal, nosniff and a Referrer-Policy.
import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf as originCheck } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import type { Registry } from 'prom-client';
import type { AdminContext } from '../../core/admin/context.ts';
import { AdminError } from '../../core/admin/errors.ts';
import { MetricsSummaryCache } from '../../core/admin/metrics.ts';
import type { HealthReport } from '../../runtime/health.ts';
import type { Logger } from '../../runtime/logging.ts';
import { LogLimiter } from '../../runtime/logging.ts';
import type { WebApp } from '../app.ts';
import { serveAssets } from './assets.ts';
import type { SloPanel, UiDeps, UiEnv } from './env.ts';
import { ErrorNote, Field, Input, page } from './layout.tsx';
import { registerAudit } from './pages/audit.tsx';
import { registerConfig } from './pages/config.tsx';
import { registerDashboard } from './pages/dashboard.tsx';
import { registerDlq } from './pages/dlq.tsx';
import { registerHosts } from './pages/hosts.tsx';
import { registerRules } from './pages/rules.tsx';
import { registerTail } from './pages/tail.tsx';
import { SourceRates } from './rates.ts';
import { SESSION_COOKIE, type Session, Sessions, SignInLimiter } from './session.ts';

export interface UiOptions {
  apiKey: string | undefined;
  previousApiKey?: string;
  log: Logger;
  health: () => Promise<HealthReport>;
  /** The node's metrics registry: per-source rates from the listeners' counters. */
  registry: Registry;
  /** The SLO panel's data, when this node computes SLOs (the dashboard keeps a place for it). */
  slo?: () => Promise<SloPanel | undefined>;
  /**
   * Called once with a function that applies new admin keys; the caller invokes it on every rotation
   * (Vault, systemd credentials or files re-read on SIGHUP).
   */
  watchKeys?: (apply: (apiKey: string | undefined, previousApiKey: string | undefined) => void) => void;
  /** Session idle timeout and absolute limit, seconds (defaults 8 h and 24 h). */
  sessionIdleSeconds?: number;
  sessionMaxSeconds?: number;
}

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const PUBLIC = new Set(['/login']);

/** Over TLS (the request's own scheme: MUTT does not trust X-Forwarded-Proto). */
export const overTls = (c: Context): boolean => new URL(c.req.url).protocol === 'https:';

function setSessionCookie(c: Context, value: string, maxAge: number): void {
  setCookie(c, SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: overTls(c),
    path: '/',
    maxAge,
  });
}

/** A `next` target that stays on this site. */
function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}

const limiter = new LogLimiter(60_000);

export function mountUi(app: WebApp, ctx: AdminContext, o: UiOptions): { rates: SourceRates } {
  if (o.apiKey === undefined || o.apiKey === '') throw new Error('the admin UI needs WEBUI_API_KEY');
  const sessions = new Sessions({
    apiKey: o.apiKey,
    previousApiKey: o.previousApiKey,
    idleSeconds: o.sessionIdleSeconds,
    maxSeconds: o.sessionMaxSeconds,
  });
  o.watchKeys?.((current, previous) => {
    try {
      sessions.setKeys(current, previous);
    } catch (err) {
      o.log.error({ err: (err as Error).message }, 'admin UI: the new admin keys were not applied');
    }
  });
  const rates = new SourceRates(o.registry);
  rates.start();
  const deps: UiDeps = {
    ctx,
    sessions,
    log: o.log,
    health: o.health,
    rates,
    metricsCache: new MetricsSummaryCache(ctx.config.METRICS_CACHE_TTL),
    slo: o.slo,
  };
  const node = { pod: ctx.node?.pod ?? ctx.config.podName, roles: ctx.node?.roles ?? ctx.config.roles };
  const ui = new Hono<UiEnv>();
  const signIns = new SignInLimiter();
  const origin = originCheck();

  serveAssets(ui as never);

  const uiSession: MiddlewareHandler<UiEnv> = async function uiSession(c, next) {
    if (c.req.path.startsWith('/api/') || c.req.path.startsWith('/assets/')) return next();
    c.set('node', node);
    c.set('csrf', '');
    const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method);
    // 1. A state change from another site is refused before anything else (even signed out).
    if (unsafe) {
      try {
        await origin(c as never, async () => undefined);
      } catch (err) {
        if (!(err instanceof HTTPException)) throw err;
        return refused(c, 'the request came from another site');
      }
    }
    // 2. The session.
    const session = sessions.verify(getCookie(c, SESSION_COOKIE));
    if (!session) {
      if (PUBLIC.has(c.req.path)) return secure(c, next);
      return signInFirst(c);
    }
    c.set('session', session);
    c.set('csrf', sessions.csrfToken(session));
    c.set('actor', { changedBy: `ui:${session.fp}`, correlationId: c.get('correlationId') });
    // 3. The CSRF token on every state change.
    if (unsafe) {
      let token = c.req.header('x-csrf-token');
      if (
        !token &&
        /^(application\/x-www-form-urlencoded|multipart\/form-data)/.test(c.req.header('content-type') ?? '')
      ) {
        const body = await c.req.parseBody();
        token = typeof body._csrf === 'string' ? body._csrf : undefined;
      }
      if (!sessions.checkCsrf(session, token))
        return refused(c, 'the form had no valid CSRF token (reload the page and try again)');
    }
    const renewed = sessions.renew(session);
    if (renewed)
      setSessionCookie(c, renewed, sessions.maxAge({ ...session, exp: session.exp + sessions.idleSeconds }));
    return secure(c, next);
  };
  ui.use('*', uiSession);

  async function secure(c: Context<UiEnv>, next: () => Promise<void>): Promise<void> {
    await next();
    c.header('Content-Security-Policy', CSP);
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    if (!c.res.headers.get('Cache-Control')) c.header('Cache-Control', 'no-store');
  }

  function refused(c: Context<UiEnv>, why: string): Response | Promise<Response> {
    c.header('Content-Security-Policy', CSP);
    c.header('Cache-Control', 'no-store');
    o.log.warn(
      { correlation_id: c.get('correlationId'), path: c.req.path, why },
      'admin UI: request refused (CSRF)',
    );
    return page(
      c,
      { title: 'Refused', status: 403 },
      <div class="note bad" role="alert">
        403 Forbidden: {why}. Nothing was changed.
      </div>,
    );
  }

  function signInFirst(c: Context<UiEnv>): Response {
    c.header('Cache-Control', 'no-store');
    const next = c.req.path + (new URL(c.req.url).search || '');
    const to = `/login?next=${encodeURIComponent(next)}`;
    if (c.req.header('hx-request')) {
      c.header('HX-Redirect', to);
      return c.text('Sign in first', 401);
    }
    const accept = c.req.header('accept') ?? '';
    if (
      accept.includes('application/json') ||
      accept.includes('text/event-stream') ||
      c.req.path.endsWith('.json') ||
      c.req.path.startsWith('/ui/') ||
      c.req.path.endsWith('/stream')
    )
      return c.json({ error: 'Sign in first' }, 401);
    return c.redirect(c.req.method === 'GET' ? to : '/login?expired=1', 303);
  }

  // ── sign-in and sign-out ──────────────────────────────────────────────────────────────────────
  const signInPage = (
    c: Context<UiEnv>,
    o2: { error?: string; next?: string; note?: string; status?: number },
  ) =>
    page(
      c,
      { title: 'Sign in', status: o2.status },
      <div class="signin panel">
        <h1>Sign in to MUTT</h1>
        {o2.note ? <div class="note warn">{o2.note}</div> : null}
        <form method="post" action="/login" class="stack">
          <input type="hidden" name="next" value={safeNext(o2.next)} />
          <Field
            name="api_key"
            label="Admin API key"
            errors={o2.error ? { api_key: o2.error } : undefined}
            hint={
              <span>
                <code>WEBUI_API_KEY</code>; generated on first start in{' '}
                <code>&lt;data dir&gt;/secrets/webui_api_key</code> (<code>/var/lib/mutt</code> as root).
              </span>
            }
          >
            <Input
              name="api_key"
              type="password"
              autocomplete="current-password"
              autofocus
              errors={o2.error ? { api_key: o2.error } : undefined}
            />
          </Field>
          <div>
            <button class="primary" type="submit">
              Sign in
            </button>
          </div>
        </form>
      </div>,
    );

  ui.get('/login', (c) => {
    if (c.get('session')) return c.redirect(safeNext(c.req.query('next')), 303);
    const note =
      c.req.query('expired') !== undefined
        ? 'Your session ended (or was never there): sign in again. Nothing was changed.'
        : c.req.query('out') !== undefined
          ? 'Signed out.'
          : undefined;
    return signInPage(c, { next: c.req.query('next'), note });
  });

  ui.post('/login', async (c) => {
    const addr = clientAddress(c);
    const wait = signIns.blocked(addr);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return signInPage(c, { error: `Too many failed sign-ins from ${addr}: wait ${wait} s`, status: 429 });
    }
    const body = await c.req.parseBody();
    const key = typeof body.api_key === 'string' ? body.api_key : '';
    const next = typeof body.next === 'string' ? body.next : undefined;
    if (!sessions.checkKey(key)) {
      signIns.fail(addr);
      const suppressed = limiter.take(`signin:${addr}`);
      if (suppressed >= 0) o.log.warn({ client: addr, suppressed }, 'admin UI: sign-in with a wrong key');
      return signInPage(c, {
        error: key === '' ? 'Enter the admin API key' : 'This key is not valid',
        next,
        status: 401,
      });
    }
    const { session, cookie } = sessions.create(key);
    setSessionCookie(c, cookie, sessions.maxAge(session));
    o.log.info({ changed_by: `ui:${session.fp}`, client: addr }, 'admin UI: signed in');
    return c.redirect(safeNext(next), 303);
  });

  ui.post('/logout', (c) => {
    const s = c.get('session') as Session;
    sessions.revoke(s);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: overTls(c), httpOnly: true, sameSite: 'Strict' });
    return c.redirect('/login?out=1', 303);
  });

  // ── what is down (polled by every page for its banner) ───────────────────────────────────────
  let cached: { at: number; report: Promise<HealthReport> } | undefined;
  ui.get('/ui/status', async (c) => {
    c.set('quiet', true);
    const t = Date.now();
    if (!cached || t - cached.at > 2000) cached = { at: t, report: o.health() };
    const h = await cached.report;
    return c.json({ redis: h.redis ?? 'ok', postgres: h.postgres ?? 'not used', status: h.status });
  });

  registerDashboard(ui, deps);
  registerRules(ui, deps);
  registerHosts(ui, deps);
  registerAudit(ui, deps);
  registerTail(ui, deps);
  registerConfig(ui, deps);
  registerDlq(ui, deps);

  // Any other page: an HTML 404 for people (the API keeps its JSON one).
  ui.get('*', (c) => {
    if (c.req.path.startsWith('/api/')) return c.notFound();
    return page(
      c,
      { title: 'Not found', status: 404 },
      <div>
        <h1>Not found</h1>
        <p>
          There is no page at <code>{c.req.path}</code>. <a href="/">Back to the dashboard</a>.
        </p>
      </div>,
    );
  });

  ui.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    const known = err instanceof AdminError;
    if (!known) {
      const suppressed = limiter.take('internal');
      if (suppressed >= 0)
        o.log.error({ correlation_id: c.get('correlationId'), err, suppressed }, 'admin UI request failed');
    }
    const status = known
      ? (
          { invalid: 400, not_found: 404, conflict: 409, precondition_failed: 412, unavailable: 503 } as const
        )[err.code]
      : 500;
    return page(
      c,
      { title: 'Error', status, reloadWhenHealthy: known && err.code === 'unavailable' },
      <div>
        <h1>{status === 404 ? 'Not found' : status === 503 ? 'Unavailable' : 'Error'}</h1>
        <ErrorNote err={err} />
        <p class="muted">Correlation id: {c.get('correlationId')}</p>
      </div>,
    );
  });

  app.route('/', ui as never);
  return { rates };
}

function clientAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
