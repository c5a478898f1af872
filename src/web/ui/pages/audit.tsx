/** @jsxImportSource hono/jsx */
// The audit viewer: every filter in the URL (a pasted link shows the same rows), keyset paging with
// the cursor in the URL (page 100,000 costs what page 1 costs), a detail view of one row with the
// raw event and its lineage (the rule, the DLQs that hold its correlation id, the tester), and the
// export of the filtered range as CSV or NDJSON.
import type { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { exportAuditLogs, getAuditLog, queryAuditLogs, type AuditPage } from '../../../core/admin/audit.ts';
import { AdminError } from '../../../core/admin/errors.ts';
import { type DlqItem, dlqDepths, getDlqItem } from '../../../core/admin/dlq.ts';
import { getRule } from '../../../core/admin/rules.ts';
import { HANDLINGS, type Rule } from '../../../core/admin/schemas.ts';
import type { UiDeps, UiEnv } from '../env.ts';
import { ErrorNote, Field, fieldErrors, Input, num, page, qs, Select, Time, Trunc } from '../layout.tsx';

const FILTERS = [
  'hostname',
  'rule_id',
  'handling',
  'forwarded',
  'team',
  'start_date',
  'end_date',
  'correlation_id',
] as const;

function filtersOf(q: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FILTERS) if (q[k] !== undefined && q[k].trim() !== '') out[k] = q[k].trim();
  return out;
}

function messageOf(raw: string | null): string {
  if (raw === null) return '';
  try {
    const o = JSON.parse(raw) as { message?: unknown };
    if (typeof o.message === 'string') return o.message;
  } catch {
    // not JSON: the raw text is the message
  }
  return raw;
}

