// The admin web app on SERVER_PORT_WEBUI (8090), started by the `webui` role:
//
//   every request ── correlation id, request log (api_key redacted), mutt_webui_api_* metrics
//     ├── /health, /metrics                       public
//     └── everything else ── X-API-KEY or ?api_key= (WEBUI_API_KEY, WEBUI_API_KEY_PREVIOUS)
//           ├── /api/v1/…  (X-API-Deprecated: true)  ┐ the same routes (api/routes.ts) over the
//           ├── /api/v2/…                             ┘ admin services (src/core/admin)
//           ├── /api/openapi.json                      generated from the schemas that validate
//           └── mount(app): the browser UI's pages
//
// Bodies over 1 MiB are refused with 413 before they are read; errors are `{"error": …}`.
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Registry } from 'prom-client';
import type { AdminContext } from '../core/admin/context.ts';
import { MetricsSummaryCache } from '../core/admin/metrics.ts';
import { problemsOf } from '../core/admin/schemas.ts';
import { SloService } from '../core/slo.ts';
import type { HealthReport } from '../runtime/health.ts';
import type { Logger } from '../runtime/logging.ts';
import { VERSION } from '../runtime/version.ts';
import type { ApiKeyRing } from '../core/security.ts';
import { apiKeyAuth, redactUrl } from './auth.ts';
import type { WebEnv } from './env.ts';
import { errorResponse } from './api/errors.ts';
import { API_VERSION, registerApi, SUPPORTED_VERSIONS } from './api/routes.ts';
import { createWebMetrics } from './metrics.ts';

export type WebApp = OpenAPIHono<WebEnv>;

export interface WebAppOptions {
  /** The admin services' context (connections, configuration). */
  ctx: AdminContext;
  apiKey: string | undefined;
  previousApiKey?: string;
  /** The keys in force, following rotations (Vault, SIGHUP); replaces apiKey/previousApiKey when given. */
  apiKeys?: ApiKeyRing;
  registry: Registry;
  log: Logger;
  health: () => Promise<HealthReport>;
  metricsText: () => Promise<{ contentType: string; body: string }>;
  /** Largest request body (default 1 MiB). */
  maxBodyBytes?: number;
  /** Adds routes after the API's (the browser UI); they sit behind the same authentication. */
  mount?: (app: WebApp) => void;
}

const PUBLIC = ['/health', '/metrics'];
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function createWebApp(o: WebAppOptions): WebApp {
  const metrics = createWebMetrics(o.registry);
  const ctx: AdminContext = {
    ...o.ctx,
    observeDb: (operation, ms) => {
      metrics.dbLatency.observe({ operation }, ms);
      o.ctx.observeDb?.(operation, ms);
    },
    log: o.ctx.log ?? o.log,
  };
  const validationHook = (
    result: { success: boolean; error?: unknown; data?: unknown; target?: string },
    c: Context<WebEnv>,
  ): Response | undefined => {
    if (result.success) return undefined;
    const fields = problemsOf(result.error as Parameters<typeof problemsOf>[0], '', result.data);
    return c.json(
      {
        error: fields.map((f) => `${f.field}: ${f.message}`).join('; '),
        fields,
        correlation_id: c.get('correlationId'),
      },
      400,
    );
  };
  const app = new OpenAPIHono<WebEnv>({ defaultHook: validationHook as never });
  const maxBody = o.maxBodyBytes ?? 1024 * 1024;

  app.use(async function observeRequest(c, next) {
    const started = performance.now();
    const given = c.req.header('x-correlation-id');
    const cid = given && CORRELATION_ID.test(given) ? given : randomUUID();
    c.set('correlationId', cid);
    c.set('metricsLabel', {});
    try {
      await next();
    } finally {
      c.header('X-Correlation-ID', cid);
      // The route pattern without the version prefix, so /api/v1 and /api/v2 count together.
      const route = c.req.routePath === '/*' ? 'unmatched' : c.req.routePath.replace(/^\/api\/v[12]/, '');
      const status = String(c.res.status);
      const seconds = (performance.now() - started) / 1000;
      metrics.requests.inc({ endpoint: route, status });
      metrics.latency.observe({ endpoint: route }, seconds);
      if (!PUBLIC.includes(c.req.path))
        o.log.info(
          {
            correlation_id: cid,
            method: c.req.method,
            url: redactUrl(c.req.url),
            status: c.res.status,
            duration_ms: Math.round(seconds * 1000),
            ...c.get('metricsLabel'),
            changed_by: c.get('actor')?.changedBy,
          },
          'admin request',
        );
    }
  });
  app.use(secureHeaders({ crossOriginResourcePolicy: 'same-origin' }));
  app.use(
    bodyLimit({
      maxSize: maxBody,
      onError: (c) =>
        c.json(
          {
            error: `Request body too large: at most ${maxBody} bytes`,
            correlation_id: String(c.get('correlationId')),
          },
          413,
        ),
    }),
  );
  app.use(
    apiKeyAuth({ apiKey: o.apiKey, previousApiKey: o.previousApiKey, keys: o.apiKeys, publicPaths: PUBLIC }),
  );
  app.use('/api/*', async function versionHeaders(c, next) {
    await next();
    c.header('X-API-Version', API_VERSION);
    c.header('X-API-Deprecated', c.req.path.startsWith('/api/v1/') ? 'true' : 'false');
    c.header('X-API-Supported-Versions', SUPPORTED_VERSIONS);
  });

  app.get('/health', async (c) => {
    const h = await o.health();
    return c.json({ ...h, service: 'mutt-webui' }, h.status === 'healthy' ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    const m = await o.metricsText();
    return c.body(m.body, 200, { 'Content-Type': m.contentType });
  });

  const api = new OpenAPIHono<WebEnv>({ defaultHook: validationHook as never });
  registerApi(api, {
    ctx,
    metricsCache: new MetricsSummaryCache(ctx.config.METRICS_CACHE_TTL),
    slo: new SloService({
      redis: ctx.redis,
      keys: ctx.keys,
      config: ctx.config,
      registry: o.registry,
      log: o.log,
    }),
  });
  app.route('/api/v2', api);
  app.route('/api/v1', api);
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-KEY',
  });
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'MUTT admin API',
      version: VERSION,
      description:
        'Rules, development hosts, teams, audit trail, dynamic configuration, dead-letter queues and status. Wire-compatible with Python MUTT 2.5 (/api/v1 is kept and marked deprecated). Every endpoint needs the X-API-KEY header (or ?api_key=).',
    },
    security: [{ ApiKey: [] }],
  });

  o.mount?.(app);

  app.notFound((c) =>
    c.json(
      { error: `Not found: ${c.req.method} ${c.req.path}`, correlation_id: c.get('correlationId') },
      404,
    ),
  );
  app.onError((err, c) => errorResponse(c, err, o.log));
  return app;
}
