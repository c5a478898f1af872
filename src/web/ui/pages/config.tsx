/** @jsxImportSource hono/jsx */
// Dynamic configuration: every key with its value in effect, where it comes from, the allowed range
// and its meaning; a change with a reason (checked by the validator the services read it with,
// announced to every node, audited); a reset to the static variable; and each key's history.
import type { Context, Hono } from 'hono';
import { queryConfigAudit } from '../../../core/admin/audit.ts';
import {
  configRecordId,
  type DynamicEntry,
  listDynamicConfig,
  setDynamicConfig,
  unsetDynamicConfig,
} from '../../../core/admin/config.ts';
import { AdminError } from '../../../core/admin/errors.ts';
import type { UiDeps, UiEnv } from '../env.ts';
import { formOf } from '../forms.ts';
import { Csrf, fieldErrors, page, qs } from '../layout.tsx';
import { ChangeTable } from '../history.tsx';

interface Props {
  c: Context<UiEnv>;
  entries: DynamicEntry[];
  edit?: { key: string; value: string; reason: string; errors: Record<string, string> };
  done?: string;
  history: Awaited<ReturnType<typeof queryConfigAudit>> | undefined;
  historyKey?: string;
}

function ConfigPage(p: Props) {
  return (
    <div>
      <h1>Configuration</h1>
      <p class="muted">
        Dynamic settings live in Redis (<code>mutt:config:*</code>): a change reaches every MUTT and Python
        2.5 node at once, without a restart. A key with no value uses its static variable.
      </p>
      {p.done ? (
        <div class="note ok" role="status">
          {p.done}
        </div>
      ) : null}
      <div class="table-wrap">
        <table id="config-table">
          <thead>
            <tr>
              <th scope="col">key</th>
              <th scope="col">value in effect</th>
              <th scope="col">allowed</th>
              <th scope="col">meaning</th>
              <th scope="col">change (with a reason)</th>
            </tr>
          </thead>
          <tbody>
            {p.entries.map((e) => {
              const editing = p.edit?.key === e.key ? p.edit : undefined;
              const err = editing?.errors.value ?? editing?.errors.key;
              return (
                <tr id={`key-${e.key}`}>
                  <th scope="row" class="mono">
                    {e.key}
                  </th>
                  <td>
                    <strong class="mono">{e.value}</strong>
                    <div class="muted">
                      {e.source === 'redis' ? (
                        'set in Redis'
                      ) : e.source === 'static' ? (
                        `static (${e.variable})`
                      ) : (
                        <span class="badge bad">invalid in Redis ({e.stored}), static used</span>
                      )}
                    </div>
                  </td>
                  <td>{e.expected}</td>
                  <td>{e.doc}</td>
                  <td>
                    <form
                      method="post"
                      action={`/config/${e.key}`}
                      class={err ? 'field invalid' : 'field'}
                      novalidate
                    >
                      <Csrf c={p.c} />
                      <div class="actions">
                        <label class="skip" for={`v-${e.key}`}>
                          New value of {e.key}
                        </label>
                        <input
                          id={`v-${e.key}`}
                          name="value"
                          value={editing ? editing.value : e.value}
                          size={10}
                          aria-invalid={err ? 'true' : undefined}
                          aria-describedby={err ? `err-${e.key}` : undefined}
                        />
                        <label class="skip" for={`r-${e.key}`}>
                          Reason
                        </label>
                        <input
                          id={`r-${e.key}`}
                          name="reason"
                          value={editing?.reason ?? ''}
                          placeholder="reason"
                          size={18}
                        />
                        <button type="submit">Set</button>
                        {e.source !== 'static' ? (
                          <button type="submit" formaction={`/config/${e.key}/reset`} class="link">
                            reset to static
                          </button>
                        ) : null}
                        <a href={`/config${qs({ history: e.key })}#history`}>history</a>
                      </div>
                      {err ? (
                        <div class="error" id={`err-${e.key}`} role="alert">
                          {err}
                        </div>
                      ) : null}
                    </form>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h2 id="history">{p.historyKey ? `History of ${p.historyKey}` : 'Recent changes'}</h2>
      {p.history && p.history.changes.length === 0 ? <p class="nodata">No change recorded.</p> : null}
      {p.history && p.history.changes.length > 0 ? <ChangeTable changes={p.history.changes} /> : null}
      {!p.history ? <p class="nodata">The history needs PostgreSQL, which is not answering.</p> : null}
    </div>
  );
}

export function registerConfig(ui: Hono<UiEnv>, d: UiDeps): void {
  const render = async (c: Context<UiEnv>, extra: Partial<Props> & { status?: number } = {}) => {
    const key = c.req.query('history');
    const [entries, history] = await Promise.all([
      listDynamicConfig(d.ctx),
      queryConfigAudit(
        d.ctx,
        { limit: '50', ...(key ? { record_id: String(configRecordId(key)) } : {}) },
        'dynamic_config',
      ).catch(() => undefined),
    ]);
    return page(
      c,
      { title: 'Configuration', active: '/config', status: extra.status },
      <ConfigPage c={c} entries={entries} history={history} historyKey={key} {...extra} />,
    );
  };
  ui.get('/config', (c) => render(c, { done: c.req.query('done') }));
  ui.post('/config/:key', async (c) => {
    const key = c.req.param('key');
    const f = await formOf(c);
    try {
      const r = await setDynamicConfig(
        d.ctx,
        key,
        { value: f.value ?? '', ...(f.reason ? { reason: f.reason } : {}) },
        c.get('actor'),
      );
      return c.redirect(
        `/config${qs({ done: `${r.key} = ${r.new_value ?? ''} (was ${r.old_value ?? 'static'})${r.audited ? '' : '; not audited: PostgreSQL unreachable, the log has it'}` })}#key-${r.key}`,
        303,
      );
    } catch (err) {
      if (!(err instanceof AdminError) || err.code === 'unavailable') throw err;
      return render(c, {
        edit: { key, value: f.value ?? '', reason: f.reason ?? '', errors: fieldErrors(err) },
        status: err.code === 'not_found' ? 404 : 400,
      });
    }
  });
  ui.post('/config/:key/reset', async (c) => {
    const f = await formOf(c);
    const r = await unsetDynamicConfig(d.ctx, c.req.param('key'), {
      ...c.get('actor'),
      ...(f.reason ? { reason: f.reason } : {}),
    });
    return c.redirect(
      `/config${qs({ done: `${r.key} reset to its static value (was ${r.old_value ?? 'static'})` })}#key-${r.key}`,
      303,
    );
  });
}
