// The admin JSON API (PROTOCOL.md "HTTP API", Python MUTT 2.5's web UI service), mounted under
// /api/v1 (deprecated, as Python marks it) and /api/v2 by app.ts. Each route is declared once with
// its schemas (the request schemas are the admin services' own, core/admin/schemas.ts) and handed
// to a service; handlers only translate HTTP to service calls and back.
import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import { z } from 'zod';
import * as admin from '../../core/admin/index.ts';
import { sloAnswer, type SloService } from '../../core/slo.ts';
import { traceAnswer } from '../../core/trace.ts';
import { schemas } from '../../core/admin/index.ts';
import { VERSION } from '../../runtime/version.ts';
import type { WebEnv } from '../env.ts';
import * as R from './responses.ts';

export const API_VERSION = 'v2.5';
export const SUPPORTED_VERSIONS = 'v2.5, v2.0, v1.0';

export interface ApiOptions {
  ctx: admin.AdminContext;
  metricsCache: admin.MetricsSummaryCache;
  /** The SLO report (src/core/slo.ts), built once with the node's registry. */
  slo: SloService;
}

type Handler = (c: Context<WebEnv>) => Promise<Response> | Response;

const json = (schema: z.ZodType, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
const errors = {
  400: json(R.ErrorBody, 'Invalid request: `error` names the field or parameter'),
  401: json(R.ErrorBody, 'Missing or wrong API key'),
  503: json(R.ErrorBody, 'PostgreSQL or Redis unavailable'),
};
const body = (schema: z.ZodType, description?: string) => ({
  body: { content: { 'application/json': { schema } }, required: true, description },
});
const ifMatch = z
  .object({
    'if-match': z
      .string()
      .optional()
      .meta({ description: 'ETag from a GET: the change is refused with 412 if the row changed since.' }),
  })
  .meta({});

/** Route paths use Hono's `:param`; the OpenAPI document gets `{param}`. */
function add(
  api: OpenAPIHono<WebEnv>,
  def: Omit<RouteConfig, 'responses'> & { responses: RouteConfig['responses'] },
  handler: Handler,
): void {
  api.openapi(createRoute({ ...def, responses: { ...errors, ...def.responses } }), handler as never);
}

const appliedOf = (a: admin.Applied) => ({ applied: a.applied, apply: a });

export function registerApi(api: OpenAPIHono<WebEnv>, o: ApiOptions): void {
  const { ctx } = o;
  const actor = (c: Context<WebEnv>, reason?: string): admin.Actor => ({ ...c.get('actor'), reason });
  const query = (c: Context<WebEnv>) => c.req.query();
  const jsonBody = async (c: Context<WebEnv>): Promise<unknown> => c.req.json<unknown>();
  const optionalBody = async (c: Context<WebEnv>): Promise<{ reason?: string }> => {
    const text = await c.req.text();
    if (text.trim() === '') return {};
    return admin.schemas.parseInput(schemas.ReasonBody, JSON.parse(text));
  };

  // ── rules ──────────────────────────────────────────────────────────────────────────────────────
  add(
    api,
    {
      method: 'get',
      path: '/rules',
      tags: ['rules'],
      summary: 'List every rule (priority order)',
      responses: { 200: json(z.object({ rules: z.array(schemas.Rule) }), 'The rules') },
    },
    async (c) => c.json({ rules: await admin.listRules(ctx) }),
  );
  add(
    api,
    {
      method: 'post',
      path: '/rules',
      tags: ['rules'],
      summary: 'Create a rule; answers once the alerters run it',
      request: body(schemas.RuleCreate),
      responses: { 201: json(R.RuleWrite, 'Created (ETag header)'), 409: json(R.ErrorBody, 'Conflict') },
    },
    async (c) => {
      const r = await admin.createRule(ctx, await jsonBody(c), actor(c));
      c.header('ETag', r.etag);
      c.header('Location', `${c.req.path}/${r.rule.id}`);
      return c.json(
        { id: r.rule.id, message: 'Rule created successfully', rule: r.rule, ...appliedOf(r.applied) },
        201,
      );
    },
  );
  add(
    api,
    {
      method: 'post',
      path: '/rules/test',
      tags: ['rules'],
      summary: 'Dry-run a draft rule, or the rule set with a draft change, against recent events',
      request: body(schemas.RuleTest),
      responses: {
        200: json(
          R.Loose.meta({ id: 'RuleTestResult' }),
          'What would match, which rule would win, and a sample of changed decisions',
        ),
      },
    },
    async (c) => c.json(await admin.testRules(ctx, await jsonBody(c))),
  );
  const idParams = z.object({ id: schemas.IdParam });
  add(
    api,
    {
      method: 'get',
      path: '/rules/{id}',
      tags: ['rules'],
      summary: 'One rule (ETag header)',
      request: { params: idParams },
      responses: { 200: json(schemas.Rule, 'The rule'), 404: json(R.ErrorBody, 'No such rule') },
    },
    async (c) => {
      const r = await admin.getRule(ctx, c.req.param('id')!);
      c.header('ETag', r.etag);
      return c.json(r.rule);
    },
  );
  add(
    api,
    {
      method: 'put',
      path: '/rules/{id}',
      tags: ['rules'],
      summary: 'Change fields of a rule (If-Match for optimistic concurrency)',
      request: { params: idParams, headers: ifMatch, ...body(schemas.RuleUpdate) },
      responses: {
        200: json(R.RuleWrite, 'Updated (ETag header)'),
        404: json(R.ErrorBody, 'No such rule'),
        412: json(R.ErrorBody, 'Changed since read (current ETag in the header)'),
      },
    },
    async (c) => {
      const r = await admin.updateRule(
        ctx,
        c.req.param('id')!,
        await jsonBody(c),
        actor(c),
        c.req.header('if-match'),
      );
      c.header('ETag', r.etag);
      return c.json({
        id: r.rule.id,
        message: 'Rule updated successfully',
        rule: r.rule,
        ...appliedOf(r.applied),
      });
    },
  );
  add(
    api,
    {
      method: 'delete',
      path: '/rules/{id}',
      tags: ['rules'],
      summary: 'Delete a rule (If-Match; a rule with audit rows must be deactivated instead)',
      request: { params: idParams, headers: ifMatch },
      responses: {
        200: json(R.Message, 'Deleted'),
        404: json(R.ErrorBody, 'No such rule'),
        409: json(R.ErrorBody, 'Referenced by audit rows'),
        412: json(R.ErrorBody, 'Changed since read'),
      },
    },
    async (c) => {
      const b = await optionalBody(c);
      const r = await admin.deleteRule(ctx, c.req.param('id')!, actor(c, b.reason), c.req.header('if-match'));
      return c.json({ message: 'Rule deleted successfully', ...appliedOf(r.applied) });
    },
  );

  // ── development hosts ──────────────────────────────────────────────────────────────────────────
  const hostParams = z.object({ hostname: z.string().meta({ param: { name: 'hostname', in: 'path' } }) });
  add(
    api,
    {
      method: 'get',
      path: '/dev-hosts',
      tags: ['hosts'],
      summary: 'List development hosts',
      responses: { 200: json(z.object({ hosts: z.array(z.object({ hostname: z.string() })) }), 'The hosts') },
    },
    async (c) => c.json({ hosts: await admin.listDevHosts(ctx) }),
  );
  add(
    api,
    {
      method: 'post',
      path: '/dev-hosts',
      tags: ['hosts'],
      summary: 'Add a development host',
      request: body(schemas.DevHostCreate),
      responses: { 201: json(R.Message, 'Added'), 409: json(R.ErrorBody, 'Already a development host') },
    },
    async (c) => {
      const r = await admin.addDevHost(ctx, await jsonBody(c), actor(c));
      c.header('ETag', r.etag);
      return c.json(
        { message: 'Dev host added successfully', hostname: r.host.hostname, ...appliedOf(r.applied) },
        201,
      );
    },
  );
  add(
    api,
    {
      method: 'delete',
      path: '/dev-hosts/{hostname}',
      tags: ['hosts'],
      summary: 'Remove a development host',
      request: { params: hostParams, headers: ifMatch },
      responses: { 200: json(R.Message, 'Removed'), 404: json(R.ErrorBody, 'Not a development host') },
    },
    async (c) => {
      const b = await optionalBody(c);
      const r = await admin.deleteDevHost(
        ctx,
        c.req.param('hostname')!,
        actor(c, b.reason),
        c.req.header('if-match'),
      );
      return c.json({ message: 'Dev host deleted successfully', ...appliedOf(r.applied) });
    },
  );

  // ── device teams ───────────────────────────────────────────────────────────────────────────────
  const team = z.object({ hostname: z.string(), team_assignment: z.string() }).meta({ id: 'Team' });
  add(
    api,
    {
      method: 'get',
      path: '/teams',
      tags: ['teams'],
      summary: 'List device team mappings',
      responses: { 200: json(z.object({ teams: z.array(team) }), 'The mappings') },
    },
    async (c) => c.json({ teams: await admin.listTeams(ctx) }),
  );
  add(
    api,
    {
      method: 'post',
      path: '/teams',
      tags: ['teams'],
      summary: 'Map a host to a team',
      request: body(schemas.TeamCreate),
      responses: { 201: json(R.Message, 'Added'), 409: json(R.ErrorBody, 'The host already has a team') },
    },
    async (c) => {
      const r = await admin.addTeam(ctx, await jsonBody(c), actor(c));
      c.header('ETag', r.etag);
      return c.json(
        { message: 'Team mapping added successfully', team: r.team, ...appliedOf(r.applied) },
        201,
      );
    },
  );
  add(
    api,
    {
      method: 'get',
      path: '/teams/{hostname}',
      tags: ['teams'],
      summary: "One host's team (ETag header)",
      request: { params: hostParams },
      responses: { 200: json(team, 'The mapping'), 404: json(R.ErrorBody, 'No mapping') },
    },
    async (c) => {
      const r = await admin.getTeam(ctx, c.req.param('hostname')!);
      c.header('ETag', r.etag);
      return c.json(r.team);
    },
  );
  add(
    api,
    {
      method: 'put',
      path: '/teams/{hostname}',
      tags: ['teams'],
      summary: "Change a host's team (If-Match)",
      request: { params: hostParams, headers: ifMatch, ...body(schemas.TeamUpdate) },
      responses: {
        200: json(R.Message, 'Updated'),
        404: json(R.ErrorBody, 'No mapping'),
        412: json(R.ErrorBody, 'Changed since read'),
      },
    },
    async (c) => {
      const r = await admin.updateTeam(
        ctx,
        c.req.param('hostname')!,
        await jsonBody(c),
        actor(c),
        c.req.header('if-match'),
      );
      c.header('ETag', r.etag);
      return c.json({ message: 'Team mapping updated successfully', team: r.team, ...appliedOf(r.applied) });
    },
  );
  add(
    api,
    {
      method: 'delete',
      path: '/teams/{hostname}',
      tags: ['teams'],
      summary: "Delete a host's team mapping (If-Match)",
      request: { params: hostParams, headers: ifMatch },
      responses: {
        200: json(R.Message, 'Deleted'),
        404: json(R.ErrorBody, 'No mapping'),
        412: json(R.ErrorBody, 'Changed since read'),
      },
    },
    async (c) => {
      const b = await optionalBody(c);
      const r = await admin.deleteTeam(
        ctx,
        c.req.param('hostname')!,
        actor(c, b.reason),
        c.req.header('if-match'),
      );
      return c.json({ message: 'Team mapping deleted successfully', ...appliedOf(r.applied) });
    },
  );

  // ── audit ──────────────────────────────────────────────────────────────────────────────────────
  add(
    api,
    {
      method: 'get',
      path: '/audit-logs',
      tags: ['audit'],
      summary: 'Event audit trail, newest first (page/limit as Python MUTT, or cursor)',
      request: { query: schemas.AuditQuery },
      responses: { 200: json(z.object({ logs: z.array(R.AuditLog), pagination: R.Pagination }), 'One page') },
    },
    async (c) => c.json(await admin.queryAuditLogs(ctx, query(c))),
  );
  add(
    api,
    {
      method: 'get',
      path: '/audit-logs/export',
      tags: ['audit'],
      summary: 'Stream the audit rows of a filter as NDJSON or CSV',
      request: { query: schemas.AuditExportQuery },
      responses: {
        200: {
          description: 'application/x-ndjson or text/csv, streamed',
          content: { 'application/x-ndjson': { schema: R.AuditLog }, 'text/csv': { schema: z.string() } },
        },
      },
    },
    async (c) => {
      const q = query(c);
      // Validated before the first byte, so a bad parameter is still a 400.
      admin.schemas.parseInput(schemas.AuditExportQuery, q);
      const csv = q.format === 'csv';
      c.header('Content-Type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
      c.header('Content-Disposition', `attachment; filename="mutt-audit.${csv ? 'csv' : 'ndjson'}"`);
      return stream(c, async (s) => {
        try {
          for await (const chunk of admin.exportAuditLogs(ctx, q)) await s.write(chunk);
        } catch (err) {
          // Headers are sent: say so in the stream itself.
          await s.write(
            csv
              ? `\r\n# export stopped: ${(err as Error).message}\r\n`
              : `${JSON.stringify({ error: (err as Error).message })}\n`,
          );
        }
      });
    },
  );
  for (const path of ['/audit', '/config-audit']) {
    add(
      api,
      {
        method: 'get',
        path,
        tags: ['audit'],
        summary: 'Configuration change history (config_audit_log), newest first',
        request: { query: schemas.ConfigAuditQuery },
        responses: {
          200: json(z.object({ changes: z.array(R.ConfigChange), pagination: R.Pagination }), 'One page'),
        },
      },
      async (c) => c.json(await admin.queryConfigAudit(ctx, query(c))),
    );
  }

  // ── dynamic configuration ──────────────────────────────────────────────────────────────────────
  add(
    api,
    {
      method: 'get',
      path: '/config',
      tags: ['config'],
      summary: 'Every dynamic key: value in effect and its source',
      responses: {
        200: json(
          z.object({ config: z.record(z.string(), z.string()), keys: z.array(R.DynamicEntry) }),
          'The configuration',
        ),
      },
    },
    async (c) => {
      const keys = await admin.listDynamicConfig(ctx);
      return c.json({ config: Object.fromEntries(keys.map((k) => [k.key, k.value])), keys });
    },
  );
  add(
    api,
    {
      method: 'get',
      path: '/config/history',
      tags: ['config'],
      summary: 'Dynamic configuration changes, newest first',
      request: { query: schemas.ConfigAuditQuery },
      responses: {
        200: json(z.object({ history: z.array(R.ConfigChange), pagination: R.Pagination }), 'One page'),
      },
    },
    async (c) => {
      const r = await admin.queryConfigAudit(ctx, query(c), 'dynamic_config');
      return c.json({ history: r.changes, pagination: r.pagination });
    },
  );
  const keyParams = z.object({
    key: z.string().meta({ param: { name: 'key', in: 'path' }, example: 'unhandled_threshold' }),
  });
  add(
    api,
    {
      method: 'get',
      path: '/config/{key}',
      tags: ['config'],
      summary: 'One dynamic key',
      request: { params: keyParams },
      responses: { 200: json(R.DynamicEntry, 'The key'), 404: json(R.ErrorBody, 'Unknown key') },
    },
    async (c) => c.json(await admin.getDynamicConfig(ctx, c.req.param('key')!)),
  );
  add(
    api,
    {
      method: 'put',
      path: '/config/{key}',
      tags: ['config'],
      summary:
        'Set a dynamic key (validated as `mutt config set`, announced on mutt:config:updates, audited)',
      request: { params: keyParams, ...body(schemas.ConfigSet) },
      responses: {
        200: json(
          z.object({
            key: z.string(),
            old_value: z.string().nullable(),
            new_value: z.string().nullable(),
            audited: z.boolean(),
          }),
          'Changed',
        ),
        404: json(R.ErrorBody, 'Unknown key'),
      },
    },
    async (c) => c.json(await admin.setDynamicConfig(ctx, c.req.param('key')!, await jsonBody(c), actor(c))),
  );
  add(
    api,
    {
      method: 'delete',
      path: '/config/{key}',
      tags: ['config'],
      summary: 'Unset a dynamic key (the static variable applies again)',
      request: { params: keyParams },
      responses: {
        200: json(
          z.object({
            key: z.string(),
            old_value: z.string().nullable(),
            new_value: z.null(),
            audited: z.boolean(),
          }),
          'Unset',
        ),
        404: json(R.ErrorBody, 'Unknown key'),
      },
    },
    async (c) => {
      const b = await optionalBody(c);
      return c.json(await admin.unsetDynamicConfig(ctx, c.req.param('key')!, actor(c, b.reason)));
    },
  );

  // ── metrics, status, version ───────────────────────────────────────────────────────────────────
  add(
    api,
    {
      method: 'get',
      path: '/metrics',
      tags: ['status'],
      summary: 'Event rates per minute from the mutt:metrics:* counters (cached METRICS_CACHE_TTL s)',
      responses: {
        200: json(
          z.object({
            summary: z.object({
              current_rate_1m: z.number(),
              avg_rate_15m: z.number(),
              avg_rate_1h: z.number(),
            }),
            chart_24h: z.object({ labels: z.array(z.string()), data: z.array(z.number()) }),
          }),
          'Rates',
        ),
      },
    },
    async (c) => {
      const m = o.metricsCache.get(ctx);
      c.header('X-Cache', m.cached ? 'hit' : 'miss');
      return c.json(await m.data);
    },
  );
  add(
    api,
    {
      method: 'get',
      path: '/status',
      tags: ['status'],
      summary: 'Queues, every pod (MUTT and Python) with heartbeat age, breaker, rate limit, DLQs, this node',
      responses: {
        200: json(R.Loose.meta({ id: 'Status' }), 'Status (from Redis: answers while PostgreSQL is down)'),
      },
    },
    async (c) => c.json(await admin.status(ctx)),
  );
  add(
    api,
    {
      method: 'get',
      path: '/version',
      tags: ['status'],
      summary: 'Versions',
      responses: {
        200: json(
          z.object({ version: z.string(), api_version: z.string(), supported_versions: z.array(z.string()) }),
          'Versions',
        ),
      },
    },
    (c) =>
      c.json({
        version: VERSION,
        api_version: API_VERSION,
        supported_versions: SUPPORTED_VERSIONS.split(', '),
        service: 'mutt',
      }),
  );

  // ── SLO report and event trace ─────────────────────────────────────────────────────────────────
  add(
    api,
    {
      method: 'get',
      path: '/slo',
      tags: ['status'],
      summary:
        "Availability, error budget and burn rate of HTTP ingest and of forwarding over slo_window_hours (MUTT 2.5's shape): from Prometheus when PROMETHEUS_URL is set and answers, else from MUTT's own counters in Redis; `source` says which",
      responses: {
        200: json(R.Loose.meta({ id: 'SloReport' }), 'The report (a failing Prometheus is a `warning`)'),
      },
    },
    async (c) => {
      const r = await sloAnswer(o.slo);
      return c.json(r.body, r.status);
    },
  );
  add(
    api,
    {
      method: 'get',
      path: '/trace/{id}',
      tags: ['status'],
      summary:
        'Where one event went, by correlation id: listener, rule and decision, Moogsoft requests and answers, queue or DLQ (as `mutt trace`)',
      request: {
        params: z.object({ id: z.string().meta({ param: { name: 'id', in: 'path' } }) }),
        query: z.object({
          host: z.string().optional().meta({ description: "Search all of this host's audit rows" }),
          hours: z
            .string()
            .optional()
            .meta({ description: 'Else search the audit rows of the last N hours (168)' }),
        }),
      },
      responses: {
        200: json(R.Loose.meta({ id: 'Trace' }), 'The steps of the event'),
        404: json(R.Loose, 'Nothing found: the report says where MUTT looked'),
      },
    },
    async (c) => {
      const r = await traceAnswer({ redis: ctx.redis, keys: ctx.keys, pool: ctx.pool }, c.req.param('id')!, {
        host: c.req.query('host'),
        hours: c.req.query('hours'),
      });
      return c.json(r.body, r.status);
    },
  );

  // ── dead-letter queues ─────────────────────────────────────────────────────────────────────────
  const dlqParams = z.object({ name: schemas.DlqName });
  add(
    api,
    {
      method: 'get',
      path: '/dlq',
      tags: ['dlq'],
      summary: 'Depth of each dead-letter queue',
      responses: { 200: json(z.object({ queues: z.record(z.string(), R.DlqDepth) }), 'Depths') },
    },
    async (c) => c.json({ queues: await admin.dlqDepths(ctx) }),
  );
  add(
    api,
    {
      method: 'get',
      path: '/dlq/{name}',
      tags: ['dlq'],
      summary: 'Browse a DLQ newest first, without removing anything',
      request: { params: dlqParams, query: schemas.DlqBrowseQuery },
      responses: {
        200: json(
          z.object({
            queue: z.string(),
            key: z.string(),
            total: z.number(),
            matched: z.number(),
            by_code: z.record(z.string(), z.number()),
            offset: z.number(),
            limit: z.number(),
            items: z.array(R.DlqItem),
          }),
          'One page',
        ),
      },
    },
    async (c) => c.json(await admin.browseDlq(ctx, c.req.param('name')!, query(c))),
  );
  add(
    api,
    {
      method: 'get',
      path: '/dlq/{name}/items/{ref}',
      tags: ['dlq'],
      summary: 'One DLQ item by id, index or correlation id',
      request: { params: dlqParams.extend({ ref: z.string().meta({ param: { name: 'ref', in: 'path' } }) }) },
      responses: { 200: json(R.DlqItem, 'The item'), 404: json(R.ErrorBody, 'No such item') },
    },
    async (c) => c.json(await admin.getDlqItem(ctx, c.req.param('name')!, c.req.param('ref')!)),
  );
  add(
    api,
    {
      method: 'post',
      path: '/dlq/{name}/replay',
      tags: ['dlq'],
      summary: 'Replay all or selected items to the queue they came from (audited)',
      request: { params: dlqParams, ...body(schemas.DlqReplay) },
      responses: { 200: json(R.Loose.meta({ id: 'DlqReplayResult' }), 'What moved where') },
    },
    async (c) => c.json(await admin.replayDlqItems(ctx, c.req.param('name')!, await jsonBody(c), actor(c))),
  );
  add(
    api,
    {
      method: 'post',
      path: '/dlq/{name}/purge',
      tags: ['dlq'],
      summary: 'Delete all or selected items for good, with a reason (audited)',
      request: { params: dlqParams, ...body(schemas.DlqPurge) },
      responses: {
        200: json(
          z.object({ queue: z.string(), removed: z.number(), missing: z.number(), audited: z.boolean() }),
          'Removed',
        ),
      },
    },
    async (c) => c.json(await admin.purgeDlqItems(ctx, c.req.param('name')!, await jsonBody(c), actor(c))),
  );
}
