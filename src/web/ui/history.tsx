/** @jsxImportSource hono/jsx */
// A configuration change history (config_audit_log rows): when, who, what, each field old → new, and
// why. The rule history and the dynamic configuration's history show it alike.
import type { ConfigChange } from '../../core/admin/audit.ts';
import { Time } from './layout.tsx';

/** A config_audit_log change as field: old → new (only the fields that differ). */
export function Changes({ old, now }: { old: unknown; now: unknown }) {
  const o = (old ?? {}) as Record<string, unknown>;
  const n = (now ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(o), ...Object.keys(n)])].filter(
    (k) => JSON.stringify(o[k]) !== JSON.stringify(n[k]),
  );
  const show = (v: unknown) =>
    v === undefined ? '(none)' : v === null ? '(empty)' : typeof v === 'string' ? v : JSON.stringify(v);
  if (keys.length === 0) return <span class="muted">no field changed</span>;
  return (
    <ul class="diff">
      {keys.map((k) => (
        <li>
          {k}: {old ? <del>{show(o[k])}</del> : null}
          {old && now ? ' → ' : null}
          {now ? <ins>{show(n[k])}</ins> : null}
        </li>
      ))}
    </ul>
  );
}

export function ChangeTable({ changes, id }: { changes: ConfigChange[]; id?: string }) {
  return (
    <div class="table-wrap">
      <table id={id}>
        <thead>
          <tr>
            <th scope="col">when</th>
            <th scope="col">who</th>
            <th scope="col">what</th>
            <th scope="col">changes (old → new)</th>
            <th scope="col">reason</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((ch) => (
            <tr>
              <td>
                <Time iso={ch.changed_at} />
              </td>
              <td class="mono">{ch.changed_by}</td>
              <td>{ch.operation}</td>
              <td>
                <Changes old={ch.old_values} now={ch.new_values} />
              </td>
              <td>{ch.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
