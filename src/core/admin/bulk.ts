// Bulk import of development hosts and device teams from CSV lines (pasted into the UI, or a file
// given to the CLI), with a result per line. Each line is checked with the same schemas as a single
// add (DevHostCreate, TeamCreate); the valid lines are written in one transaction with one audit row
// each, and the write waits once for the alerters, so a thousand lines cost one rule-set reload.
//
//   hostname                       development hosts: one host per line
//   hostname,team_assignment       teams: a new host is added, a known host's team is updated
//
// Blank lines and lines starting with `#` are skipped; a first line naming the columns is a header.
// Fields may be quoted ("a,b" and "" for a quote inside), as spreadsheets write them.
import type { Actor, AdminContext } from './context.ts';
import { auditChange, ruleSetChange } from './changes.ts';
import { AdminError } from './errors.ts';
import type { Applied } from './generation.ts';
import { DevHostCreate, parseInput, TeamCreate } from './schemas.ts';

export type ImportStatus = 'added' | 'updated' | 'unchanged' | 'invalid' | 'duplicate' | 'skipped';

export interface ImportLine {
  /** 1-based line number in the text. */
  line: number;
  text: string;
  status: ImportStatus;
  message: string;
}

export interface ImportResult {
  lines: ImportLine[];
  counts: Record<ImportStatus, number>;
  applied: Applied | null;
}

/** At most this many lines per import (a bigger file is split). */
export const MAX_IMPORT_LINES = 10_000;

/** One CSV line's fields (RFC 4180 quoting; whitespace around unquoted fields trimmed). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) break;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      while (i < line.length && line[i] !== ',') i++;
    } else {
      const end = line.indexOf(',', i);
      field = (end < 0 ? line.slice(i) : line.slice(i, end)).trim();
      i = end < 0 ? line.length : end;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

interface Parsed<T> {
  line: ImportLine;
  value?: T;
}

function readLines<T>(
  text: string,
  header: RegExp,
  parse: (fields: string[]) => { value: T; key: string } | { error: string },
): Parsed<T>[] {
  const raw = text.replace(/\r\n?/g, '\n').split('\n');
  if (raw.length > MAX_IMPORT_LINES)
    throw new AdminError('invalid', `csv: at most ${MAX_IMPORT_LINES} lines per import (got ${raw.length})`, {
      fields: [{ field: 'csv', message: `at most ${MAX_IMPORT_LINES} lines per import` }],
    });
  const seen = new Map<string, number>();
  const out: Parsed<T>[] = [];
  let first = true;
  raw.forEach((t, i) => {
    const n = i + 1;
    const trimmed = t.trim();
    if (trimmed === '') return;
    const line: ImportLine = { line: n, text: t.slice(0, 500), status: 'skipped', message: '' };
    if (trimmed.startsWith('#')) {
      line.message = 'comment';
      out.push({ line });
      return;
    }
    if (first && header.test(trimmed)) {
      first = false;
      line.message = 'header';
      out.push({ line });
      return;
    }
    first = false;
    const r = parse(csvFields(t));
    if ('error' in r) {
      line.status = 'invalid';
      line.message = r.error;
      out.push({ line });
      return;
    }
    const dup = seen.get(r.key);
    if (dup !== undefined) {
      line.status = 'duplicate';
      line.message = `same host as line ${dup}`;
      out.push({ line });
      return;
    }
    seen.set(r.key, n);
    out.push({ line, value: r.value });
  });
  return out;
}

function problemText(err: unknown): string {
  if (err instanceof AdminError && err.fields.length > 0)
    return err.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return (err as Error).message;
}

function countsOf(lines: ImportLine[]): Record<ImportStatus, number> {
  const c: Record<ImportStatus, number> = {
    added: 0,
    updated: 0,
    unchanged: 0,
    invalid: 0,
    duplicate: 0,
    skipped: 0,
  };
  for (const l of lines) c[l.status]++;
  return c;
}

/** Development hosts from CSV text (one hostname per line). */
export async function importDevHosts(ctx: AdminContext, text: string, actor: Actor): Promise<ImportResult> {
  const parsed = readLines<string>(text, /^"?hostname"?$/i, (f) => {
    if (f.length > 1 && f.slice(1).some((x) => x !== ''))
      return { error: `expected one field (hostname), got ${f.length}` };
    try {
      const b = parseInput(DevHostCreate, { hostname: f[0] ?? '' });
      return { value: b.hostname, key: b.hostname };
    } catch (err) {
      return { error: problemText(err) };
    }
  });
  const todo = parsed.filter((p) => p.value !== undefined);
  let applied: Applied | null = null;
  if (todo.length > 0) {
    const r = await ruleSetChange(ctx, 'import_dev_hosts', async (client) => {
      const ins = await client.query<{ hostname: string }>(
        `INSERT INTO development_hosts (hostname) SELECT unnest($1::text[])
         ON CONFLICT DO NOTHING RETURNING hostname`,
        [todo.map((p) => p.value!)],
      );
      const added = new Set(ins.rows.map((x) => x.hostname));
      for (const p of todo) {
        if (added.has(p.value!)) {
          p.line.status = 'added';
          p.line.message = 'added';
          await auditChange(client, actor, {
            table: 'development_hosts',
            operation: 'CREATE',
            newValues: { hostname: p.value },
          });
        } else {
          p.line.status = 'unchanged';
          p.line.message = 'already a development host';
        }
      }
    });
    applied = r.applied;
  }
  const lines = parsed.map((p) => p.line);
  return { lines, counts: countsOf(lines), applied };
}

