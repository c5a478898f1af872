/** @jsxImportSource hono/jsx */
// Development hosts and device teams: tables with add and remove (and a team's change), and a bulk
// import of pasted CSV lines answered line by line (core/admin/bulk.ts).
import type { Context, Hono } from 'hono';
import { importDevHosts, importTeams, type ImportResult } from '../../../core/admin/bulk.ts';
import { AdminError } from '../../../core/admin/errors.ts';
import {
  addDevHost,
  addTeam,
  deleteDevHost,
  deleteTeam,
  listDevHosts,
  listTeams,
  updateTeam,
} from '../../../core/admin/hosts.ts';
import type { UiDeps, UiEnv } from '../env.ts';
import { formAll, formOf } from '../forms.ts';
import { Csrf, ErrorNote, Field, fieldErrors, Input, num, page, qs } from '../layout.tsx';

function ImportResults({ r }: { r: ImportResult }) {
  const c = r.counts;
  return (
    <div class="panel" id="import-result">
      <h2>Import result</h2>
      <p>
        <strong>{num(c.added)}</strong> added, <strong>{num(c.updated)}</strong> updated, {num(c.unchanged)}{' '}
        unchanged, <strong class={c.invalid > 0 ? 'value bad' : ''}>{num(c.invalid)}</strong> invalid,{' '}
        {num(c.duplicate)} duplicate, {num(c.skipped)} skipped
        {r.applied
          ? r.applied.applied
            ? ' · every alerter runs the change'
            : ' · stored; alerters will reload'
          : ''}
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col" class="num">
                line
              </th>
              <th scope="col">text</th>
              <th scope="col">result</th>
            </tr>
          </thead>
          <tbody>
            {r.lines.map((l) => (
              <tr>
                <td class="num">{l.line}</td>
                <td class="mono">{l.text}</td>
                <td>
                  <span
                    class={`badge ${l.status === 'invalid' || l.status === 'duplicate' ? 'bad' : l.status === 'added' || l.status === 'updated' ? 'ok' : ''}`}
                  >
                    {l.status}
                  </span>{' '}
                  {l.message}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

type Kind = 'hosts' | 'teams';

interface HostsPageProps {
  c: Context<UiEnv>;
  kind: Kind;
  rows: { hostname: string; team_assignment?: string }[];
  q: string;
  values?: Record<string, string>;
  errors?: Record<string, string>;
  error?: unknown;
  imported?: ImportResult;
  done?: string;
  /** Teams: the host whose team the form changes. */
  edit?: string;
}

function HostsPage(p: HostsPageProps) {
  const teams = p.kind === 'teams';
  const base = teams ? '/teams' : '/hosts';
  const v = p.values ?? {};
  const e = p.errors ?? {};
  const needle = p.q.toLowerCase();
  const rows = needle
    ? p.rows.filter(
        (r) =>
          r.hostname.toLowerCase().includes(needle) ||
          (r.team_assignment ?? '').toLowerCase().includes(needle),
      )
    : p.rows;
  return (
    <div>
      <h1>{teams ? 'Teams' : 'Development hosts'}</h1>
      <p class="muted">
        {teams
          ? 'The team of each host’s unhandled-message meta-alerts (hosts not listed use UNHANDLED_DEFAULT_TEAM).'
          : 'Events from these hosts use each rule’s dev handling instead of its production handling.'}
      </p>
      {p.done ? (
        <div class="note ok" role="status">
          {p.done}
        </div>
      ) : null}
      <ErrorNote err={p.error} />
      <div class="grid wide">
        <div class="panel">
          <h2>{p.edit ? `Change the team of ${p.edit}` : 'Add one'}</h2>
          <form method="post" action={p.edit ? '/teams/update' : base} class="stack" novalidate>
            {p.edit ? <input type="hidden" name="hostname" value={p.edit} /> : null}
            <Csrf c={p.c} />
            <div class="row">
              {p.edit ? null : (
                <Field name="hostname" label="Host name" errors={e}>
                  <Input name="hostname" value={v.hostname} errors={e} />
                </Field>
              )}
              {teams ? (
                <Field name="team_assignment" label="Team" errors={e}>
                  <Input name="team_assignment" value={v.team_assignment} errors={e} />
                </Field>
              ) : null}
            </div>
            <Field name="reason" label="Reason" errors={e}>
              <Input name="reason" value={v.reason} errors={e} />
            </Field>
            <div>
              <button class="primary" type="submit">
                {p.edit ? 'Save' : 'Add'}
              </button>
            </div>
          </form>
        </div>
        <div class="panel">
          <h2>Import CSV lines</h2>
          <form method="post" action={`${base}/import`} class="stack" novalidate>
            <Csrf c={p.c} />
            <Field
              name="csv"
              label={teams ? 'hostname,team_assignment per line' : 'One host name per line'}
              errors={e}
              hint={`Blank lines and # comments are skipped; a header line is recognised.${teams ? ' A known host’s team is updated.' : ''}`}
            >
              <textarea
                id="f-csv"
                name="csv"
                rows={6}
                placeholder={teams ? 'hostname,team_assignment\ncore-rtr-01,NETO' : 'hostname\nlab-sw1'}
              >
                {v.csv ?? ''}
              </textarea>
            </Field>
            <div>
              <button class="primary" type="submit">
                Import
              </button>
            </div>
          </form>
        </div>
      </div>
      {p.imported ? <ImportResults r={p.imported} /> : null}
      <form method="get" action={base} class="toolbar" role="search">
        <div class="field">
          <label for="f-q">Filter</label>
          <Input name="q" value={p.q} type="search" search />
        </div>
        <button type="submit">Filter</button>
        <span class="muted">
          {num(rows.length)} of {num(p.rows.length)}
        </span>
      </form>
      <form method="post" action={`${base}/delete/confirm`}>
        <Csrf c={p.c} />
        <div class="toolbar">
          <button type="submit" class="danger">
            Remove selected…
          </button>
        </div>
        <div class="table-wrap">
          <table id="hosts-table">
            <thead>
              <tr>
                <th scope="col">
                  <label class="skip" for="select-all">
                    Select all
                  </label>
                  <input type="checkbox" id="select-all" data-select-all="hostname" />
                </th>
                <th scope="col">host name</th>
                {teams ? <th scope="col">team</th> : null}
                {teams ? <th scope="col">change</th> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td>
                    <input
                      type="checkbox"
                      name="hostname"
                      value={r.hostname}
                      aria-label={`select ${r.hostname}`}
                    />
                  </td>
                  <td class="mono">{r.hostname}</td>
                  {teams ? <td>{r.team_assignment}</td> : null}
                  {teams ? (
                    <td>
                      <a href={`/teams${qs({ edit: r.hostname })}`}>change team</a>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </form>
    </div>
  );
}

export function registerHosts(ui: Hono<UiEnv>, d: UiDeps): void {
  const rowsOf = async (kind: Kind) =>
    kind === 'teams' ? await listTeams(d.ctx) : await listDevHosts(d.ctx);
  const render = async (
    c: Context<UiEnv>,
    kind: Kind,
    extra: Partial<HostsPageProps> & { status?: number } = {},
  ) =>
    page(
      c,
      {
        title: kind === 'teams' ? 'Teams' : 'Development hosts',
        active: kind === 'teams' ? '/teams' : '/hosts',
        status: extra.status,
      },
      <HostsPage c={c} kind={kind} rows={await rowsOf(kind)} q={c.req.query('q') ?? ''} {...extra} />,
    );
  const actor = (c: Context<UiEnv>, reason?: string) => ({
    ...c.get('actor'),
    ...(reason ? { reason } : {}),
  });
  const form = async (c: Context<UiEnv>, kind: Kind, fn: (f: Record<string, string>) => Promise<string>) => {
    const f = await formOf(c);
    try {
      const done = await fn(f);
      return c.redirect(`${kind === 'teams' ? '/teams' : '/hosts'}${qs({ done })}`, 303);
    } catch (err) {
      if (!(err instanceof AdminError) || err.code === 'unavailable') throw err;
      const errors = fieldErrors(err);
      return render(c, kind, {
        values: f,
        errors,
        error: err.fields.length === 0 ? err : undefined,
        status: err.code === 'invalid' ? 400 : err.code === 'not_found' ? 404 : 409,
      });
    }
  };

  for (const kind of ['hosts', 'teams'] as const) {
    const base = `/${kind}`;
    ui.get(base, async (c) => {
      const edit = kind === 'teams' ? c.req.query('edit') : undefined;
      const rows = edit ? await listTeams(d.ctx) : [];
      const current = rows.find((r) => r.hostname === edit);
      return render(c, kind, {
        done: c.req.query('done'),
        edit: current?.hostname,
        values: current ? { team_assignment: current.team_assignment } : undefined,
      });
    });
    ui.post(`${base}/delete/confirm`, async (c) => {
      const names = await formAll(c, 'hostname');
      if (names.length === 0)
        return c.redirect(`${base}${qs({ done: 'Select the hosts to remove first.' })}`, 303);
      return page(
        c,
        { title: 'Confirm', active: base },
        <div>
          <h1>
            Remove {num(names.length)} {kind === 'teams' ? 'team mapping' : 'development host'}
            {names.length === 1 ? '' : 's'}?
          </h1>
          <div class="note warn" id="confirm-count">
            This removes {num(names.length)} {kind === 'teams' ? 'team mapping' : 'development host'}
            {names.length === 1 ? '' : 's'}: {names.slice(0, 20).join(', ')}
            {names.length > 20 ? ` and ${num(names.length - 20)} more` : ''}.
          </div>
          <form method="post" action={`${base}/delete`} class="stack">
            <Csrf c={c} />
            {names.map((n) => (
              <input type="hidden" name="hostname" value={n} />
            ))}
            <Field name="reason" label="Reason">
              <Input name="reason" />
            </Field>
            <div class="actions">
              <button class="danger" type="submit">
                Remove {num(names.length)}
              </button>
              <a href={base}>Cancel</a>
            </div>
          </form>
        </div>,
      );
    });
    ui.post(`${base}/delete`, async (c) => {
      const f = await formOf(c);
      const names = await formAll(c, 'hostname');
      const removed: string[] = [];
      const problems: string[] = [];
      for (const n of names) {
        try {
          if (kind === 'teams') await deleteTeam(d.ctx, n, actor(c, f.reason));
          else await deleteDevHost(d.ctx, n, actor(c, f.reason));
          removed.push(n);
        } catch (err) {
          if (!(err instanceof AdminError) || err.code === 'unavailable') throw err;
          problems.push(`${n}: ${err.message}`);
        }
      }
      return c.redirect(
        `${base}${qs({ done: `Removed ${num(removed.length)}.${problems.length > 0 ? ` Not removed: ${problems.join('; ')}` : ''}` })}`,
        303,
      );
    });
    ui.post(`${base}/import`, async (c) => {
      const f = await formOf(c);
      try {
        const r =
          kind === 'teams'
            ? await importTeams(d.ctx, f.csv ?? '', actor(c))
            : await importDevHosts(d.ctx, f.csv ?? '', actor(c));
        return render(c, kind, {
          imported: r,
          values: { csv: r.counts.invalid + r.counts.duplicate > 0 ? (f.csv ?? '') : '' },
        });
      } catch (err) {
        if (!(err instanceof AdminError) || err.code === 'unavailable') throw err;
        return render(c, kind, { values: f, errors: fieldErrors(err), status: 400 });
      }
    });
  }
  ui.post('/hosts', (c) =>
    form(c, 'hosts', async (f) => {
      const r = await addDevHost(
        d.ctx,
        { hostname: f.hostname ?? '', ...(f.reason ? { reason: f.reason } : {}) },
        actor(c),
      );
      return `Added ${r.host.hostname}.`;
    }),
  );
  ui.post('/teams', (c) =>
    form(c, 'teams', async (f) => {
      const r = await addTeam(
        d.ctx,
        {
          hostname: f.hostname ?? '',
          team_assignment: f.team_assignment ?? '',
          ...(f.reason ? { reason: f.reason } : {}),
        },
        actor(c),
      );
      return `Added ${r.team.hostname} to ${r.team.team_assignment}.`;
    }),
  );
  ui.post('/teams/update', (c) =>
    form(c, 'teams', async (f) => {
      const r = await updateTeam(
        d.ctx,
        f.hostname ?? '',
        { team_assignment: f.team_assignment ?? '' },
        actor(c),
      );
      return `${r.team.hostname} is in ${r.team.team_assignment}.`;
    }),
  );
}
