/** @jsxImportSource hono/jsx */
// Live tail: the events the alerters are deciding now, as Server-Sent Events. The source is the
// alerters' recent-events sample in Redis (every MUTT alerter of the fleet writes it; at most 20 of
// each batch, so at high rates it is a sample, and the page says the total rate beside it). Each
// event is shown with the rule that wins it under the current rules. The server filters (host, text)
// and sends batches at most twice a second; the browser keeps at most 300 rows, draws one batch per
// frame, pauses on hover or on the button, and reconnects by itself (app.js).
import type { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { decide } from '../../../core/alerter/decide.ts';
import { parseEvent } from '../../../core/alerter/event.ts';
import { RuleMatcher } from '../../../core/alerter/matcher.ts';
import { compileRules, type RuleRow } from '../../../core/alerter/rules.ts';
import { query } from '../../../core/admin/context.ts';
import { abortableSleep } from '../../../runtime/sleep.ts';
import type { UiDeps, UiEnv } from '../env.ts';
import { Input, page } from '../layout.tsx';
import { SESSION_COOKIE } from '../session.ts';

export const TAIL_MAX_ROWS = 300;
const POLL_MS = 500;
const READ = 400;
const MESSAGE_MAX = 2000;
/** Rows per batch sent: a person reads a few a second; more would only cost the browser frames. */
const BATCH_MAX = 100;

interface TailEvent {
  received_at: string | null;
  timestamp: string | null;
  hostname: string;
  source: string | null;
  severity: number | null;
  message: string;
  full?: string;
  truncated: boolean;
  length: number;
  rule_id: number | null;
  handling: string | null;
}

/** The current rules, compiled once every 10 s for all tails of this node. */
class RuleView {
  private at = 0;
  private loading?: Promise<void>;
  matcher?: RuleMatcher;
  devHosts = new Set<string>();
  private readonly d: UiDeps;
  constructor(d: UiDeps) {
    this.d = d;
  }
  async get(): Promise<this> {
    if (Date.now() - this.at > 10_000) {
      this.loading ??= (async () => {
        try {
          const [rules, dev] = await Promise.all([
            query<RuleRow>(
              this.d.ctx,
              'tail_rules',
              'SELECT id, match_string, trap_oid, syslog_severity, match_type, priority, prod_handling, dev_handling, team_assignment FROM alert_rules WHERE is_active',
            ),
            query<{ hostname: string }>(
              this.d.ctx,
              'tail_dev_hosts',
              'SELECT hostname FROM development_hosts',
            ),
          ]);
          this.matcher = new RuleMatcher(compileRules(rules.rows).rules);
          this.devHosts = new Set(dev.rows.map((r) => r.hostname));
        } catch {
          this.matcher = undefined; // PostgreSQL down: events are shown without a decision
        }
        this.at = Date.now();
        this.loading = undefined;
      })();
      await this.loading;
    }
    return this;
  }
}

function toTail(raw: string, view: RuleView): TailEvent | undefined {
  const p = parseEvent(raw, []);
  if (!p.ok) return undefined;
  const e = p.event;
  const data = e.data;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  let rule_id: number | null = null;
  let handling: string | null = null;
  const m = view.matcher?.match({
    message: e.message === '' ? undefined : e.message,
    trapOid: e.trapOid,
    severity: e.severity,
  });
  if (m) {
    rule_id = m.id;
    handling = decide(m, e.hostname, view.devHosts).handling;
  }
  const truncated = e.message.length > MESSAGE_MAX;
  return {
    received_at: str(data.received_at),
    timestamp: str(data.timestamp),
    hostname: e.hostname,
    source: str(data.source),
    severity: e.severity ?? null,
    message: truncated ? `${e.message.slice(0, MESSAGE_MAX)}…` : e.message,
    ...(truncated ? { full: e.message.slice(0, 65536) } : {}),
    truncated,
    length: e.message.length,
    rule_id,
    handling,
  };
}

export function registerTail(ui: Hono<UiEnv>, d: UiDeps): void {
  const view = new RuleView(d);

  ui.get('/tail', (c) => {
    const host = c.req.query('host') ?? '';
    const text = c.req.query('q') ?? '';
    const stream = `/tail/stream?${new URLSearchParams({ host, q: text }).toString()}`;
    return page(
      c,
      { title: 'Live tail', active: '/tail' },
      <div>
        <h1>Live tail</h1>
        <form method="get" action="/tail" class="toolbar" role="search">
          <div class="field">
            <label for="f-host">Host contains</label>
            <Input name="host" value={host} />
          </div>
          <div class="field">
            <label for="f-q">Message contains</label>
            <Input name="q" value={text} type="search" search />
          </div>
          <button type="submit">Filter</button>
          <button type="button" id="tail-pause" aria-pressed="false">
            Pause
          </button>
          <span id="tail-status" data-state="connecting" role="status" aria-live="polite">
            connecting…
          </span>
          <span id="tail-count" class="muted"></span>
        </form>
        <p class="muted">
          What the alerters decide now (a sample of each batch at high rates), newest first, at most{' '}
          {TAIL_MAX_ROWS} rows. The rule column is the winner under the current rules. Hovering the table
          pauses it.
        </p>
        <div class="table-wrap">
          <table id="tail" data-stream={stream} data-max={String(TAIL_MAX_ROWS)}>
            <thead>
              <tr>
                <th scope="col">received</th>
                <th scope="col">host</th>
                <th scope="col">source</th>
                <th scope="col" class="num">
                  sev.
                </th>
                <th scope="col">message</th>
                <th scope="col">rule</th>
              </tr>
            </thead>
            <tbody></tbody>
          </table>
        </div>
      </div>,
    );
  });

  ui.get('/tail/stream', (c) => {
    c.set('quiet', true);
    const host = (c.req.query('host') ?? '').toLowerCase();
    const text = (c.req.query('q') ?? '').toLowerCase();
    const cookie = getCookie(c, SESSION_COOKIE);
    c.header('Cache-Control', 'no-store');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (s) => {
      const abort = new AbortController();
      s.onAbort(() => abort.abort());
      let last: string | undefined; // the newest item already seen
      let first = true;
      let lastCheck = Date.now();
      let lastSent = Date.now();
      while (!abort.signal.aborted) {
        if (Date.now() - lastCheck > 60_000) {
          lastCheck = Date.now();
          if (!d.sessions.verify(cookie)) {
            await s.writeSSE({ event: 'signin', data: 'session ended' });
            return;
          }
        }
        const items = await d.ctx.redis
          .lrange(d.ctx.keys.recentEvents, 0, READ - 1)
          .catch(() => [] as string[]);
        // New items are those above the last one seen (the list is LPUSHed: head = newest).
        let fresh = items;
        if (last !== undefined) {
          const i = items.indexOf(last);
          fresh = i >= 0 ? items.slice(0, i) : items;
        }
        if (items.length > 0) last = items[0];
        // On connect, show the last few so the page is not empty.
        if (first) fresh = fresh.slice(0, 50);
        first = false;
        if (fresh.length > 0) {
          await view.get();
          const out: TailEvent[] = [];
          for (let i = fresh.length - 1; i >= 0; i--) {
            const e = toTail(fresh[i]!, view);
            if (!e) continue;
            if (host && !e.hostname.toLowerCase().includes(host)) continue;
            if (text && !(e.full ?? e.message).toLowerCase().includes(text)) continue;
            out.push(e);
          }
          if (out.length > 0) {
            await s.writeSSE({ event: 'events', data: JSON.stringify(out.slice(-BATCH_MAX)) });
            lastSent = Date.now();
          }
        }
        if (Date.now() - lastSent > 15_000) {
          await s.writeSSE({ event: 'ping', data: '' });
          lastSent = Date.now();
        }
        await abortableSleep(POLL_MS, abort.signal).catch(() => undefined);
      }
    });
  });
}
