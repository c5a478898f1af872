// One schema per request: it validates what the API, the UI and the CLI send to the admin services,
// types it, and (through .meta) documents it in the OpenAPI document the API serves. There is no
// second copy of any validation rule: the services parse their input with these, and the HTTP layer
// registers the same objects as its request schemas.
import { z } from 'zod';
import { AdminError, type FieldProblem } from './errors.ts';

// ── shared pieces ────────────────────────────────────────────────────────────────────────────────

/** Handlings MUTT knows (compared case-insensitively); the first three forward to Moogsoft. */
export const HANDLINGS = ['Page_and_ticket', 'Page_only', 'Ticket_only', 'Ignore', 'Log_only'] as const;
export const MATCH_TYPES = ['contains', 'regex', 'oid_prefix'] as const;
export const MAX_PAGE_SIZE = 200;

// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const CONTROL = /[\u0000-\u001f\u007f]/;
const text = (max: number, what = 'text') =>
  z
    .string({ error: `expected ${what}` })
    .max(max, { error: `at most ${max} characters` })
    .refine((s) => !CONTROL.test(s), { error: 'control characters are not allowed' });
const nonEmpty = (max: number, what: string) =>
  text(max, what).refine((s) => s.trim() !== '', { error: 'must not be empty' });

const handling = nonEmpty(100, 'a handling').refine(
  (s) => (HANDLINGS as readonly string[]).some((h) => h.toLowerCase() === s.trim().toLowerCase()),
  { error: `expected one of ${HANDLINGS.join(', ')} (any case)` },
);

/** A dotted numeric OID, with or without the leading dot. */
export const OID_RE = /^\.?[0-9]+(\.[0-9]+)*$/;

const int32 = (what: string) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .min(-2147483648, { error: 'out of range' })
    .max(2147483647, { error: 'out of range' });

const reason = text(1000, 'a reason').optional().meta({
  description: 'Why (kept in config_audit_log.reason).',
  example: 'new core switches',
});

// ── rules ────────────────────────────────────────────────────────────────────────────────────────

const ruleFields = {
  match_string: text(255, 'a string').nullable().optional().meta({
    description:
      'Text (contains) or pattern (regex, RE2 syntax; Python `(?P<name>…)` accepted) matched against the event message, case-insensitively.',
    example: '%LINK-3-UPDOWN',
  }),
  trap_oid: text(255, 'a dotted OID')
    .refine((s) => OID_RE.test(s.trim()), {
      error: 'expected a dotted numeric OID such as 1.3.6.1.6.3.1.1.5',
    })
    .nullable()
    .optional()
    .meta({
      description: 'OID prefix for oid_prefix rules (leading dot optional).',
      example: '1.3.6.1.6.3.1.1.5',
    }),
  syslog_severity: z
    .number({ error: 'expected an integer from 0 to 7' })
    .int({ error: 'expected an integer from 0 to 7' })
    .min(0, { error: 'expected an integer from 0 to 7' })
    .max(7, { error: 'expected an integer from 0 to 7' })
    .nullable()
    .optional()
    .meta({ description: 'Only events of this syslog severity (0–7).' }),
  match_type: z
    .enum(MATCH_TYPES, { error: `expected one of ${MATCH_TYPES.join(', ')}` })
    .optional()
    .meta({ description: 'contains (default), regex or oid_prefix.' }),
  priority: int32('an integer')
    .optional()
    .meta({ description: 'Lower wins (default 100); ties by id.', example: 10 }),
  prod_handling: handling.meta({
    description: `Handling in production: ${HANDLINGS.join(', ')}.`,
    example: 'Page_and_ticket',
  }),
  dev_handling: handling.meta({ description: 'Handling for hosts in development_hosts.', example: 'Ignore' }),
  team_assignment: nonEmpty(100, 'a team name').meta({
    description: 'Team (Moogsoft class) of the alerts.',
    example: 'NETO',
  }),
  is_active: z
    .boolean({ error: 'expected true or false' })
    .optional()
    .meta({ description: 'Inactive rules are kept but not matched (default true).' }),
  name: text(255, 'a name')
    .nullable()
    .optional()
    .meta({ description: 'A short name (MUTT addition).', example: 'interface down' }),
  description: text(4000, 'a description')
    .nullable()
    .optional()
    .meta({ description: 'Free text (MUTT addition).' }),
};

export const RuleCreate = z.strictObject({ ...ruleFields, reason }).meta({
  id: 'RuleCreate',
  description: "Python MUTT 2.5's create body, plus name, description and reason.",
});
export type RuleCreate = z.infer<typeof RuleCreate>;