export function registerAudit(ui: Hono<UiEnv>, d: UiDeps): void {
  ui.get('/audit', async (c) => {
    const q = c.req.query();
    const filters = filtersOf(q);
    const limit = q.limit && /^\d+$/.test(q.limit) ? q.limit : undefined;
    const n = q.n && /^\d+$/.test(q.n) ? Number(q.n) : 1;
    let result: AuditPage | undefined;
    let error: unknown;
    try {
      result = await queryAuditLogs(d.ctx, {
        ...filters,
        ...(limit ? { limit } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
    } catch (err) {
      if (!(err instanceof AdminError) || err.code === 'unavailable') {
        if (err instanceof AdminError) error = err;
        else throw err;
      } else error = err;
    }
    const errors = fieldErrors(error);
    const unavailable = error instanceof AdminError && error.code === 'unavailable';
    const p = result?.pagination;
    return page(
      c,
      {
        title: 'Audit',
        active: '/audit',
        reloadWhenHealthy: unavailable,
        status: error ? (unavailable ? 503 : 400) : 200,
      },
      <div>
        <h1>Audit trail</h1>
        <form method="get" action="/audit" class="stack" role="search">
          <div class="row">
            <Field name="hostname" label="Host (exact)" errors={errors}>
              <Input name="hostname" value={filters.hostname} errors={errors} search />
            </Field>
            <Field name="rule_id" label="Rule id" errors={errors}>
              <Input name="rule_id" value={filters.rule_id} errors={errors} size={6} />
            </Field>
            <Field name="handling" label="Handling" errors={errors}>
              <Select
                name="handling"
                value={filters.handling ?? ''}
                options={['', ...HANDLINGS]}
                errors={errors}
              />
            </Field>
            <Field name="forwarded" label="Forwarded" errors={errors}>
              <Select
                name="forwarded"
                value={filters.forwarded ?? ''}
                options={[
                  ['', 'any'],
                  ['true', 'yes'],
                  ['false', 'no'],
                ]}
                errors={errors}
              />
            </Field>
            <Field name="team" label="Team" errors={errors}>
              <Input name="team" value={filters.team} errors={errors} />
            </Field>
          </div>
          <div class="row">
            <Field
              name="start_date"
              label="From (UTC)"
              errors={errors}
              hint="2026-03-10 or 2026-03-10T12:00:00Z"
            >
              <Input name="start_date" value={filters.start_date} errors={errors} />
            </Field>
            <Field name="end_date" label="To (UTC, inclusive)" errors={errors}>
              <Input name="end_date" value={filters.end_date} errors={errors} />
            </Field>
            <Field
              name="correlation_id"
              label="Correlation id"
              errors={errors}
              hint="Give a time range on large tables."
            >
              <Input name="correlation_id" value={filters.correlation_id} errors={errors} />
            </Field>
            <Field name="limit" label="Rows per page" errors={errors}>
              <Select
                name="limit"
                value={limit ?? '50'}
                options={['25', '50', '100', '200']}
                errors={errors}
              />
            </Field>
          </div>
          <div class="actions">
            <button class="primary" type="submit">
              Show
            </button>
            <a href="/audit">Clear filters</a>
            <a href={`/audit/export${qs({ ...filters, format: 'csv' })}`}>Export CSV</a>
            <a href={`/audit/export${qs({ ...filters, format: 'ndjson' })}`}>Export NDJSON</a>
          </div>
        </form>
        {error && Object.keys(errors).length === 0 ? <ErrorNote err={error} /> : null}
        {result && p ? (
          <>
            <div class="pager">
              <span>
                {p.total_is_estimate ? 'about ' : ''}
                <strong id="audit-total">{num(p.total)}</strong> row{p.total === 1 ? '' : 's'} · page {num(n)}
              </span>
              {q.cursor ? <a href={`/audit${qs({ ...filters, limit })}`}>Newest</a> : null}
              {p.next_cursor ? (
                <a
                  id="next-page"
                  class="button"
                  href={`/audit${qs({ ...filters, limit, cursor: p.next_cursor, n: n + 1 })}`}
                >
                  Older →
                </a>
              ) : (
                <span class="muted">end of the trail</span>
              )}
            </div>
            {result.logs.length === 0 ? <p class="nodata">No audit row matches.</p> : null}
            <div class="table-wrap">
              <table id="audit-table">
                <thead>
                  <tr>
                    <th scope="col">event time</th>
                    <th scope="col">host</th>
                    <th scope="col" class="num">
                      rule
                    </th>
                    <th scope="col">handling</th>
                    <th scope="col">forwarded</th>
                    <th scope="col">message</th>
                  </tr>
                </thead>
                <tbody>
                  {result.logs.map((r) => (
                    <tr>
                      <td class="mono">
                        <a href={`/audit/${r.id}${qs({ ts: r.event_timestamp })}`}>
                          <Time iso={r.event_timestamp} />
                        </a>
                      </td>
                      <td>
                        <a href={`/audit${qs({ ...filters, hostname: r.hostname, limit })}`}>{r.hostname}</a>
                      </td>
                      <td class="num">
                        <a href={`/rules/${r.matched_rule_id}`}>{r.matched_rule_id}</a>
                      </td>
                      <td>{r.handling_decision}</td>
                      <td>
                        {r.forwarded_to_moog ? (
                          <span class="badge ok">yes</span>
                        ) : (
                          <span class="badge">no</span>
                        )}
                      </td>
                      <td class="msg">
                        <Trunc text={messageOf(r.raw_message)} max={200} cap={8192} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
      </div>,
    );
  });

  ui.get('/audit/export', async (c) => {
    const q = c.req.query();
    const format = q.format === 'csv' ? 'csv' : 'ndjson';
    const input = { ...filtersOf(q), format };
    // Validate before the first byte, so a bad filter is a page, not a broken download.
    const gen = exportAuditLogs(d.ctx, input);
    const first = await gen.next();
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
    c.header('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    c.header(
      'Content-Disposition',
      `attachment; filename="mutt-audit-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`,
    );
    return stream(c, async (s) => {
      if (!first.done) await s.write(first.value);
      for await (const chunk of gen) await s.write(chunk);
    });
  });

  ui.get('/audit/:id', async (c) => {
    const row = await getAuditLog(d.ctx, c.req.param('id'), c.req.query('ts'));
    let event: Record<string, unknown> | undefined;
    try {
      const v = JSON.parse(row.raw_message ?? '') as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) event = v as Record<string, unknown>;
    } catch {
      event = undefined;
    }
    const cid = typeof event?._correlation_id === 'string' ? event._correlation_id : undefined;
    const [rule, dlq] = await Promise.all([
      getRule(d.ctx, row.matched_rule_id).then(
        (r) => r.rule,
        () => undefined as Rule | undefined,
      ),
      (async () => {
        if (!cid) return { found: [] as { queue: string; item: DlqItem }[], skipped: [] as string[] };
        const depths = await dlqDepths(d.ctx);
        const found: { queue: string; item: DlqItem }[] = [];
        const skipped: string[] = [];
        for (const n of ['moog', 'alerter', 'dead'] as const) {
          if (depths[n].depth === 0) continue;
          if (depths[n].depth > 20_000) {
            skipped.push(n);
            continue;
          }
          try {
            found.push({ queue: n, item: await getDlqItem(d.ctx, n, cid) });
          } catch {
            // not in this queue
          }
        }
        return { found, skipped };
      })().catch(() => ({
        found: [] as { queue: string; item: DlqItem }[],
        skipped: ['moog', 'alerter', 'dead'],
      })),
    ]);
    const message = messageOf(row.raw_message);
    const pretty = event ? JSON.stringify(event, null, 2) : (row.raw_message ?? '');
    return page(
      c,
      { title: `Audit row ${row.id}`, active: '/audit' },
      <div>
        <h1>Audit row {row.id}</h1>
        <p>
          <a href="/audit">Back to the audit trail</a>
        </p>
        <div class="grid wide">
          <div class="panel">
            <table>
              <tbody>
                <tr>
                  <th scope="row">event time</th>
                  <td>
                    <Time iso={row.event_timestamp} /> <span class="muted mono">{row.event_timestamp}</span>
                    {row.event_timestamp_substituted ? (
                      <span class="badge warn">
                        receive time used (no partition for the event's own time)
                      </span>
                    ) : null}
                  </td>
                </tr>
                <tr>
                  <th scope="row">host</th>
                  <td id="detail-host">{row.hostname}</td>
                </tr>
                <tr>
                  <th scope="row">rule</th>
                  <td>
                    <a href={`/rules/${row.matched_rule_id}`}>rule {row.matched_rule_id}</a>
                    {rule
                      ? ` (${rule.match_type} “${(rule.match_string ?? rule.trap_oid ?? '').slice(0, 80)}”, team ${rule.team_assignment})`
                      : ' (deleted)'}
                  </td>
                </tr>
                <tr>
                  <th scope="row">handling</th>
                  <td>{row.handling_decision}</td>
                </tr>
                <tr>
                  <th scope="row">forwarded to Moogsoft</th>
                  <td>{row.forwarded_to_moog ? 'yes' : 'no'}</td>
                </tr>
                <tr>
                  <th scope="row">correlation id</th>
                  <td class="mono">{cid ?? '—'}</td>
                </tr>
                {event
                  ? Object.entries(event)
                      .filter(([k]) => !['message', '_correlation_id', 'hostname'].includes(k))
                      .map(([k, v]) => (
                        <tr>
                          <th scope="row">{k}</th>
                          <td class="mono msg">
                            <Trunc text={typeof v === 'string' ? v : JSON.stringify(v)} max={300} />
                          </td>
                        </tr>
                      ))
                  : null}
              </tbody>
            </table>
          </div>
          <div class="panel">
            <h2>Lineage</h2>
            <ul>
              <li>
                Rule <a href={`/rules/${row.matched_rule_id}`}>{row.matched_rule_id}</a> decided{' '}
                <strong>{row.handling_decision}</strong>
                {row.forwarded_to_moog ? ' and the alert went to the forwarder' : ' (not forwarded)'}.
              </li>
              {dlq.found.map((f) => (
                <li>
                  In the <a href={`/dlq/${f.queue}`}>{f.queue} DLQ</a>:{' '}
                  {f.item.reason ?? f.item.code ?? 'no reason'} (failed <Time iso={f.item.failed_at} />,
                  replayed {f.item.replay_count}×)
                </li>
              ))}
              {cid && dlq.found.length === 0 && dlq.skipped.length === 0 ? (
                <li>In no dead-letter queue.</li>
              ) : null}
              {dlq.skipped.length > 0 ? (
                <li class="muted">Not searched (too long): {dlq.skipped.join(', ')} DLQ.</li>
              ) : null}
              <li>
                <a href={`/tester${qs({ audit_id: row.id, ts: row.event_timestamp })}`}>
                  Test this event in the rule tester
                </a>
              </li>
              {cid ? (
                <li>
                  <a
                    href={`/audit${qs({ correlation_id: cid, start_date: row.event_timestamp.slice(0, 10) })}`}
                  >
                    Every audit row of this correlation id
                  </a>
                </li>
              ) : null}
            </ul>
          </div>
        </div>
        <div class="panel">
          <h2>Message</h2>
          {(() => {
            const t = event?._audit_truncated as { message_chars?: number } | undefined;
            return t && typeof t.message_chars === 'number' ? (
              <div class="note warn" id="audit-truncated">
                Stored shortened in the audit trail: the message had {num(t.message_chars)} characters
                (AUDIT_RAW_MESSAGE_MAX_BYTES); the alert carried it whole.
              </div>
            ) : null;
          })()}
          <div class="msg" id="detail-message">
            <Trunc text={message} max={2000} cap={1024 * 1024 + 16} />
          </div>
          <h2>Raw event</h2>
          {pretty.length <= 8000 ? (
            <pre id="raw-event">{pretty}</pre>
          ) : (
            <Trunc text={pretty} max={4000} cap={1024 * 1024 * 2} />
          )}
        </div>
      </div>,
    );
  });
}