/** Device teams from CSV text (`hostname,team_assignment` per line); known hosts are updated. */
export async function importTeams(ctx: AdminContext, text: string, actor: Actor): Promise<ImportResult> {
  const parsed = readLines<{ hostname: string; team: string }>(
    text,
    /^"?hostname"?\s*,\s*"?team(_assignment)?"?$/i,
    (f) => {
      if (f.length !== 2) return { error: `expected two fields (hostname,team_assignment), got ${f.length}` };
      try {
        const b = parseInput(TeamCreate, { hostname: f[0], team_assignment: f[1] });
        return { value: { hostname: b.hostname, team: b.team_assignment.trim() }, key: b.hostname };
      } catch (err) {
        return { error: problemText(err) };
      }
    },
  );
  const todo = parsed.filter((p) => p.value !== undefined);
  let applied: Applied | null = null;
  if (todo.length > 0) {
    const r = await ruleSetChange(ctx, 'import_teams', async (client) => {
      const old = await client.query<{ hostname: string; team_assignment: string }>(
        'SELECT hostname, team_assignment FROM device_teams WHERE hostname = ANY($1::text[]) FOR UPDATE',
        [todo.map((p) => p.value!.hostname)],
      );
      const before = new Map(old.rows.map((x) => [x.hostname, x.team_assignment]));
      const write = todo.filter((p) => before.get(p.value!.hostname) !== p.value!.team);
      if (write.length > 0)
        await client.query(
          `INSERT INTO device_teams (hostname, team_assignment)
           SELECT * FROM unnest($1::text[], $2::text[])
           ON CONFLICT (hostname) DO UPDATE SET team_assignment = excluded.team_assignment`,
          [write.map((p) => p.value!.hostname), write.map((p) => p.value!.team)],
        );
      for (const p of todo) {
        const { hostname, team } = p.value!;
        const was = before.get(hostname);
        if (was === team) {
          p.line.status = 'unchanged';
          p.line.message = `already in team ${team}`;
          continue;
        }
        p.line.status = was === undefined ? 'added' : 'updated';
        p.line.message = was === undefined ? `added to ${team}` : `moved from ${was} to ${team}`;
        await auditChange(client, actor, {
          table: 'device_teams',
          operation: was === undefined ? 'CREATE' : 'UPDATE',
          oldValues: was === undefined ? undefined : { hostname, team_assignment: was },
          newValues: { hostname, team_assignment: team },
        });
      }
    });
    applied = r.applied;
  }
  const lines = parsed.map((p) => p.line);
  return { lines, counts: countsOf(lines), applied };
}
