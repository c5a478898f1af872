/** @jsxImportSource hono/jsx */
// Rules: the sortable, searchable table; create / edit / delete / enable-disable forms whose errors
// are the admin services' own (under the field that caused them, the operator's input kept); a
// conflict (someone changed the rule since the form was opened) shown field by field; each rule's
// history from config_audit_log; and the rule tester — which rule wins one event, and what a draft
// rule (new, changed or deleted) would catch or lose on the last N events, before saving.
import type { Context, Hono } from 'hono';
import type { Actor } from '../../../core/admin/context.ts';
import { queryConfigAudit, getAuditLog } from '../../../core/admin/audit.ts';
import { AdminError } from '../../../core/admin/errors.ts';
import { createRule, deleteRule, getRule, listRules, updateRule } from '../../../core/admin/rules.ts';
import { HANDLINGS, MATCH_TYPES, type Rule } from '../../../core/admin/schemas.ts';
import {
  explainEvent,
  type EventExplanation,
  type Outcome,
  type RuleTestResult,
  testRules,
} from '../../../core/admin/tester.ts';
import { redisCall } from '../../../core/admin/context.ts';
import type { UiDeps, UiEnv } from '../env.ts';
import { formOf, RULE_FIELDS, ruleInput, ruleValues } from '../forms.ts';
import { ChangeTable } from '../history.tsx';
import {
  Csrf,
  ErrorNote,
  Field,
  fieldErrors,
  Input,
  num,
  page,
  qs,
  Select,
  Time,
  Trunc,
} from '../layout.tsx';

const SEVERITIES: [string, string][] = [
  ['', 'any'],
  ['0', '0 emergency'],
  ['1', '1 alert'],
  ['2', '2 critical'],
  ['3', '3 error'],
  ['4', '4 warning'],
  ['5', '5 notice'],
  ['6', '6 informational'],
  ['7', '7 debug'],
];

const actorOf = (c: Context<UiEnv>, reason?: string): Actor => ({
  ...c.get('actor'),
  ...(reason ? { reason } : {}),
});

const valuesOf = (r: Rule): Record<string, string> => ({
  name: r.name ?? '',
  match_type: r.match_type,
  match_string: r.match_string ?? '',
  trap_oid: r.trap_oid ?? '',
  syslog_severity: r.syslog_severity === null ? '' : String(r.syslog_severity),
  priority: String(r.priority),
  prod_handling: r.prod_handling,
  dev_handling: r.dev_handling,
  team_assignment: r.team_assignment,
  is_active: String(r.is_active),
  description: r.description ?? '',
});

function matchText(r: Rule): string {
  if (r.match_type === 'oid_prefix') return r.trap_oid ?? '';
  return r.match_string ?? '';
}

// ── the table ────────────────────────────────────────────────────────────────────────────────────

const SORTS: Record<string, (r: Rule) => string | number> = {
  priority: (r) => r.priority,
  id: (r) => r.id,
  name: (r) => (r.name ?? '').toLowerCase(),
  match: (r) => matchText(r).toLowerCase(),
  type: (r) => r.match_type,
  handling: (r) => r.prod_handling.toLowerCase(),
  team: (r) => r.team_assignment.toLowerCase(),
  active: (r) => (r.is_active ? 0 : 1),
};

