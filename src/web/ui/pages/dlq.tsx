/** @jsxImportSource hono/jsx */
// Dead-letter queues: the items of each queue (newest first) with their reason, attempts and
// replays, filtered by reason, host or time; replay or purge the selected items, or every item that
// matches the filters, after one confirmation that says how many items go where (a dry run of the
// same service call).
import type { Context, Hono } from 'hono';
import {
  browseDlq,
  checkDlqName,
  DLQ_NAMES,
  type DlqItem,
  dlqDepths,
  purgeDlqItems,
  replayDlqItems,
} from '../../../core/admin/dlq.ts';
import { AdminError } from '../../../core/admin/errors.ts';
import type { UiDeps, UiEnv } from '../env.ts';
import { formAll, formOf } from '../forms.ts';
import { Csrf, ErrorNote, Field, fieldErrors, Input, num, page, qs, Time, Trunc } from '../layout.tsx';

const QUEUE_WORDS: Record<string, string> = {
  moog: 'alerts Moogsoft refused, or that ran out of retries (replayed to the alert queue)',
  alerter: 'events the alerter could not process (replayed to the ingest queue)',
  dead: 'items whose replays are spent (replayed to the queue they came from)',
};

const attempts = (i: DlqItem): string => {
  const m = i.item._moog_retry_count;
  const a = i.item._retry_count;
  const n = typeof m === 'number' ? m : typeof a === 'number' ? a : undefined;
  return n === undefined ? '—' : String(n);
};

const FILTERS = ['reason', 'host', 'since'] as const;
const filtersOf = (q: Record<string, string>) => {
  const out: Record<string, string> = {};
  for (const k of FILTERS) if (q[k] && q[k].trim() !== '') out[k] = q[k].trim();
  return out;
};

