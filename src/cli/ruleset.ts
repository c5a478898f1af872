// Rule, development-host and team sets as files (`mutt rules|hosts|teams export|import`), so they can
// live in git: YAML or JSON (JSON is read by the same YAML 1.2 parser), one document with a list:
//
//   rules:                       hosts:              teams:
//     - id: 7                      - core-rtr-01       - hostname: core-rtr-01
//       match_string: LINK-3         - lab-sw-02          team_assignment: NETO
//       priority: 10 …
//
// Every entry is validated with the admin services' own schemas before anything is written, and every
// bad entry is reported with its line; the diff against what is stored says what an import would do.
// Which stored rule an entry is: its `id` when it has one (as `export` writes it), else the rule with
// the same match (match_type, match_string, trap_oid, syslog_severity).
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { AdminError } from '../core/admin/errors.ts';
import { ruleProblems } from '../core/admin/rules.ts';
import { parseInput, type Rule, RuleCreate, TeamCreate, DevHostCreate } from '../core/admin/schemas.ts';
import type { DevHost, Team } from '../core/admin/hosts.ts';

/** The rule fields a file holds (the stored row without timestamps). */
export const RULE_FIELDS = [
  'match_string',
  'trap_oid',
  'syslog_severity',
  'match_type',
  'priority',
  'prod_handling',
  'dev_handling',
  'team_assignment',
  'is_active',
  'name',
  'description',
] as const;
export type RuleFields = Pick<Rule, (typeof RULE_FIELDS)[number]>;

export interface FileEntry<T> {
  /** 1-based line of the entry in the file. */
  line: number;
  /** 0-based position in the list. */
  index: number;
  value: T;
}

export interface BadEntry {
  line: number;
  index: number;
  message: string;
}

export class RuleFileError extends Error {
  readonly bad: readonly BadEntry[];
  constructor(file: string, bad: BadEntry[]) {
    super(
      `${file}: ${bad.length} bad entr${bad.length === 1 ? 'y' : 'ies'}, nothing imported:\n` +
        bad.map((b) => `${file}:${b.line}: entry ${b.index + 1}: ${b.message}`).join('\n'),
    );
    this.name = 'RuleFileError';
    this.bad = bad;
  }
}

