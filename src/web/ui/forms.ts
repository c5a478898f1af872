// Form posts → the admin services' inputs. HTML forms send strings; the services' schemas expect
// numbers, booleans and nulls. This only converts types (an empty field is "not given", digits are a
// number); it never decides what is valid — text that is not a number stays text, so the schema
// refuses it with its own message, which the page shows under the field.
import { RULE_FIELDS } from '../../core/admin/rules.ts';
import type { Context } from 'hono';

export type FormBody = Record<string, string>;

/** The posted form, as strings (repeated names joined as arrays where asked for). */
export async function formOf(c: Context): Promise<FormBody> {
  const b = await c.req.parseBody();
  const out: FormBody = {};
  for (const [k, v] of Object.entries(b)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Every value of a repeated field (checkboxes). */
export async function formAll(c: Context, name: string): Promise<string[]> {
  const b = await c.req.parseBody({ all: true });
  const v = b[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

const asInt = (s: string): number | string => (/^-?\d{1,10}$/.test(s.trim()) ? Number(s.trim()) : s);

export { RULE_FIELDS };

/** A rule form as RuleCreate / RuleUpdate input. */
export function ruleInput(f: FormBody): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const nullable = (k: string) => {
    if (f[k] === undefined) return;
    out[k] = f[k] === '' ? null : f[k];
  };
  nullable('name');
  nullable('match_string');
  nullable('trap_oid');
  nullable('description');
  if (f.match_type) out.match_type = f.match_type;
  if (f.syslog_severity !== undefined)
    out.syslog_severity = f.syslog_severity === '' ? null : asInt(f.syslog_severity);
  if (f.priority !== undefined && f.priority !== '') out.priority = asInt(f.priority);
  for (const k of ['prod_handling', 'dev_handling', 'team_assignment'] as const)
    if (f[k] !== undefined) out[k] = f[k];
  if (f.is_active !== undefined && f.is_active !== '')
    out.is_active = f.is_active === 'true' ? true : f.is_active === 'false' ? false : f.is_active;
  if (f.reason) out.reason = f.reason;
  return out;
}

/** The values to put back in a rule form (what the operator typed). */
export function ruleValues(f: FormBody): Record<string, string> {
  const v: Record<string, string> = {};
  for (const k of [...RULE_FIELDS, 'reason']) if (f[k] !== undefined) v[k] = f[k];
  return v;
}
