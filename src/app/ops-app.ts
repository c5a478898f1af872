// `/health` and `/metrics` for a node without the listeners role (for example MUTT_ROLES=forwarder),
// on SERVER_PORT_INGESTOR like every node, so a split fleet is monitored the same way everywhere.
import { Hono } from 'hono';
import type { HealthReport } from '../runtime/health.ts';

export interface OpsAppOptions {
  health: () => Promise<HealthReport>;
  metricsText: () => Promise<{ contentType: string; body: string }>;
}

export function createOpsApp(o: OpsAppOptions): Hono {
  const app = new Hono();
  app.get('/health', async (c) => {
    const h = await o.health();
    return c.json(h, h.status === 'healthy' ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    const m = await o.metricsText();
    return c.body(m.body, 200, { 'Content-Type': m.contentType });
  });
  app.notFound((c) =>
    c.json(
      {
        status: 'error',
        message: `Not found: ${c.req.method} ${c.req.path} (this node serves /health and /metrics only; MUTT_ROLES has no listeners)`,
      },
      404,
    ),
  );
  return app;
}