/** The list under `key` (or a bare list), each item with its line. Throws RuleFileError. */
export function readList(text: string, file: string, key: 'rules' | 'hosts' | 'teams'): FileEntry<unknown>[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RuleFileError(
      file,
      doc.errors.map((e) => ({
        line: e.linePos?.[0]?.line ?? 1,
        index: -1,
        message: `not valid YAML or JSON: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  const top: unknown = doc.contents;
  const seq: unknown = isMap(top) ? top.get(key, true) : top;
  if (!isSeq(seq)) {
    throw new RuleFileError(file, [
      { line: 1, index: -1, message: `expected a list of ${key}, or a document with "${key}:" and a list` },
    ]);
  }
  return seq.items.map((item, index) => {
    const offset = (item as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    return {
      index,
      line: lines.linePos(offset).line,
      value: (item as { toJSON(): unknown } | null)?.toJSON?.() ?? item,
    };
  });
}

const problemText = (err: unknown): string =>
  err instanceof AdminError ? err.message : err instanceof Error ? err.message : String(err);

/** A file rule: its optional id and its fields, with the defaults the services apply. */
export interface FileRule {
  id?: number;
  fields: RuleFields;
}

/** Validates every entry as the admin API validates a create body; all problems, or the rules. */
export function validateRules(entries: FileEntry<unknown>[], file: string): FileEntry<FileRule>[] {
  const bad: BadEntry[] = [];
  const good: FileEntry<FileRule>[] = [];
  const ids = new Map<number, number>();
  for (const e of entries) {
    if (typeof e.value !== 'object' || e.value === null || Array.isArray(e.value)) {
      bad.push({ ...e, message: 'expected a rule (a mapping of fields)' });
      continue;
    }
    const { id, ...body } = e.value as Record<string, unknown>;
    const problems: string[] = [];
    if (id !== undefined && !(typeof id === 'number' && Number.isInteger(id) && id > 0))
      problems.push('id: expected a positive integer (or no id, for a new rule)');
    if (typeof id === 'number') {
      const seen = ids.get(id);
      if (seen !== undefined) problems.push(`id: ${id} is also the id of entry ${seen + 1}`);
      else ids.set(id, e.index);
    }
    try {
      const b = parseInput(RuleCreate, body);
      const fields: RuleFields = {
        match_string: b.match_string ?? null,
        trap_oid: b.trap_oid?.trim() ?? null,
        syslog_severity: b.syslog_severity ?? null,
        match_type: b.match_type ?? 'contains',
        priority: b.priority ?? 100,
        prod_handling: b.prod_handling.trim(),
        dev_handling: b.dev_handling.trim(),
        team_assignment: b.team_assignment.trim(),
        is_active: b.is_active ?? true,
        name: b.name ?? null,
        description: b.description ?? null,
      };
      problems.push(...ruleProblems(fields).map((p) => `${p.field}: ${p.message}`));
      if (problems.length === 0)
        good.push({ ...e, value: { id: typeof id === 'number' ? id : undefined, fields } });
    } catch (err) {
      problems.push(problemText(err));
    }
    if (problems.length > 0) bad.push({ line: e.line, index: e.index, message: problems.join('; ') });
  }
  if (bad.length > 0) throw new RuleFileError(file, bad);
  return good;
}

const matchKey = (r: RuleFields) =>
  JSON.stringify([r.match_type, r.match_string ?? '', r.trap_oid ?? '', r.syslog_severity ?? null]);

export interface RuleChange {
  action: 'create' | 'update' | 'unchanged' | 'disable';
  line?: number;
  id?: number;
  fields: RuleFields;
  /** update: field → [stored, file] */
  changes?: Record<string, [unknown, unknown]>;
}

/**
 * What importing `entries` over `stored` does. An id that is not stored is a bad entry (the id of
 * another database); with `prune`, active stored rules that no entry names are disabled.
 */
export function diffRules(
  stored: readonly Rule[],
  entries: FileEntry<FileRule>[],
  file: string,
  o: { prune?: boolean } = {},
): RuleChange[] {
  const byId = new Map(stored.map((r) => [r.id, r]));
  const byMatch = new Map<string, Rule>();
  for (const r of stored) if (!byMatch.has(matchKey(r))) byMatch.set(matchKey(r), r);
  const out: RuleChange[] = [];
  const bad: BadEntry[] = [];
  const named = new Set<number>();
  for (const e of entries) {
    const { id, fields } = e.value;
    let target: Rule | undefined;
    if (id !== undefined) {
      target = byId.get(id);
      if (!target) {
        bad.push({
          line: e.line,
          index: e.index,
          message: `id: no rule ${id} here; remove the id to add it as a new rule`,
        });
        continue;
      }
    } else {
      target = byMatch.get(matchKey(fields));
      if (target && named.has(target.id)) target = undefined;
    }
    if (!target) {
      out.push({ action: 'create', line: e.line, fields });
      continue;
    }
    named.add(target.id);
    const changes: Record<string, [unknown, unknown]> = {};
    for (const k of RULE_FIELDS) if (target[k] !== fields[k]) changes[k] = [target[k], fields[k]];
    out.push({
      action: Object.keys(changes).length > 0 ? 'update' : 'unchanged',
      line: e.line,
      id: target.id,
      fields,
      ...(Object.keys(changes).length > 0 ? { changes } : {}),
    });
  }
  if (bad.length > 0) throw new RuleFileError(file, bad);
  if (o.prune) {
    for (const r of stored) {
      if (!named.has(r.id) && r.is_active) out.push({ action: 'disable', id: r.id, fields: pickFields(r) });
    }
  }
  return out;
}

export function pickFields(r: Rule): RuleFields {
  return Object.fromEntries(RULE_FIELDS.map((k) => [k, r[k]])) as RuleFields;
}

/** One line per rule: `[id] pri type "match" → prod/dev team`. */
export function describeRule(id: number | undefined, r: RuleFields): string {
  const what =
    r.match_type === 'oid_prefix'
      ? `oid_prefix ${r.trap_oid}`
      : `${r.match_type} ${JSON.stringify(r.match_string)}${r.trap_oid ? ` oid ${r.trap_oid}` : ''}`;
  const sev = r.syslog_severity === null ? '' : ` severity ${r.syslog_severity}`;
  return `${id === undefined ? '' : `rule ${id}: `}priority ${r.priority} ${what}${sev} → ${r.prod_handling}/${r.dev_handling} ${r.team_assignment}${r.is_active ? '' : ' (disabled)'}${r.name ? ` "${r.name}"` : ''}`;
}

// ── development hosts and teams ─────────────────────────────────────────────────────────────────

export function validateHosts(entries: FileEntry<unknown>[], file: string): FileEntry<string>[] {
  const bad: BadEntry[] = [];
  const good: FileEntry<string>[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const body = typeof e.value === 'string' ? { hostname: e.value } : e.value;
    try {
      const h = parseInput(DevHostCreate, body).hostname;
      if (seen.has(h)) throw new Error(`hostname: "${h}" is listed twice`);
      seen.add(h);
      good.push({ ...e, value: h });
    } catch (err) {
      bad.push({ line: e.line, index: e.index, message: problemText(err) });
    }
  }
  if (bad.length > 0) throw new RuleFileError(file, bad);
  return good;
}

export function validateTeams(entries: FileEntry<unknown>[], file: string): FileEntry<Team>[] {
  const bad: BadEntry[] = [];
  const good: FileEntry<Team>[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    try {
      const t = parseInput(TeamCreate, e.value);
      if (seen.has(t.hostname)) throw new Error(`hostname: "${t.hostname}" is listed twice`);
      seen.add(t.hostname);
      good.push({ ...e, value: { hostname: t.hostname, team_assignment: t.team_assignment.trim() } });
    } catch (err) {
      bad.push({ line: e.line, index: e.index, message: problemText(err) });
    }
  }
  if (bad.length > 0) throw new RuleFileError(file, bad);
  return good;
}

export interface HostChange {
  action: 'create' | 'unchanged' | 'delete';
  hostname: string;
}

export function diffHosts(
  stored: readonly DevHost[],
  entries: FileEntry<string>[],
  o: { prune?: boolean },
): HostChange[] {
  const have = new Set(stored.map((h) => h.hostname));
  const want = new Set(entries.map((e) => e.value));
  return [
    ...entries.map((e) => ({
      action: have.has(e.value) ? ('unchanged' as const) : ('create' as const),
      hostname: e.value,
    })),
    ...(o.prune
      ? stored
          .filter((h) => !want.has(h.hostname))
          .map((h) => ({ action: 'delete' as const, hostname: h.hostname }))
      : []),
  ];
}

export interface TeamChange {
  action: 'create' | 'update' | 'unchanged' | 'delete';
  hostname: string;
  team_assignment: string;
  before?: string;
}

export function diffTeams(
  stored: readonly Team[],
  entries: FileEntry<Team>[],
  o: { prune?: boolean },
): TeamChange[] {
  const have = new Map(stored.map((t) => [t.hostname, t.team_assignment]));
  const want = new Set(entries.map((e) => e.value.hostname));
  return [
    ...entries.map((e): TeamChange => {
      const before = have.get(e.value.hostname);
      if (before === undefined) return { action: 'create', ...e.value };
      return before === e.value.team_assignment
        ? { action: 'unchanged', ...e.value }
        : { action: 'update', ...e.value, before };
    }),
    ...(o.prune
      ? stored.filter((t) => !want.has(t.hostname)).map((t): TeamChange => ({ action: 'delete', ...t }))
      : []),
  ];
}