function RulesTable({
  rules,
  q,
  sort,
  dir,
  csrf,
}: {
  rules: Rule[];
  q: string;
  sort: string;
  dir: 'asc' | 'desc';
  csrf: string;
}) {
  const head = (key: string, label: string, numeric = false) => {
    const current = sort === key;
    const next = current && dir === 'asc' ? 'desc' : 'asc';
    return (
      <th
        scope="col"
        class={numeric ? 'num' : undefined}
        aria-sort={current ? (dir === 'asc' ? 'ascending' : 'descending') : undefined}
      >
        <a href={`/rules${qs({ q, sort: key, dir: next })}`}>
          {label}
          {current ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}
        </a>
      </th>
    );
  };
  return (
    <div id="rules-table">
      <p class="muted">
        {num(rules.length)} rule{rules.length === 1 ? '' : 's'}
        {q ? ` matching “${q}”` : ''} · lower priority wins, ties by id
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              {head('priority', 'priority', true)}
              {head('id', 'id', true)}
              {head('name', 'name')}
              {head('type', 'type')}
              {head('match', 'match')}
              {head('handling', 'handling (prod / dev)')}
              {head('team', 'team')}
              {head('active', 'active')}
              <th scope="col">actions</th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr class={r.is_active ? undefined : 'inactive'} id={`rule-${r.id}`}>
                <td class="num">{r.priority}</td>
                <td class="num">{r.id}</td>
                <td>
                  <a href={`/rules/${r.id}`}>{r.name || `rule ${r.id}`}</a>
                </td>
                <td>{r.match_type}</td>
                <td class="msg mono">
                  <Trunc text={matchText(r)} max={120} />
                  {r.syslog_severity !== null ? (
                    <span class="muted"> (severity {r.syslog_severity})</span>
                  ) : null}
                </td>
                <td>
                  {r.prod_handling} / {r.dev_handling}
                </td>
                <td>{r.team_assignment}</td>
                <td>
                  <span class={`badge ${r.is_active ? 'ok' : ''}`}>
                    {r.is_active ? 'active' : 'inactive'}
                  </span>
                </td>
                <td>
                  <div class="actions">
                    <a href={`/rules/${r.id}`}>edit</a>
                    <a href={`/rules/${r.id}/history`}>history</a>
                    <form method="post" action={`/rules/${r.id}/active`}>
                      <input type="hidden" name="is_active" value={r.is_active ? 'false' : 'true'} />
                      <input type="hidden" name="back" value={`/rules${qs({ q, sort, dir })}`} />
                      <input type="hidden" name="_csrf" value={csrf} />
                      <button class="link" type="submit">
                        {r.is_active ? 'disable' : 'enable'}
                      </button>
                    </form>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

// ── the form ─────────────────────────────────────────────────────────────────────────────────────

interface FormProps {
  c: Context<UiEnv>;
  action: string;
  values: Record<string, string>;
  errors?: Record<string, string>;
  error?: unknown;
  teams: string[];
  ruleId?: number;
  etag?: string;
  orig?: string;
  conflict?: { field: string; was: string; now: string }[];
}

function handlingOptions(current: string | undefined): string[] {
  const list: string[] = [...HANDLINGS];
  if (current && !list.some((h) => h.toLowerCase() === current.toLowerCase())) list.unshift(current);
  return list;
}

/** The fields that decide what a rule matches and does: the rule form's and the tester's draft. */
function RuleFields({
  v,
  e,
  teamList,
}: {
  v: Record<string, string>;
  e: Record<string, string>;
  teamList?: string;
}) {
  return (
    <>
      <div class="row">
        <Field name="match_type" label="Match type" errors={e}>
          <Select name="match_type" value={v.match_type || 'contains'} options={MATCH_TYPES} errors={e} />
        </Field>
        <Field name="syslog_severity" label="Syslog severity" errors={e} hint="Only events of this severity.">
          <Select name="syslog_severity" value={v.syslog_severity ?? ''} options={SEVERITIES} errors={e} />
        </Field>
        <Field name="priority" label="Priority" errors={e} hint="Lower wins (default 100); ties by id.">
          <Input name="priority" value={v.priority} errors={e} size={8} />
        </Field>
      </div>
      <Field
        name="match_string"
        label="Match string"
        errors={e}
        hint="contains: text found anywhere in the message, any case. regex: RE2 syntax, any case; Python (?P<name>…) is accepted."
      >
        <Input name="match_string" value={v.match_string} errors={e} />
      </Field>
      <Field
        name="trap_oid"
        label="Trap OID prefix"
        errors={e}
        hint="For oid_prefix rules: a dotted OID such as 1.3.6.1.6.3.1.1.5."
      >
        <Input name="trap_oid" value={v.trap_oid} errors={e} />
      </Field>
      <div class="row">
        <Field name="prod_handling" label="Handling in production" errors={e}>
          <Select
            name="prod_handling"
            value={v.prod_handling || 'Page_and_ticket'}
            options={handlingOptions(v.prod_handling)}
            errors={e}
          />
        </Field>
        <Field name="dev_handling" label="Handling on dev hosts" errors={e}>
          <Select
            name="dev_handling"
            value={v.dev_handling || 'Ignore'}
            options={handlingOptions(v.dev_handling)}
            errors={e}
          />
        </Field>
        <Field name="team_assignment" label="Team" errors={e} hint="The Moogsoft class of the alerts.">
          <Input name="team_assignment" value={v.team_assignment} errors={e} list={teamList} />
        </Field>
      </div>
    </>
  );
}

function RuleForm(p: FormProps) {
  const v = p.values;
  const e = p.errors ?? {};
  const known = new Set(Object.keys(e));
  const other = Object.entries(e).filter(([k]) => ![...RULE_FIELDS, 'reason'].includes(k as never));
  return (
    <form method="post" action={p.action} class="stack" id="rule-form" novalidate>
      <Csrf c={p.c} />
      {p.etag ? <input type="hidden" name="etag" value={p.etag} /> : null}
      {p.orig ? <input type="hidden" name="orig" value={p.orig} /> : null}
      {p.conflict ? (
        <div class="note warn" role="alert" id="conflict">
          <strong>This rule was changed since you opened the form.</strong> What changed:
          <ul class="diff">
            {p.conflict.map((d) => (
              <li>
                {d.field}: <del>{d.was || '(empty)'}</del> → <ins>{d.now || '(empty)'}</ins>
              </li>
            ))}
          </ul>
          Your values are kept below; saving again replaces the current rule with them.
        </div>
      ) : null}
      <ErrorNote err={p.error} />
      {other.length > 0 ? (
        <div class="note bad" role="alert">
          {other.map(([k, m]) => (
            <div>
              {k}: {m}
            </div>
          ))}
        </div>
      ) : null}
      <Field name="name" label="Name" errors={e} hint="A short name (optional).">
        <Input name="name" value={v.name} errors={e} />
      </Field>
      <RuleFields v={v} e={e} teamList="teams" />
      <Field name="is_active" label="State" errors={e}>
        <Select
          name="is_active"
          value={v.is_active || 'true'}
          options={[
            ['true', 'active'],
            ['false', 'inactive'],
          ]}
          errors={e}
        />
      </Field>
      <datalist id="teams">
        {p.teams.map((t) => (
          <option value={t} />
        ))}
      </datalist>
      <Field name="description" label="Description" errors={e}>
        <textarea id="f-description" name="description" rows={2}>
          {v.description ?? ''}
        </textarea>
      </Field>
      <Field name="reason" label="Reason for this change" errors={e} hint="Kept in the change history.">
        <Input name="reason" value={v.reason} errors={e} />
      </Field>
      {known.size > 0 ? (
        <p class="muted">Fix the fields marked above; everything you typed is kept.</p>
      ) : null}
      <div class="actions">
        <button class="primary" type="submit">
          {p.ruleId ? 'Save rule' : 'Create rule'}
        </button>
        <button
          type="submit"
          formaction="/tester/run"
          hx-post="/tester/run"
          hx-target="#test-result"
          hx-swap="innerHTML"
          hx-include="#rule-form"
          name="from_form"
          value="1"
        >
          Test this draft on recent events
        </button>
        {p.ruleId ? <input type="hidden" name="rule_id" value={String(p.ruleId)} /> : null}
        <span class="spinner">testing…</span>
      </div>
      <div id="test-result" aria-live="polite"></div>
    </form>
  );
}

async function teamsOf(d: UiDeps): Promise<string[]> {
  try {
    return [...new Set((await listRules(d.ctx)).map((r) => r.team_assignment))].sort();
  } catch {
    return [];
  }
}

// ── tester results ───────────────────────────────────────────────────────────────────────────────

const outcomeText = (o: Outcome) =>
  o.rule_id === null
    ? 'unhandled (no rule)'
    : `${o.rule_id === 'draft' ? 'the draft' : `rule ${o.rule_id}`} → ${o.handling}${o.forwarded ? ' (forwarded)' : ''}`;

function ExplainResult({ x }: { x: EventExplanation }) {
  return (
    <div class="panel" id="explain">
      <h2>This event</h2>
      <p>
        Host <strong>{x.event.hostname}</strong> (
        {x.event.environment === 'dev' ? 'a development host' : 'production'})
        {x.event.severity !== null ? `, severity ${x.event.severity}` : ''}
        {x.event.trap_oid ? `, trap OID ${x.event.trap_oid}` : ''}
      </p>
      <div class="msg">
        <Trunc text={x.event.message} max={400} />
      </div>
      <p>
        Now: <strong id="winner">{outcomeText(x.current)}</strong>
      </p>
      {x.proposed ? (
        <p>
          With the draft: <strong id="winner-draft">{outcomeText(x.proposed)}</strong>
          {x.draft_matches !== undefined
            ? ` · the draft ${x.draft_matches ? 'matches' : 'does not match'} this event by itself`
            : ''}
        </p>
      ) : null}
      <p class="muted">
        Active rules that match, in order (the first wins):{' '}
        {x.matching.length === 0
          ? 'none'
          : x.matching.map((id, i) => (
              <>
                {i > 0 ? ', ' : ''}
                <a href={`/rules/${id}`}>{id}</a>
              </>
            ))}
      </p>
    </div>
  );
}

function SetResult({ r }: { r: RuleTestResult }) {
  return (
    <div class="panel" id="set-result">
      <h2>On the last {num(r.events.tested)} events</h2>
      <table>
        <thead>
          <tr>
            <th scope="col"></th>
            <th scope="col" class="num">
              matched
            </th>
            <th scope="col" class="num">
              unhandled
            </th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">rules now</th>
            <td class="num">{num(r.current.matched)}</td>
            <td class="num">{num(r.current.unhandled)}</td>
          </tr>
          <tr>
            <th scope="row">with the draft</th>
            <td class="num">{num(r.proposed.matched)}</td>
            <td class="num">{num(r.proposed.unhandled)}</td>
          </tr>
        </tbody>
      </table>
      <p>
        {r.draft ? (
          <>
            The draft matches <strong id="draft-matches">{num(r.draft.matches)}</strong> of them by itself and
            wins <strong>{num(r.draft.wins)}</strong>.{' '}
          </>
        ) : null}
        <strong id="changed">{num(r.changed)}</strong> event{r.changed === 1 ? '' : 's'} would be decided
        differently
        {r.proposed.matched > r.current.matched
          ? ` (${num(r.proposed.matched - r.current.matched)} more caught)`
          : ''}
        {r.proposed.matched < r.current.matched
          ? ` (${num(r.current.matched - r.proposed.matched)} fewer caught)`
          : ''}
        .
      </p>
      {r.sample.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">host</th>
                <th scope="col">message</th>
                <th scope="col">now</th>
                <th scope="col">with the draft</th>
              </tr>
            </thead>
            <tbody>
              {r.sample.map((s) => (
                <tr>
                  <td>{s.hostname}</td>
                  <td class="msg">
                    <Trunc text={s.message} max={160} />
                  </td>
                  <td>{outcomeText(s.before)}</td>
                  <td>{outcomeText(s.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <p class="muted">
        Events from the audit trail ({num(r.events.from_audit)}) and the alerter's recent sample (
        {num(r.events.from_recent)}), unhandled ones included.
      </p>
    </div>
  );
}

/** Runs what the tester form asks: one event, a draft on recent events, or both. */
async function runTester(d: UiDeps, f: Record<string, string>) {
  const draftGiven =
    ['match_string', 'trap_oid'].some((k) => (f[k] ?? '').trim() !== '') || f.delete === 'true';
  const ruleId = f.rule_id && /^\d+$/.test(f.rule_id) ? Number(f.rule_id) : undefined;
  const rule = draftGiven && f.delete !== 'true' ? ruleInput({ ...f, reason: '' }) : undefined;
  if (rule) delete rule.reason;
  if (rule) {
    delete rule.name;
    delete rule.description;
    delete rule.is_active;
  }
  const events = f.events && /^\d+$/.test(f.events) ? Number(f.events) : 500;
  const out: { explain?: EventExplanation; set?: RuleTestResult } = {};
  const tasks: Promise<void>[] = [];
  if ((f.event ?? '').trim() !== '')
    tasks.push(
      explainEvent(d.ctx, {
        event: f.event,
        ...(f.hostname ? { hostname: f.hostname } : {}),
        ...(rule ? { rule } : {}),
        ...(ruleId !== undefined ? { rule_id: ruleId } : {}),
        ...(f.delete === 'true' ? { delete: true } : {}),
      }).then((x) => void (out.explain = x)),
    );
  if (rule || (f.delete === 'true' && ruleId !== undefined))
    tasks.push(
      testRules(d.ctx, {
        ...(rule ? { rule } : {}),
        ...(ruleId !== undefined ? { rule_id: ruleId } : {}),
        ...(f.delete === 'true' ? { delete: true } : {}),
        events,
      }).then((r) => void (out.set = r)),
    );
  if (tasks.length === 0)
    throw new AdminError('invalid', 'give an event to test, or a draft rule (a match string or OID)', {
      fields: [{ field: 'event', message: 'give an event, or a draft rule below' }],
    });
  await Promise.all(tasks);
  return out;
}

function TesterResults({ out }: { out: { explain?: EventExplanation; set?: RuleTestResult } }) {
  return (
    <div>
      {out.explain ? <ExplainResult x={out.explain} /> : null}
      {out.set ? <SetResult r={out.set} /> : null}
    </div>
  );
}

interface TesterProps {
  c: Context<UiEnv>;
  values: Record<string, string>;
  errors?: Record<string, string>;
  error?: unknown;
  rules: Rule[];
  recent: { hostname: string; message: string; id: string }[];
  result?: { explain?: EventExplanation; set?: RuleTestResult };
}

function TesterPage(p: TesterProps) {
  const v = p.values;
  const e = p.errors ?? {};
  return (
    <div>
      <h1>Rule tester</h1>
      <p class="muted">
        See which rule wins an event, and what a new or changed rule would catch or lose on what really
        arrived — before saving anything.
      </p>
      <form
        method="post"
        action="/tester/run"
        class="stack"
        id="tester-form"
        hx-post="/tester/run"
        hx-target="#result"
        hx-swap="innerHTML"
        novalidate
      >
        <Csrf c={p.c} />
        <ErrorNote err={p.error} />
        <Field
          name="event"
          label="Event"
          errors={e}
          hint="Paste an event as JSON (as queued), or just a message. Or pick a recent one below."
        >
          <textarea id="f-event" name="event" rows={4}>
            {v.event ?? ''}
          </textarea>
        </Field>
        <Field name="hostname" label="Host name (for a bare message)" errors={e}>
          <Input name="hostname" value={v.hostname} errors={e} />
        </Field>
        {p.recent.length > 0 ? (
          <details>
            <summary>Pick a recent event ({p.recent.length})</summary>
            <ul>
              {p.recent.map((r) => (
                <li>
                  <a href={`/tester${qs({ pick: r.id })}`}>
                    {r.hostname}: {r.message.slice(0, 140)}
                  </a>
                </li>
              ))}
            </ul>
          </details>
        ) : null}
        <fieldset>
          <legend>Draft rule (optional)</legend>
          <div class="row">
            <Field
              name="rule_id"
              label="Changes rule"
              errors={e}
              hint="Leave as “a new rule”, or pick the rule the draft edits."
            >
              <Select
                name="rule_id"
                value={v.rule_id ?? ''}
                options={[
                  ['', 'a new rule'],
                  ...p.rules.map(
                    (r) =>
                      [String(r.id), `${r.id}: ${r.name ?? matchText(r).slice(0, 50)}`] as [string, string],
                  ),
                ]}
                errors={e}
              />
            </Field>
            <Field name="delete" label="Or delete it" errors={e}>
              <Select
                name="delete"
                value={v.delete ?? ''}
                options={[
                  ['', 'no'],
                  ['true', 'test without that rule'],
                ]}
                errors={e}
              />
            </Field>
          </div>
          <RuleFields v={{ ...v, team_assignment: v.team_assignment || 'NETO' }} e={e} />
          <Field name="events" label="Recent events to test" errors={e} hint="At most 5,000.">
            <Input name="events" value={v.events ?? '500'} errors={e} size={6} />
          </Field>
        </fieldset>
        <div class="actions">
          <button class="primary" type="submit">
            Run the test
          </button>
          <span class="spinner">testing…</span>
        </div>
      </form>
      <div id="result" aria-live="polite">
        {p.result ? <TesterResults out={p.result} /> : null}
      </div>
    </div>
  );
}

async function recentEvents(
  d: UiDeps,
): Promise<{ hostname: string; message: string; id: string; raw: string }[]> {
  try {
    const raw = await redisCall(() => d.ctx.redis.lrange(d.ctx.keys.recentEvents, 0, 19));
    const out: { hostname: string; message: string; id: string; raw: string }[] = [];
    for (const r of raw) {
      try {
        const o = JSON.parse(r) as Record<string, unknown>;
        out.push({
          hostname: typeof o.hostname === 'string' ? o.hostname : '',
          message: typeof o.message === 'string' ? o.message : '',
          id: typeof o._correlation_id === 'string' ? o._correlation_id : '',
          raw: r,
        });
      } catch {
        // not an event: not offered
      }
    }
    return out;
  } catch {
    return [];
  }
}

// ── routes ───────────────────────────────────────────────────────────────────────────────────────

export function registerRules(ui: Hono<UiEnv>, d: UiDeps): void {
  ui.get('/rules', async (c) => {
    const q = (c.req.query('q') ?? '').trim();
    const sort = c.req.query('sort') && SORTS[c.req.query('sort')!] ? c.req.query('sort')! : 'priority';
    const dir = c.req.query('dir') === 'desc' ? 'desc' : 'asc';
    let rules = await listRules(d.ctx);
    if (q) {
      const needle = q.toLowerCase();
      rules = rules.filter((r) =>
        [
          String(r.id),
          r.name,
          r.match_string,
          r.trap_oid,
          r.team_assignment,
          r.prod_handling,
          r.dev_handling,
          r.description,
          r.match_type,
        ].some((x) => x !== null && x.toLowerCase().includes(needle)),
      );
    }
    const key = SORTS[sort]!;
    rules.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const cmp = x < y ? -1 : x > y ? 1 : a.priority - b.priority || a.id - b.id;
      return dir === 'asc' ? cmp : -cmp;
    });
    const saved = c.req.query('saved');
    const table = <RulesTable rules={rules} q={q} sort={sort} dir={dir} csrf={c.get('csrf')} />;
    if (c.req.header('hx-request') && c.req.header('hx-target') === 'rules-table') return c.html(table);
    return page(
      c,
      { title: 'Rules', active: '/rules' },
      <div>
        <h1>Rules</h1>
        {saved ? (
          <div class="note ok" role="status">
            Rule {saved} {c.req.query('deleted') ? 'deleted' : 'saved'}.{' '}
            {c.req.query('applied') === 'false'
              ? 'It is stored; not every alerter has confirmed it yet (they will reload).'
              : 'Every alerter runs it now.'}
          </div>
        ) : null}
        <form
          method="get"
          action="/rules"
          class="toolbar"
          role="search"
          hx-get="/rules"
          hx-trigger="input changed delay:250ms from:#f-q, search from:#f-q"
          hx-target="#rules-table"
          hx-swap="outerHTML"
          hx-push-url="true"
        >
          <div class="field">
            <label for="f-q">Search rules</label>
            <Input
              name="q"
              value={q}
              type="search"
              placeholder="text, team, handling, id  ( / )"
              search
              size={36}
            />
          </div>
          <input type="hidden" name="sort" value={sort} />
          <input type="hidden" name="dir" value={dir} />
          <button type="submit">Search</button>
          <a class="button primary" href="/rules/new">
            New rule
          </a>
          <a class="button" href="/tester">
            Rule tester
          </a>
        </form>
        {table}
      </div>,
    );
  });

  ui.get('/rules/new', async (c) => {
    const values: Record<string, string> = {};
    for (const k of RULE_FIELDS) {
      const v = c.req.query(k);
      if (v !== undefined) values[k] = v;
    }
    return page(
      c,
      { title: 'New rule', active: '/rules' },
      <div>
        <h1>New rule</h1>
        {c.req.query('from') === 'unhandled' ? (
          <div class="note">
            Prefilled from an unhandled message: check the match and the team, test it, then create it.
          </div>
        ) : null}
        <RuleForm c={c} action="/rules" values={values} teams={await teamsOf(d)} />
      </div>,
    );
  });

  ui.post('/rules', async (c) => {
    const f = await formOf(c);
    try {
      const r = await createRule(d.ctx, ruleInput(f), actorOf(c));
      return c.redirect(
        `/rules${qs({ saved: r.rule.id, applied: String(r.applied.applied) })}#rule-${r.rule.id}`,
        303,
      );
    } catch (err) {
      if (!(err instanceof AdminError) || err.code === 'unavailable') throw err;
      return page(
        c,
        { title: 'New rule', active: '/rules', status: err.code === 'invalid' ? 400 : 409 },
        <div>
          <h1>New rule</h1>
          <RuleForm
            c={c}
            action="/rules"
            values={ruleValues(f)}
            errors={fieldErrors(err)}
            error={err.fields.length === 0 ? err : undefined}
            teams={await teamsOf(d)}
          />
        </div>,
      );
    }
  });

  ui.get('/rules/:id', async (c) => {
    const { rule, etag } = await getRule(d.ctx, c.req.param('id'));
    return page(
      c,
      { title: `Rule ${rule.id}`, active: '/rules' },
      <div>
        <h1>
          Rule {rule.id}
          {rule.name ? `: ${rule.name}` : ''}
        </h1>
        <p class="actions">
          <a href={`/rules/${rule.id}/history`}>Change history</a>
          <a href={`/audit${qs({ rule_id: rule.id })}`}>Events it matched</a>
          <a class="button danger" href={`/rules/${rule.id}/delete`}>
            Delete…
          </a>
        </p>
        <p class="muted">
          Created <Time iso={rule.created_at} />, updated <Time iso={rule.updated_at} />
        </p>
        <RuleForm
          c={c}
          action={`/rules/${rule.id}`}
          values={valuesOf(rule)}
          teams={await teamsOf(d)}
          ruleId={rule.id}
          etag={etag}
          orig={JSON.stringify(valuesOf(rule))}
        />
      </div>,
    );
  });

  ui.post('/rules/:id', async (c) => {
    const id = c.req.param('id');
    const f = await formOf(c);
    try {
      const r = await updateRule(d.ctx, id, ruleInput(f), actorOf(c), f.etag || undefined);
      return c.redirect(
        `/rules${qs({ saved: r.rule.id, applied: String(r.applied.applied) })}#rule-${r.rule.id}`,
        303,
      );
    } catch (err) {
      if (!(err instanceof AdminError) || err.code === 'unavailable' || err.code === 'not_found') throw err;
      let conflict: FormProps['conflict'];
      let etag = f.etag;
      let orig = f.orig;
      if (err.code === 'precondition_failed') {
        const now = await getRule(d.ctx, id);
        etag = now.etag;
        const cur = valuesOf(now.rule);
        let was: Record<string, string> = {};
        try {
          was = JSON.parse(f.orig ?? '{}') as Record<string, string>;
        } catch {
          was = {};
        }
        conflict = RULE_FIELDS.filter((k) => (was[k] ?? '') !== (cur[k] ?? '')).map((k) => ({
          field: k,
          was: was[k] ?? '',
          now: cur[k] ?? '',
        }));
        orig = JSON.stringify(cur);
      }
      return page(
        c,
        {
          title: `Rule ${id}`,
          active: '/rules',
          status: err.code === 'invalid' ? 400 : err.code === 'precondition_failed' ? 412 : 409,
        },
        <div>
          <h1>Rule {id}</h1>
          <RuleForm
            c={c}
            action={`/rules/${id}`}
            values={ruleValues(f)}
            errors={fieldErrors(err)}
            error={err.fields.length === 0 && !conflict ? err : undefined}
            teams={await teamsOf(d)}
            ruleId={Number(id)}
            etag={etag}
            orig={orig}
            conflict={conflict}
          />
        </div>,
      );
    }
  });

  ui.post('/rules/:id/active', async (c) => {
    const f = await formOf(c);
    const r = await updateRule(d.ctx, c.req.param('id'), { is_active: f.is_active === 'true' }, actorOf(c));
    const back = f.back?.startsWith('/rules') ? f.back : '/rules';
    const sep = back.includes('?') ? '&' : '?';
    return c.redirect(`${back}${sep}saved=${r.rule.id}&applied=${String(r.applied.applied)}`, 303);
  });

  ui.get('/rules/:id/delete', async (c) => {
    const { rule, etag } = await getRule(d.ctx, c.req.param('id'));
    let impact: RuleTestResult | undefined;
    try {
      impact = await testRules(d.ctx, { rule_id: rule.id, delete: true, events: 500, sample: 5 });
    } catch {
      impact = undefined;
    }
    return page(
      c,
      { title: `Delete rule ${rule.id}`, active: '/rules' },
      <div>
        <h1>Delete rule {rule.id}?</h1>
        <div class="note warn">
          This deletes <strong>1 rule</strong> ({rule.match_type} “{matchText(rule)}”, team{' '}
          {rule.team_assignment}).
          {impact ? (
            <>
              {' '}
              On the last {num(impact.events.tested)} events,{' '}
              <strong id="delete-impact">{num(impact.changed)}</strong> would be decided differently without
              it.
            </>
          ) : null}{' '}
          A rule that matched events is kept by the audit trail: deactivate it instead.
        </div>
        <form method="post" action={`/rules/${rule.id}/delete`} class="stack">
          <Csrf c={c} />
          <input type="hidden" name="etag" value={etag} />
          <Field name="reason" label="Reason">
            <Input name="reason" />
          </Field>
          <div class="actions">
            <button class="danger" type="submit">
              Delete 1 rule
            </button>
            <a href={`/rules/${rule.id}`}>Cancel</a>
          </div>
        </form>
      </div>,
    );
  });

  ui.post('/rules/:id/delete', async (c) => {
    const id = c.req.param('id');
    const f = await formOf(c);
    try {
      const r = await deleteRule(d.ctx, id, actorOf(c, f.reason), f.etag || undefined);
      return c.redirect(
        `/rules${qs({ saved: r.rule.id, deleted: 1, applied: String(r.applied.applied) })}`,
        303,
      );
    } catch (err) {
      if (!(err instanceof AdminError) || err.code === 'unavailable' || err.code === 'not_found') throw err;
      return page(
        c,
        { title: `Delete rule ${id}`, active: '/rules', status: err.code === 'conflict' ? 409 : 412 },
        <div>
          <h1>Rule {id} was not deleted</h1>
          <ErrorNote err={err} />
          {err.code === 'conflict' ? (
            <form method="post" action={`/rules/${id}/active`}>
              <Csrf c={c} />
              <input type="hidden" name="is_active" value="false" />
              <button class="primary" type="submit">
                Deactivate rule {id} instead
              </button>
            </form>
          ) : (
            <a href={`/rules/${id}/delete`}>Look at it again</a>
          )}
        </div>,
      );
    }
  });

  ui.get('/rules/:id/history', async (c) => {
    const id = c.req.param('id');
    const h = await queryConfigAudit(d.ctx, { record_id: id, limit: '200' }, 'alert_rules');
    return page(
      c,
      { title: `Rule ${id} history`, active: '/rules' },
      <div>
        <h1>Rule {id}: change history</h1>
        <p>
          <a href={`/rules/${id}`}>Back to the rule</a>
        </p>
        {h.changes.length === 0 ? (
          <p class="nodata">No change recorded (a rule added with SQL has no history).</p>
        ) : null}
        {h.changes.length > 0 ? <ChangeTable changes={h.changes} id="history" /> : null}
      </div>,
    );
  });

  // ── the tester ──
  ui.get('/tester', async (c) => {
    const values: Record<string, string> = {};
    for (const k of [...RULE_FIELDS, 'event', 'hostname', 'rule_id', 'events']) {
      const v = c.req.query(k);
      if (v !== undefined) values[k] = v;
    }
    const [rules, recent] = await Promise.all([listRules(d.ctx).catch(() => []), recentEvents(d)]);
    const pick = c.req.query('pick');
    if (pick) {
      const r = recent.find((x) => x.id === pick);
      if (r) values.event = JSON.stringify(JSON.parse(r.raw), null, 2);
    }
    const auditId = c.req.query('audit_id');
    if (auditId) {
      const row = await getAuditLog(d.ctx, auditId, c.req.query('ts'));
      values.event = row.raw_message ?? '';
    }
    return page(
      c,
      { title: 'Rule tester', active: '/tester' },
      <TesterPage c={c} values={values} rules={rules} recent={recent} />,
    );
  });

  ui.post('/tester/run', async (c) => {
    const f = await formOf(c);
    const partial = c.req.header('hx-request') !== undefined;
    try {
      const out = await runTester(d, f);
      if (partial) return c.html(<TesterResults out={out} />);
      const [rules, recent] = await Promise.all([listRules(d.ctx).catch(() => []), recentEvents(d)]);
      return page(
        c,
        { title: 'Rule tester', active: '/tester' },
        <TesterPage c={c} values={f} rules={rules} recent={recent} result={out} />,
      );
    } catch (err) {
      if (!(err instanceof AdminError) || err.code === 'unavailable') throw err;
      const errors = fieldErrors(err);
      if (partial) {
        // htmx swaps 2xx only: the answer is the errors, each named by its field.
        return c.html(
          <div class="note bad" role="alert" id="tester-errors">
            {err.fields.length > 0
              ? Object.entries(errors).map(([k, m]) => (
                  <div>
                    <strong>{k}</strong>: {m}
                  </div>
                ))
              : err.message}
          </div>,
        );
      }
      const [rules, recent] = await Promise.all([listRules(d.ctx).catch(() => []), recentEvents(d)]);
      return page(
        c,
        { title: 'Rule tester', active: '/tester', status: 400 },
        <TesterPage
          c={c}
          values={f}
          errors={errors}
          error={err.fields.length === 0 ? err : undefined}
          rules={rules}
          recent={recent}
        />,
      );
    }
  });
}
