/** @jsxImportSource hono/jsx */
// Dashboard: is MUTT healthy and what flows. Big numbers (events/s now, 15 min, 1 h), the last 24 h
// per minute, queues, processing lists and heartbeats of every pod in the fleet, DLQ depths, the
// shared breaker and Moogsoft rate limit, events/s by source on this node, the SLO when the node
// computes it, and the noisiest unhandled messages with a one-click "make a rule from this".
//
// Live: the panels are re-rendered by the server and swapped in every 3 s (htmx polling: one
// status read of Redis per tab, no long-lived connection to keep through proxies); the charts
// fetch their JSON every 10 s (sources) and 60 s (24 h).
import type { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { eventsPerMinute } from '../../../core/admin/metrics.ts';
import { status, type StatusReport } from '../../../core/admin/status.ts';
import { topUnhandled, type UnhandledReport } from '../../../core/admin/unhandled.ts';
import type { HealthReport } from '../../../runtime/health.ts';
import type { SloPanel, UiDeps, UiEnv } from '../env.ts';
import { duration, ErrorNote, num, page, qs, Time, Trunc } from '../layout.tsx';
import { SOURCES } from '../rates.ts';

const perSecond = (perMinute: number) => perMinute / 60;
const rateText = (perS: number) => (perS >= 100 ? num(Math.round(perS)) : perS.toFixed(perS >= 10 ? 1 : 2));

function Stat(p: { label: string; value: string; sub?: Child; cls?: string; id?: string }) {
  return (
    <div class="panel stat" id={p.id}>
      <div class="label">{p.label}</div>
      <div class={`value ${p.cls ?? ''}`}>{p.value}</div>
      {p.sub ? <div class="sub">{p.sub}</div> : null}
    </div>
  );
}

function breakerWords(s: StatusReport['breaker'], now: number): { text: string; cls: string } {
  const st = s.state.toUpperCase();
  if (st === 'OPEN') {
    const since = s.opened_at ? ` ${duration((now - Date.parse(s.opened_at)) / 1000)}` : '';
    return { text: `open${since}`, cls: 'bad' };
  }
  if (st === 'HALF_OPEN') return { text: 'half-open (probing)', cls: 'warn' };
  return { text: 'closed', cls: 'ok' };
}

interface Live {
  /** Events accepted so far in the minute in progress (all nodes). */
  thisMinute?: number;
  summary?: { current_rate_1m: number; avg_rate_15m: number; avg_rate_1h: number };
  summaryError?: unknown;
  st?: StatusReport;
  stError?: unknown;
  health?: HealthReport;
  rates: Record<string, number> | null;
  slo?: SloPanel;
  sloError?: unknown;
  hasSlo: boolean;
}

async function readLive(d: UiDeps, part: 'rates' | 'status' | 'all'): Promise<Live> {
  const rates = part !== 'status';
  const state = part !== 'rates';
  const [minute, sum, st, health, slo] = await Promise.allSettled([
    rates ? d.ctx.redis.get(d.ctx.keys.metricsBuckets(new Date())['1m']) : Promise.resolve(undefined),
    rates ? d.metricsCache.get(d.ctx).data : Promise.resolve(undefined),
    state ? status(d.ctx) : Promise.resolve(undefined),
    state ? d.health() : Promise.resolve(undefined),
    state && d.slo ? d.slo() : Promise.resolve(undefined),
  ]);
  return {
    thisMinute:
      minute.status === 'fulfilled' && minute.value !== undefined ? Number(minute.value ?? 0) : undefined,
    summary: sum.status === 'fulfilled' ? sum.value?.summary : undefined,
    summaryError: sum.status === 'rejected' ? sum.reason : undefined,
    st: st.status === 'fulfilled' ? st.value : undefined,
    stError: st.status === 'rejected' ? st.reason : undefined,
    health: health.status === 'fulfilled' ? health.value : undefined,
    rates: d.rates.rate(60),
    slo: slo.status === 'fulfilled' ? slo.value : undefined,
    sloError: slo.status === 'rejected' ? slo.reason : undefined,
    hasSlo: d.slo !== undefined,
  };
}

function RatePanels({ l }: { l: Live }) {
  const s = l.summary;
  return (
    <div id="live-rates" hx-get="/dashboard/panels?part=rates" hx-trigger="every 3s" hx-swap="outerHTML">
      <div class="grid">
        {s ? (
          <>
            <Stat
              id="rate-now"
              label="Events/s, last minute"
              value={rateText(perSecond(s.current_rate_1m))}
              sub={
                <>
                  {num(s.current_rate_1m)} in the last full minute,{' '}
                  <span id="minute-count">{num(l.thisMinute ?? 0)}</span> so far in this one (all nodes)
                </>
              }
            />
            <Stat label="Events/s, 15 min average" value={rateText(perSecond(s.avg_rate_15m))} />
            <Stat label="Events/s, 1 h average" value={rateText(perSecond(s.avg_rate_1h))} />
          </>
        ) : (
          <div class="panel">
            <ErrorNote err={l.summaryError} />
          </div>
        )}
        <div class="panel stat">
          <div class="label">By source, this node (last minute)</div>
          {l.rates ? (
            <table>
              <tbody>
                {SOURCES.map((src) => (
                  <tr>
                    <th scope="row">{src.label}</th>
                    <td class="num">{rateText(l.rates![src.key] ?? 0)}/s</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <div class="nodata">No data yet (sampled every 5 s)</div>
          )}
        </div>
      </div>
    </div>
  );
}

function StatusPanels({ l }: { l: Live }) {
  const now = Date.now();
  const st = l.st;
  const workers = (l.health?.workers ?? {}) as Record<string, { running: number; configured: number }>;
  return (
    <div id="live-status" hx-get="/dashboard/panels?part=status" hx-trigger="every 3s" hx-swap="outerHTML">
      {st ? (
        <div class="grid">
          <Stat
            label="Ingest queue"
            value={num(st.queues.ingest_queue)}
            sub="events waiting for an alerter"
            cls={st.queues.ingest_queue > 10000 ? 'warn' : ''}
          />
          <Stat
            label="Alert queue"
            value={num(st.queues.alert_queue)}
            sub="alerts waiting for a forwarder"
            cls={st.queues.alert_queue > 1000 ? 'warn' : ''}
          />
          {(() => {
            const b = breakerWords(st.breaker, now);
            return (
              <Stat
                id="breaker"
                label="Moogsoft circuit breaker"
                value={b.text}
                cls={b.cls}
                sub={`${num(st.breaker.failures)} recent failures`}
              />
            );
          })()}
          <Stat
            label="Moogsoft rate limit"
            value={`${num(st.rate_limit.used)} / ${num(st.rate_limit.limit)}`}
            sub={`requests in the last ${st.rate_limit.period_seconds} s (shared)`}
          />
          {(['moog', 'alerter', 'dead'] as const).map((n) => {
            const q = st.dlq[n];
            const age = q.oldest_failed_at ? duration((now - Date.parse(q.oldest_failed_at)) / 1000) : null;
            return (
              <div class="panel stat" id={`dlq-${n}`}>
                <div class="label">
                  DLQ <a href={`/dlq/${n}`}>{n}</a>
                </div>
                <div class={`value ${q.depth > 0 ? 'bad' : ''}`}>{num(q.depth)}</div>
                <div class="sub">
                  {q.depth > 0 ? (age ? `oldest failed ${age} ago` : 'items waiting') : 'empty'}
                </div>
              </div>
            );
          })}
        </div>
      ) : (
        <div class="panel">
          <ErrorNote err={l.stError} />
        </div>
      )}
      <div class="grid wide">
        <div class="panel">
          <h2>Workers and processing lists (fleet)</h2>
          {Object.keys(workers).length > 0 ? (
            <p>
              This node:{' '}
              {Object.entries(workers).map(([role, w]) => (
                <span class={`badge ${w.running === w.configured ? 'ok' : 'bad'}`}>
                  {role} {w.running} of {w.configured} running
                </span>
              ))}
            </p>
          ) : null}
          {st && st.pods.length > 0 ? (
            <div class="table-wrap">
              <table id="pods">
                <thead>
                  <tr>
                    <th scope="col">pod</th>
                    <th scope="col">role</th>
                    <th scope="col">state</th>
                    <th scope="col" class="num">
                      heartbeat
                    </th>
                    <th scope="col" class="num">
                      processing
                    </th>
                    <th scope="col" class="num">
                      rules gen.
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {st.pods.map((p) => (
                    <tr>
                      <td class="mono">{p.pod}</td>
                      <td>{p.role === 'moog' ? 'forwarder' : p.role}</td>
                      <td>
                        <span class={`badge ${p.alive ? 'ok' : 'bad'}`}>{p.alive ? 'alive' : 'dead'}</span>
                      </td>
                      <td class="num">
                        {p.heartbeat_age_seconds === null ? '—' : `${p.heartbeat_age_seconds} s ago`}
                      </td>
                      <td class="num">{num(p.processing)}</td>
                      <td class="num">{p.rules_generation ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p class="nodata">No worker has written a heartbeat.</p>
          )}
          {st ? (
            <p class="muted">
              {st.pods.filter((p) => p.alive).length} of {st.pods.length} alive · PostgreSQL {st.postgres} ·
              updated <Time iso={st.time} />
            </p>
          ) : null}
        </div>
        <div class="panel" id="slo">
          <h2>Service level objectives</h2>
          {!l.hasSlo ? (
            <p class="nodata">No SLO report on this node.</p>
          ) : l.slo ? (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">objective</th>
                    <th scope="col" class="num">
                      target
                    </th>
                    <th scope="col" class="num">
                      now ({l.slo.window})
                    </th>
                    <th scope="col">state</th>
                  </tr>
                </thead>
                <tbody>
                  {l.slo.objectives.map((o) => (
                    <tr>
                      <td>{o.name}</td>
                      <td class="num">{o.target}%</td>
                      <td class="num">{o.current === null ? '—' : `${o.current.toFixed(3)}%`}</td>
                      <td>
                        <span class={`badge ${o.met === null ? '' : o.met ? 'ok' : 'bad'}`}>
                          {o.met === null ? 'no data' : o.met ? 'met' : 'missed'}
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {l.slo.note ? <p class="nodata">{l.slo.note}</p> : null}
            </>
          ) : (
            <p class="nodata">
              {l.sloError ? `SLO report unavailable: ${(l.sloError as Error).message}` : 'No data'}
            </p>
          )}
        </div>
      </div>
    </div>
  );
}

function Unhandled({ r, error, team }: { r?: UnhandledReport; error?: unknown; team: string }) {
  return (
    <div class="panel" id="unhandled">
      <h2>Top unhandled messages</h2>
      {error ? <ErrorNote err={error} /> : null}
      {r && r.signatures.length === 0 ? (
        <p class="nodata">No unhandled messages counted in the current window.</p>
      ) : null}
      {r && r.signatures.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col" class="num">
                  count
                </th>
                <th scope="col">message (a recent sample)</th>
                <th scope="col">hosts</th>
                <th scope="col">state</th>
                <th scope="col">action</th>
              </tr>
            </thead>
            <tbody>
              {r.signatures.map((s) => (
                <tr>
                  <td class="num">{num(s.count)}</td>
                  <td class="msg">
                    {s.sample ? (
                      <Trunc text={s.sample.message} max={200} />
                    ) : (
                      <span class="muted">signature {s.signature} (no recent sample)</span>
                    )}
                  </td>
                  <td>
                    {s.hosts.slice(0, 3).map((h) => (
                      <div>
                        {h.hostname} <span class="muted">({num(h.count)})</span>
                      </div>
                    ))}
                    {s.hosts.length > 3 ? <div class="muted">and {s.hosts.length - 3} more</div> : null}
                  </td>
                  <td>
                    {s.triggered ? (
                      <span class="badge warn">meta-alert raised</span>
                    ) : (
                      <span class="badge">counting</span>
                    )}
                  </td>
                  <td>
                    {s.suggestion ? (
                      <div class="actions">
                        <a
                          class="button primary"
                          href={`/rules/new${qs({ match_type: s.suggestion.match_type, match_string: s.suggestion.match_string, team_assignment: team, name: s.sample?.message.slice(0, 60), from: 'unhandled' })}`}
                        >
                          Make a rule from this
                        </a>
                        <a
                          href={`/tester${qs({ match_type: s.suggestion.match_type, match_string: s.suggestion.match_string, team_assignment: team, event: s.sample?.message })}`}
                        >
                          test it
                        </a>
                      </div>
                    ) : (
                      <span class="muted">no sample to build a rule from</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {r && !r.complete ? (
        <p class="muted">Read the first {num(r.keys)} counters only (a large Redis).</p>
      ) : null}
    </div>
  );
}

export function registerDashboard(ui: Hono<UiEnv>, d: UiDeps): void {
  ui.get('/', async (c) => {
    const [live, unhandled] = await Promise.all([
      readLive(d, 'all'),
      topUnhandled(d.ctx, { limit: 10 }).then(
        (r) => ({ r, error: undefined }),
        (error: unknown) => ({ r: undefined, error }),
      ),
    ]);
    return page(
      c,
      { title: 'Dashboard', active: '/', charts: true },
      <div>
        <h1>Dashboard</h1>
        <RatePanels l={live} />
        <div class="grid wide">
          <div class="panel">
            <h2>Events per minute, last 24 hours (all nodes)</h2>
            <div class="chart" data-chart="/dashboard/events.json" data-refresh="60" data-height="200"></div>
            <p class="nodata" hidden>
              No data: no event accepted in the last 24 hours.
            </p>
          </div>
          <div class="panel">
            <h2>Events per second by source, last 15 minutes (this node)</h2>
            <div class="chart" data-chart="/dashboard/sources.json" data-refresh="10" data-height="200"></div>
            <p class="nodata" hidden>
              No data yet.
            </p>
          </div>
        </div>
        <StatusPanels l={live} />
        <Unhandled r={unhandled.r} error={unhandled.error} team={d.ctx.config.UNHANDLED_DEFAULT_TEAM} />
      </div>,
    );
  });

  ui.get('/dashboard/panels', async (c) => {
    c.set('quiet', true);
    const part = c.req.query('part') === 'rates' ? 'rates' : 'status';
    const l = await readLive(d, part);
    return c.html(part === 'rates' ? <RatePanels l={l} /> : <StatusPanels l={l} />);
  });

  ui.get('/dashboard/events.json', async (c) => {
    c.set('quiet', true);
    const s = await eventsPerMinute(d.ctx, 1440);
    const start = Date.parse(s.start) / 1000;
    return c.json({
      x: s.counts.map((_, i) => start + i * 60),
      series: [{ label: 'events/min', data: s.counts }],
    });
  });

  ui.get('/dashboard/sources.json', (c) => {
    c.set('quiet', true);
    return c.json(d.rates.series());
  });
}
