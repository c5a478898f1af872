/** @jsxImportSource hono/jsx */
// The page shell and the small components every page uses. Everything is rendered by hono/jsx,
// which escapes every text and attribute value: nothing here builds HTML from strings, so a host
// name like `<img src=x onerror=alert(1)>` is shown as those characters and runs nothing.
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { Child } from 'hono/jsx';
import { AdminError } from '../../core/admin/errors.ts';
import { VERSION } from '../../runtime/version.ts';
import { ASSETS } from './assets.ts';
import type { UiEnv } from './env.ts';

export const NAV = [
  ['/', 'Dashboard'],
  ['/rules', 'Rules'],
  ['/tester', 'Rule tester'],
  ['/hosts', 'Dev hosts'],
  ['/teams', 'Teams'],
  ['/audit', 'Audit'],
  ['/tail', 'Live tail'],
  ['/config', 'Config'],
  ['/dlq', 'DLQ'],
] as const;

export interface PageOptions {
  title: string;
  /** The navigation entry to mark current. */
  active?: string;
  /** Charts on the page: load uPlot. */
  charts?: boolean;
  /** The page could not load its data: reload it when the stores answer again. */
  reloadWhenHealthy?: boolean;
  status?: number;
}

/** Renders a full page (the shell around `body`). */
export function page(c: Context<UiEnv>, o: PageOptions, body: Child): Response | Promise<Response> {
  const session = c.get('session');
  const node = c.get('node');
  const doc = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        {session ? <meta name="csrf-token" content={c.get('csrf')} /> : null}
        <meta
          name="htmx-config"
          content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,"historyCacheSize":0}'
        />
        <title>{`${o.title} · MUTT`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={ASSETS.css.path} />
        {o.charts ? <link rel="stylesheet" href={ASSETS.uplotCss.path} /> : null}
        <script src={ASSETS.htmx.path} defer></script>
        {o.charts ? <script src={ASSETS.uplotJs.path} defer></script> : null}
        <script src={ASSETS.js.path} defer></script>
      </head>
      <body data-reload-when-healthy={o.reloadWhenHealthy ? 'true' : undefined}>
        <a class="skip" href="#content">
          Skip to content
        </a>
        {session ? (
          <header class="top">
            <a class="brand" href="/">
              MUTT
            </a>
            <nav class="main" aria-label="Main">
              {NAV.map(([href, label]) => (
                <a href={href} aria-current={o.active === href ? 'page' : undefined}>
                  {label}
                </a>
              ))}
            </nav>
            <span class="node" title="this node: pod, version, roles">
              {node.pod} · v{VERSION} · {node.roles.join(', ')}
            </span>
            <form method="post" action="/logout">
              <input type="hidden" name="_csrf" value={c.get('csrf')} />
              <button type="submit">Sign out</button>
            </form>
          </header>
        ) : null}
        <div id="live-banner" role="status" aria-live="polite"></div>
        <main id="content">{body}</main>
      </body>
    </html>
  );
  return c.html(html`<!DOCTYPE html>${doc}`, (o.status ?? 200) as 200);
}

/** The hidden CSRF field of a form. */
export const Csrf = ({ c }: { c: Context<UiEnv> }) => (
  <input type="hidden" name="_csrf" value={c.get('csrf')} />
);

/** An ISO time shown relative in the browser, absolute on hover (and without script). */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  const text = iso.replace('T', ' ').replace(/(\.\d{3})\d*Z$/, '$1 UTC');
  return (
    <time datetime={iso} data-rel="1" title={text}>
      {text}
    </time>
  );
}

/** Long text cut to `max` characters, with a "show all" control that reveals the rest (up to `cap`). */
export function Trunc({ text, max = 300, cap = 65536 }: { text: string; max?: number; cap?: number }) {
  if (text.length <= max) return <span>{text}</span>;
  const shown = text.slice(0, cap);
  return (
    <span>
      <span>{text.slice(0, max)}…</span>
      <details class="more">
        <summary>show all ({text.length.toLocaleString('en')} characters)</summary>
        <pre>{shown}</pre>
        {text.length > cap ? (
          <p class="muted">first {cap.toLocaleString('en')} characters shown; the export has the rest</p>
        ) : null}
      </details>
    </span>
  );
}

export interface FieldProps {
  name: string;
  label: string;
  hint?: Child;
  errors?: Record<string, string>;
  children: Child;
}

/** A labelled field with its hint and, when the server refused it, its error right under it. */
export function Field({ name, label, hint, errors, children }: FieldProps) {
  const error = errors?.[name];
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={`f-${name}`}>{label}</label>
      {children}
      {error ? (
        <div class="error" id={`e-${name}`} role="alert">
          {error}
        </div>
      ) : null}
      {hint ? <div class="hint">{hint}</div> : null}
    </div>
  );
}

/** An input wired to its Field (id, name, value, aria-invalid). */
export function Input(p: {
  name: string;
  value?: string | number | null;
  errors?: Record<string, string>;
  type?: string;
  placeholder?: string;
  size?: number;
  required?: boolean;
  list?: string;
  autofocus?: boolean;
  search?: boolean;
  autocomplete?: string;
}) {
  const bad = p.errors?.[p.name] !== undefined;
  return (
    <input
      id={`f-${p.name}`}
      name={p.name}
      type={p.type ?? 'text'}
      value={p.value === null || p.value === undefined ? '' : String(p.value)}
      placeholder={p.placeholder}
      size={p.size}
      list={p.list}
      autofocus={p.autofocus}
      autocomplete={p.autocomplete}
      data-search={p.search ? '1' : undefined}
      aria-invalid={bad ? 'true' : undefined}
      aria-describedby={bad ? `e-${p.name}` : undefined}
    />
  );
}

export function Select(p: {
  name: string;
  value?: string | null;
  options: readonly (string | readonly [string, string])[];
  errors?: Record<string, string>;
}) {
  const bad = p.errors?.[p.name] !== undefined;
  return (
    <select
      id={`f-${p.name}`}
      name={p.name}
      aria-invalid={bad ? 'true' : undefined}
      aria-describedby={bad ? `e-${p.name}` : undefined}
    >
      {p.options.map((o) => {
        const [v, label] = typeof o === 'string' ? [o, o === '' ? '—' : o] : o;
        return (
          <option value={v} selected={(p.value ?? '') === v}>
            {label}
          </option>
        );
      })}
    </select>
  );
}

/** A number with thousands separators. */
export const num = (n: number): string => n.toLocaleString('en');

/** Field errors of an AdminError, by field name (`rule.priority` → `priority`). */
export function fieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (err instanceof AdminError)
    for (const f of err.fields) {
      const k = f.field.replace(/^rule\./, '');
      out[k] = out[k] ? `${out[k]}; ${f.message}` : f.message;
    }
  return out;
}

/** A note saying what went wrong, for errors that are not about one field. */
export function ErrorNote({ err }: { err: unknown }) {
  if (err === undefined || err === null) return null;
  const unavailable = err instanceof AdminError && err.code === 'unavailable';
  return (
    <div class="note bad" role="alert">
      {err instanceof AdminError ? err.message : 'Something went wrong (the log has the details).'}
      {unavailable ? ' — this page reloads by itself when it is back.' : null}
    </div>
  );
}

/** `?a=1&b=2` from the non-empty entries of a record. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** Seconds as "42 s", "3 min", "2 h 5 min", "4 d". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.round(s / 86400)} d`;
}