export const RuleUpdate = z
  .strictObject({
    ...ruleFields,
    prod_handling: ruleFields.prod_handling.optional(),
    dev_handling: ruleFields.dev_handling.optional(),
    team_assignment: ruleFields.team_assignment.optional(),
    reason,
    // A rule read with GET and sent back whole: its read-only fields are accepted and ignored.
    id: z
      .number({ error: 'expected the id of the rule in the path' })
      .int()
      .optional()
      .meta({ description: 'Read-only; accepted when it is the id in the path.' }),
    created_at: z.string().nullable().optional().meta({ description: 'Read-only; ignored.' }),
    updated_at: z.string().nullable().optional().meta({ description: 'Read-only; ignored.' }),
  })
  .meta({
    id: 'RuleUpdate',
    description: 'Any subset of the rule fields (as Python MUTT 2.5), plus reason.',
  });
export type RuleUpdate = z.infer<typeof RuleUpdate>;

export const Rule = z
  .object({
    id: z.number().int(),
    match_string: z.string().nullable(),
    trap_oid: z.string().nullable(),
    syslog_severity: z.number().int().nullable(),
    match_type: z.string(),
    priority: z.number().int(),
    prod_handling: z.string(),
    dev_handling: z.string(),
    team_assignment: z.string(),
    is_active: z.boolean(),
    name: z.string().nullable(),
    description: z.string().nullable(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .meta({ id: 'Rule' });
export type Rule = z.infer<typeof Rule>;

export const IdParam = z
  .string()
  .regex(/^[0-9]{1,9}$/, { error: 'expected a positive integer id' })
  .meta({ param: { name: 'id', in: 'path' }, example: '12' });

// ── development hosts and teams ──────────────────────────────────────────────────────────────────

const hostname = nonEmpty(255, 'a host name').meta({
  description: 'Host name as events carry it (stored literally).',
  example: 'lab-sw1',
});

export const DevHostCreate = z.strictObject({ hostname, reason }).meta({ id: 'DevHostCreate' });
export type DevHostCreate = z.infer<typeof DevHostCreate>;

export const TeamCreate = z
  .strictObject({ hostname, team_assignment: ruleFields.team_assignment, reason })
  .meta({ id: 'TeamCreate' });
export type TeamCreate = z.infer<typeof TeamCreate>;

export const TeamUpdate = z
  .strictObject({ team_assignment: ruleFields.team_assignment, reason })
  .meta({ id: 'TeamUpdate' });
export type TeamUpdate = z.infer<typeof TeamUpdate>;

export const ReasonBody = z.strictObject({ reason }).meta({ id: 'ReasonBody' });

// ── queries ──────────────────────────────────────────────────────────────────────────────────────

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;
const isoDate = (what: string) =>
  z
    .string()
    .refine((s) => ISO_DATE.test(s) && !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)), {
      error: `expected an ISO 8601 date or time (2026-11-24 or 2026-11-24T12:00:00Z) ${what}`,
    })
    .transform((s) => {
      // A date alone, or a time without a zone, is UTC.
      const t = s.length === 10 ? `${s}T00:00:00Z` : /([Zz]|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`;
      return new Date(Date.parse(t.replace(' ', 'T')));
    })
    .optional();

/** An upper bound: a date alone covers that whole day (exclusive next midnight). */
const isoEnd = z
  .string()
  .refine((s) => ISO_DATE.test(s) && !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)), {
    error: 'expected an ISO 8601 date or time (2026-11-24 or 2026-11-24T12:00:00Z)',
  })
  .transform((s) => {
    if (s.length === 10) return { at: new Date(Date.parse(`${s}T00:00:00Z`) + 86_400_000), exclusive: true };
    const t = /([Zz]|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`;
    return { at: new Date(Date.parse(t.replace(' ', 'T'))), exclusive: false };
  })
  .optional();

const page = z
  .string()
  .regex(/^[0-9]+$/, { error: 'expected a positive integer' })
  .transform(Number)
  .refine((n) => n >= 1, { error: 'pages start at 1' })
  .optional()
  .meta({ description: 'Page number, from 1 (offset paging).', example: '1' });
const limit = z
  .string()
  .regex(/^[0-9]+$/, { error: 'expected a positive integer' })
  .transform(Number)
  .refine((n) => n >= 1, { error: 'expected at least 1' })
  .transform((n) => Math.min(n, MAX_PAGE_SIZE))
  .optional()
  .meta({
    description: `Rows per page (default AUDIT_LOG_PAGE_SIZE, 50; larger values are clamped to ${MAX_PAGE_SIZE}).`,
    example: '50',
  });
const intParam = z
  .string()
  .regex(/^[0-9]{1,9}$/, { error: 'expected a positive integer' })
  .transform(Number)
  .optional();
const boolParam = z
  .enum(['true', 'false', '1', '0'], { error: 'expected true or false' })
  .transform((s) => s === 'true' || s === '1')
  .optional();

export const AuditQuery = z
  .strictObject({
    page,
    limit,
    hostname: text(255).optional().meta({ description: 'Exact host name.' }),
    rule_id: intParam.meta({ description: 'Matched rule id.' }),
    start_date: isoDate('(inclusive)').meta({
      description: 'From this instant (ISO 8601; a date alone is UTC midnight).',
    }),
    end_date: isoEnd.meta({
      description: 'Up to this instant, inclusive (a date alone means the whole of that day).',
    }),
    handling: text(100).optional().meta({ description: 'handling_decision, case-insensitive.' }),
    forwarded: boolParam.meta({ description: 'forwarded_to_moog.' }),
    team: text(100)
      .optional()
      .meta({ description: 'Team of the matched rule (alert_rules.team_assignment).' }),
    correlation_id: text(128).optional().meta({
      description:
        "The event's _correlation_id (searched in raw_message: give a date range on large tables).",
    }),
    cursor: text(200)
      .optional()
      .meta({ description: 'Keyset paging: next_cursor of the previous page (page is then ignored).' }),
    api_key: z
      .string()
      .optional()
      .meta({ description: 'The API key (browser convenience; prefer the X-API-KEY header).' }),
  })
  .meta({ id: 'AuditQuery' });
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditExportQuery = z
  .strictObject({
    format: z
      .enum(['ndjson', 'csv'], { error: 'expected ndjson or csv' })
      .optional()
      .meta({ description: 'ndjson (default) or csv.' }),
    hostname: AuditQuery.shape.hostname,
    rule_id: AuditQuery.shape.rule_id,
    start_date: AuditQuery.shape.start_date,
    end_date: AuditQuery.shape.end_date,
    handling: AuditQuery.shape.handling,
    forwarded: AuditQuery.shape.forwarded,
    team: AuditQuery.shape.team,
    correlation_id: AuditQuery.shape.correlation_id,
    api_key: AuditQuery.shape.api_key,
  })
  .meta({ id: 'AuditExportQuery' });
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;

export const ConfigAuditQuery = z
  .strictObject({
    page,
    limit,
    changed_by: text(100).optional().meta({ description: 'Who (exact, or a suffix of it).' }),
    table_name: text(50)
      .optional()
      .meta({ description: 'alert_rules, development_hosts, device_teams, dynamic_config, dlq.' }),
    record_id: intParam.meta({ description: 'Row id (rules) or record number.' }),
    operation: z
      .string()
      .transform((s) => s.toUpperCase())
      .refine((s) => ['CREATE', 'UPDATE', 'DELETE'].includes(s), {
        error: 'expected CREATE, UPDATE or DELETE',
      })
      .optional(),
    start_date: isoDate('(inclusive)'),
    end_date: isoEnd,
    api_key: AuditQuery.shape.api_key,
  })
  .meta({ id: 'ConfigAuditQuery' });
export type ConfigAuditQuery = z.infer<typeof ConfigAuditQuery>;

// ── dynamic configuration ────────────────────────────────────────────────────────────────────────

export const ConfigSet = z
  .strictObject({
    value: z
      .union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' })
      .meta({ example: '50' }),
    reason,
  })
  .meta({ id: 'ConfigSet', description: "Python MUTT 2.5's body: the new value and why." });
export type ConfigSet = z.infer<typeof ConfigSet>;

// ── dead-letter queues ───────────────────────────────────────────────────────────────────────────

export const DLQ_QUEUES = ['moog', 'alerter', 'dead'] as const;
export const DlqName = z
  .enum(DLQ_QUEUES, { error: 'expected moog, alerter or dead' })
  .meta({ param: { name: 'name', in: 'path' } });

const dlqFilterFields = {
  reason: text(200)
    .optional()
    .meta({ description: 'Reason or reason code contains this (case-insensitive).' }),
  host: text(255).optional().meta({ description: 'Exact host name.' }),
  since: isoDate('').meta({ description: 'Failed at or after this instant.' }),
};

export const DlqBrowseQuery = z
  .strictObject({
    offset: z
      .string()
      .regex(/^[0-9]{1,9}$/, { error: 'expected a non-negative integer' })
      .transform(Number)
      .optional(),
    limit,
    ...dlqFilterFields,
    api_key: AuditQuery.shape.api_key,
  })
  .meta({ id: 'DlqBrowseQuery' });
export type DlqBrowseQuery = z.infer<typeof DlqBrowseQuery>;

const dlqSelection = {
  ids: z
    .array(
      z
        .string()
        .regex(/^[0-9a-f]{16}$/, { error: 'expected an item id (16 hex digits) from the browse list' }),
    )
    .max(10_000)
    .optional()
    .meta({ description: 'Items to act on (their `id` from the browse list).' }),
  all: z.boolean().optional().meta({ description: 'Act on every item (that matches the filters).' }),
  reason: z
    .string()
    .max(200)
    .optional()
    .meta({ description: 'Only items whose reason or code contains this.' }),
  host: z.string().max(255).optional().meta({ description: 'Only items for this host.' }),
  since: z
    .string()
    .optional()
    .meta({ description: 'Only items that failed at or after this ISO 8601 instant.' }),
  limit: z.number().int().min(1).optional().meta({ description: 'At most this many items (oldest first).' }),
};

export const DlqReplay = z
  .strictObject({
    ...dlqSelection,
    force: z
      .boolean()
      .optional()
      .meta({ description: 'Replay even items whose replay budget (MAX_POISON_RETRIES) is spent.' }),
    dry_run: z.boolean().optional().meta({ description: 'Only say where the items would go.' }),
    note: text(1000).optional().meta({ description: 'Why (audited).' }),
  })
  .meta({ id: 'DlqReplay', description: 'Either `ids` or `all: true`; reason/host/since filter the items.' });
export type DlqReplay = z.infer<typeof DlqReplay>;

export const DlqPurge = z
  .strictObject({
    ...dlqSelection,
    note: nonEmpty(1000, 'a reason').meta({ description: 'Why the items are deleted (required, audited).' }),
  })
  .meta({ id: 'DlqPurge', description: 'Either `ids` or `all: true`, and a `note` saying why.' });
export type DlqPurge = z.infer<typeof DlqPurge>;

// ── rule tester ──────────────────────────────────────────────────────────────────────────────────

export const RuleTest = z
  .strictObject({
    rule: RuleUpdate.optional().meta({
      description: 'The draft: a new rule, or the changed fields of rule_id.',
    }),
    rule_id: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: 'Existing rule the draft changes (or deletes).' }),
    delete: z.boolean().optional().meta({ description: 'Test the rule set without rule_id.' }),
    mode: z.enum(['ruleset', 'alone']).optional().meta({
      description:
        'ruleset (default): the current active rules with the draft change; alone: the draft rule by itself.',
    }),
    events: z
      .number()
      .int()
      .min(1)
      .max(5000)
      .optional()
      .meta({ description: 'How many recent events to test (default 500, at most 5000).' }),
    sample: z
      .number()
      .int()
      .min(0)
      .max(100)
      .optional()
      .meta({ description: 'Changed decisions to show (default 20).' }),
  })
  .meta({ id: 'RuleTest' });
export type RuleTest = z.infer<typeof RuleTest>;

// ── parsing ──────────────────────────────────────────────────────────────────────────────────────

/** Whether `path` leads to a value in `input` (a missing field is "required", not "wrong type"). */
function present(input: unknown, path: readonly PropertyKey[]): boolean {
  let v: unknown = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return false;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v !== undefined;
}

/** zod issues as field problems: `{field: 'priority', message: 'expected an integer'}`. */
export function problemsOf(error: z.ZodError, prefix = '', input?: unknown): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const i of error.issues) {
    const at = [prefix, ...i.path.map(String)].filter((s) => s !== '').join('.');
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push({ field: at ? `${at}.${k}` : k, message: 'unknown field' });
      continue;
    }
    if (i.code === 'invalid_type' && !present(input, i.path)) {
      out.push({ field: at || 'body', message: 'required' });
      continue;
    }
    out.push({ field: at || 'body', message: i.message });
  }
  return out;
}

/** Parses input with a schema, or throws an `invalid` AdminError naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const fields = problemsOf(r.error, prefix, input);
  throw new AdminError('invalid', fields.map((f) => `${f.field}: ${f.message}`).join('; '), { fields });
}