export function registerDlq(ui: Hono<UiEnv>, d: UiDeps): void {
  ui.get('/dlq', (c) => c.redirect('/dlq/moog', 303));

  ui.get('/dlq/:name', async (c) => {
    const name = checkDlqName(c.req.param('name'));
    const q = c.req.query();
    const filters = filtersOf(q);
    const offset = q.offset && /^\d+$/.test(q.offset) ? q.offset : undefined;
    const [depths, browse] = await Promise.all([
      dlqDepths(d.ctx),
      browseDlq(d.ctx, name, { ...filters, ...(offset ? { offset } : {}), limit: '50' }).then(
        (r) => ({ r, err: undefined }),
        (err: unknown) => {
          if (err instanceof AdminError && err.code === 'invalid') return { r: undefined, err };
          throw err;
        },
      ),
    ]);
    const r = browse.r;
    const errors = fieldErrors(browse.err);
    const off = Number(offset ?? 0);
    return page(
      c,
      { title: `DLQ ${name}`, active: '/dlq', status: browse.err ? 400 : 200 },
      <div>
        <h1>Dead-letter queues</h1>
        <nav class="actions" aria-label="Queues">
          {DLQ_NAMES.map((n) => (
            <a
              class={n === name ? 'button primary' : 'button'}
              href={`/dlq/${n}`}
              aria-current={n === name ? 'page' : undefined}
            >
              {n} <span class={`badge ${depths[n].depth > 0 ? 'bad' : ''}`}>{num(depths[n].depth)}</span>
            </a>
          ))}
        </nav>
        <p class="muted">{QUEUE_WORDS[name]}</p>
        {q.done ? (
          <div class="note ok" role="status" id="dlq-done">
            {q.done}
          </div>
        ) : null}
        <form method="get" action={`/dlq/${name}`} class="toolbar" role="search">
          <Field name="reason" label="Reason contains" errors={errors}>
            <Input name="reason" value={filters.reason} errors={errors} search />
          </Field>
          <Field name="host" label="Host (exact)" errors={errors}>
            <Input name="host" value={filters.host} errors={errors} />
          </Field>
          <Field name="since" label="Failed since (UTC)" errors={errors}>
            <Input name="since" value={filters.since} errors={errors} />
          </Field>
          <button type="submit">Filter</button>
        </form>
        {r ? (
          <form method="post" action={`/dlq/${name}/confirm`}>
            <Csrf c={c} />
            {Object.entries(filters).map(([k, v]) => (
              <input type="hidden" name={k} value={v} />
            ))}
            <div class="toolbar">
              <span>
                <strong id="dlq-matched">{num(r.matched)}</strong> of {num(r.total)} items match
                {Object.keys(r.by_code).length > 0
                  ? ` (${Object.entries(r.by_code)
                      .map(([k, n]) => `${k}: ${num(n)}`)
                      .join(', ')})`
                  : ''}
              </span>
              <button type="submit" name="action" value="replay" class="primary">
                Replay selected…
              </button>
              <button type="submit" name="action" value="purge" class="danger">
                Purge selected…
              </button>
              <button type="submit" name="action" value="replay-all">
                Replay all {num(r.matched)} matching…
              </button>
              <button type="submit" name="action" value="purge-all" class="danger">
                Purge all {num(r.matched)} matching…
              </button>
            </div>
            {r.items.length === 0 ? (
              <p class="nodata">
                This queue is empty{Object.keys(filters).length > 0 ? ' for these filters' : ''}.
              </p>
            ) : null}
            {r.items.length > 0 ? (
              <div class="table-wrap">
                <table id="dlq-table">
                  <thead>
                    <tr>
                      <th scope="col">
                        <label class="skip" for="select-all">
                          Select all
                        </label>
                        <input type="checkbox" id="select-all" data-select-all="ids" />
                      </th>
                      <th scope="col">failed</th>
                      <th scope="col">host</th>
                      <th scope="col">reason</th>
                      <th scope="col" class="num">
                        attempts
                      </th>
                      <th scope="col" class="num">
                        replays
                      </th>
                      <th scope="col">item</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.items.map((i) => (
                      <tr>
                        <td>
                          <label class="skip" for={`i-${i.id}`}>
                            Select item {i.id}
                          </label>
                          <input type="checkbox" id={`i-${i.id}`} name="ids" value={i.id} />
                        </td>
                        <td>
                          <Time iso={i.failed_at} />
                        </td>
                        <td>{i.hostname ?? '—'}</td>
                        <td class="msg">
                          {i.code ? <span class="badge">{i.code}</span> : null}{' '}
                          <Trunc text={i.reason ?? ''} max={160} />
                        </td>
                        <td class="num">{attempts(i)}</td>
                        <td class="num">{i.replay_count}</td>
                        <td class="msg">
                          <details class="more">
                            <summary>{i.correlation_id ?? i.id}</summary>
                            <pre>{JSON.stringify(i.item, null, 2).slice(0, 65536)}</pre>
                          </details>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
          </form>
        ) : (
          <ErrorNote err={browse.err} />
        )}
        {r && r.matched > off + r.limit ? (
          <div class="pager">
            {off > 0 ? (
              <a href={`/dlq/${name}${qs({ ...filters, offset: Math.max(0, off - r.limit) })}`}>← Newer</a>
            ) : null}
            <a href={`/dlq/${name}${qs({ ...filters, offset: off + r.limit })}`}>Older →</a>
          </div>
        ) : null}
      </div>,
    );
  });

  /** The confirmation: how many items, going where (a dry run of the same call). */
  ui.post('/dlq/:name/confirm', async (c) => {
    const name = checkDlqName(c.req.param('name'));
    const f = await formOf(c);
    const ids = await formAll(c, 'ids');
    const action = f.action ?? '';
    const all = action.endsWith('-all');
    const replay = action.startsWith('replay');
    const filters = filtersOf(f);
    if (!all && ids.length === 0)
      return c.redirect(
        `/dlq/${name}${qs({ ...filters, done: 'Select the items first (the boxes on the left), or use the “all matching” buttons.' })}`,
        303,
      );
    const selection = all ? { all: true, ...filters } : { ids, ...filters };
    let count: number;
    let where = '';
    if (replay) {
      const dry = await replayDlqItems(d.ctx, name, { ...selection, dry_run: true }, c.get('actor'));
      const would = 'would' in dry ? dry.would : {};
      count = Object.values(would).reduce((a, b) => a + b, 0);
      where = Object.entries(would)
        .map(([to, n]) => `${num(n)} to ${to === 'dead' ? 'the dead-letter list (replays spent)' : to}`)
        .join(', ');
    } else {
      const browse = await browseDlq(d.ctx, name, { ...filters, limit: '1' });
      count = all ? browse.matched : ids.length;
    }
    return page(
      c,
      { title: 'Confirm', active: '/dlq' },
      <div>
        <h1>
          {replay ? 'Replay' : 'Purge'} {num(count)} item{count === 1 ? '' : 's'} of the {name} DLQ?
        </h1>
        <div class={`note ${replay ? 'warn' : 'bad'}`} id="confirm-count">
          {replay
            ? `This replays ${num(count)} item${count === 1 ? '' : 's'}: ${where || 'none'}.`
            : `This deletes ${num(count)} item${count === 1 ? '' : 's'} for good.`}
        </div>
        <form method="post" action={`/dlq/${name}/${replay ? 'replay' : 'purge'}`} class="stack">
          <Csrf c={c} />
          {all ? (
            <input type="hidden" name="all" value="true" />
          ) : (
            ids.map((id) => <input type="hidden" name="ids" value={id} />)
          )}
          {Object.entries(filters).map(([k, v]) => (
            <input type="hidden" name={k} value={v} />
          ))}
          <Field
            name="note"
            label={
              replay
                ? 'Note (why, kept in the audit log)'
                : 'Why are they deleted? (required, kept in the audit log)'
            }
          >
            <Input name="note" />
          </Field>
          {replay ? (
            <label>
              <input type="checkbox" name="force" value="true" /> also replay items whose replays are spent
            </label>
          ) : null}
          <div class="actions">
            <button type="submit" class={replay ? 'primary' : 'danger'}>
              {replay ? 'Replay' : 'Purge'} {num(count)} item{count === 1 ? '' : 's'}
            </button>
            <a href={`/dlq/${name}${qs(filters)}`}>Cancel</a>
          </div>
        </form>
      </div>,
    );
  });

  const act = (kind: 'replay' | 'purge') => async (c: Context<UiEnv>) => {
    const name = checkDlqName(c.req.param('name') ?? '');
    const f = await formOf(c);
    const ids = await formAll(c, 'ids');
    const filters = filtersOf(f);
    const selection = f.all === 'true' ? { all: true, ...filters } : { ids, ...filters };
    try {
      let done: string;
      if (kind === 'replay') {
        const r = await replayDlqItems(
          d.ctx,
          name,
          {
            ...selection,
            ...(f.note ? { note: f.note } : {}),
            ...(f.force === 'true' ? { force: true } : {}),
          },
          c.get('actor'),
        );
        if ('dry_run' in r) throw new Error('unexpected dry run');
        done = `Replayed ${num(r.replayed)} item(s) to ${r.to}${r.dead ? `, ${num(r.dead)} to the dead-letter list` : ''}${r.missing ? `, ${num(r.missing)} already gone` : ''}.`;
      } else {
        const r = await purgeDlqItems(d.ctx, name, { ...selection, note: f.note ?? '' }, c.get('actor'));
        done = `Purged ${num(r.removed)} item(s)${r.missing ? `, ${num(r.missing)} already gone` : ''}.`;
      }
      return c.redirect(`/dlq/${name}${qs({ ...filters, done })}`, 303);
    } catch (err) {
      if (!(err instanceof AdminError) || err.code === 'unavailable') throw err;
      const errors = fieldErrors(err);
      return page(
        c,
        { title: 'Not done', active: '/dlq', status: 400 },
        <div>
          <h1>Nothing was {kind === 'replay' ? 'replayed' : 'purged'}</h1>
          <div class="note bad" role="alert">
            {Object.keys(errors).length > 0
              ? Object.entries(errors).map(([k, m]) => <div>{`${k}: ${m}`}</div>)
              : err.message}
          </div>
          <p>
            <a href={`/dlq/${name}${qs(filters)}`}>Back to the {name} DLQ</a>
          </p>
        </div>,
      );
    }
  };
  ui.post('/dlq/:name/replay', act('replay'));
  ui.post('/dlq/:name/purge', act('purge'));
}
