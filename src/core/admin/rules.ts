// Rules: list, read (with ETag), create, update and delete with optimistic concurrency, each write
// audited and live when it returns (changes.ts). Validation is the schema's (schemas.ts) plus the
// checks that need the whole rule: a match string or OID, an OID for oid_prefix, and a regex the
// alerter's own RE2 translation accepts — so a rule that answers 201 is a rule the alerter runs.
import type pg from 'pg';
import { compileRules, type RuleRow } from '../alerter/rules.ts';
import type { Actor, AdminContext } from './context.ts';
import { query } from './context.ts';
import { auditChange, checkIfMatch, etagOf, ruleSetChange } from './changes.ts';
import { AdminError, type FieldProblem, notFound } from './errors.ts';
import type { Applied } from './generation.ts';
import { parseInput, type Rule, RuleCreate, RuleUpdate } from './schemas.ts';

const COLUMNS = `id, match_string, trap_oid, syslog_severity, match_type, priority, prod_handling,
  dev_handling, team_assignment, is_active, name, description, created_at, updated_at`;

interface DbRule extends Omit<Rule, 'created_at' | 'updated_at'> {
  created_at: Date | null;
  updated_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function ruleOut(r: DbRule): Rule {
  return { ...r, created_at: iso(r.created_at), updated_at: iso(r.updated_at) };
}

export interface RuleWithEtag {
  rule: Rule;
  etag: string;
}

export interface RuleWrite extends RuleWithEtag {
  applied: Applied;
}

/** Problems of a whole rule (after defaults and, for an update, merged with the stored row). */
export function ruleProblems(r: {
  match_string?: string | null;
  trap_oid?: string | null;
  match_type?: string;
  syslog_severity?: number | null;
  priority?: number;
  prod_handling?: string;
  dev_handling?: string;
  team_assignment?: string;
}): FieldProblem[] {
  const out: FieldProblem[] = [];
  const ms = r.match_string ?? null;
  const oid = r.trap_oid ?? null;
  const type = r.match_type ?? 'contains';
  if ((ms === null || ms === '') && (oid === null || oid === ''))
    out.push({ field: 'match_string', message: 'a rule needs match_string or trap_oid' });
  if (type === 'oid_prefix' && (oid === null || oid.trim() === ''))
    out.push({ field: 'trap_oid', message: 'an oid_prefix rule needs trap_oid' });
  if (type !== 'oid_prefix' && (ms === null || ms === '') && oid !== null && oid !== '')
    out.push({ field: 'match_type', message: 'a rule with only trap_oid must be oid_prefix' });
  if (type === 'regex' && ms !== null && ms !== '') {
    // The alerter's own compilation: what passes here is what the alerter will run.
    const row: RuleRow = {
      id: 0,
      match_string: ms,
      trap_oid: oid,
      syslog_severity: r.syslog_severity ?? null,
      match_type: type,
      priority: r.priority ?? 100,
      prod_handling: r.prod_handling ?? 'Ignore',
      dev_handling: r.dev_handling ?? 'Ignore',
      team_assignment: r.team_assignment ?? 'x',
    };
    const rejected = compileRules([row]).rejected[0];
    if (rejected) out.push({ field: 'match_string', message: rejected.reason });
  }
  return out;
}

function refuse(problems: FieldProblem[]): void {
  if (problems.length === 0) return;
  throw new AdminError('invalid', problems.map((p) => `${p.field}: ${p.message}`).join('; '), {
    fields: problems,
  });
}

export function parseRuleId(id: string | number): number {
  const n = typeof id === 'number' ? id : /^[0-9]{1,9}$/.test(id) ? Number(id) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 2147483647)
    throw new AdminError('invalid', `id: expected a positive integer id, got "${String(id)}"`, {
      fields: [{ field: 'id', message: 'expected a positive integer id' }],
    });
  return n;
}

export async function listRules(ctx: AdminContext, o: { activeOnly?: boolean } = {}): Promise<Rule[]> {
  const r = await query<DbRule>(
    ctx,
    'list_rules',
    `SELECT ${COLUMNS} FROM alert_rules ${o.activeOnly ? 'WHERE is_active' : ''} ORDER BY priority ASC, id ASC`,
  );
  return r.rows.map(ruleOut);
}

async function readRule(
  db: Pick<pg.PoolClient, 'query'>,
  id: number,
  lock: boolean,
): Promise<DbRule | undefined> {
  const r = await db.query<DbRule>(
    `SELECT ${COLUMNS} FROM alert_rules WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return r.rows[0];
}

export async function getRule(ctx: AdminContext, id: string | number): Promise<RuleWithEtag> {
  const n = parseRuleId(id);
  const r = await query<DbRule>(ctx, 'get_rule', `SELECT ${COLUMNS} FROM alert_rules WHERE id = $1`, [n]);
  const row = r.rows[0];
  if (!row) throw notFound(`rule ${n}`);
  const rule = ruleOut(row);
  return { rule, etag: etagOf(rule) };
}

/** Audit values: the rule's fields (timestamps left out). */
const auditValues = (r: Rule) => {
  const { created_at: _c, updated_at: _u, ...rest } = r;
  return rest;
};

export async function createRule(ctx: AdminContext, input: unknown, actor: Actor): Promise<RuleWrite> {
  const b = parseInput(RuleCreate, input);
  const r = {
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
  refuse(ruleProblems(r));
  const { result, applied } = await ruleSetChange(ctx, 'create_rule', async (client) => {
    const ins = await client.query<DbRule>(
      `INSERT INTO alert_rules (match_string, trap_oid, syslog_severity, match_type, priority, prod_handling,
         dev_handling, team_assignment, is_active, name, description)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
      [
        r.match_string,
        r.trap_oid,
        r.syslog_severity,
        r.match_type,
        r.priority,
        r.prod_handling,
        r.dev_handling,
        r.team_assignment,
        r.is_active,
        r.name,
        r.description,
      ],
    );
    const rule = ruleOut(ins.rows[0]!);
    await auditChange(client, actor, {
      table: 'alert_rules',
      operation: 'CREATE',
      recordId: rule.id,
      newValues: auditValues(rule),
      reason: b.reason,
    });
    return rule;
  });
  return { rule: result, etag: etagOf(result), applied };
}

const UPDATABLE = [
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

export async function updateRule(
  ctx: AdminContext,
  id: string | number,
  input: unknown,
  actor: Actor,
  ifMatch?: string,
): Promise<RuleWrite> {
  const n = parseRuleId(id);
  const b = parseInput(RuleUpdate, input);
  if (b.id !== undefined && b.id !== n)
    throw new AdminError('invalid', `id: ${b.id} is not the rule in the path (${n})`, {
      fields: [{ field: 'id', message: 'does not match the rule in the path' }],
    });
  const changes = UPDATABLE.filter((k) => b[k] !== undefined);
  if (changes.length === 0)
    throw new AdminError('invalid', `no field to update (give any of ${UPDATABLE.join(', ')})`, {
      fields: [{ field: 'body', message: 'no field to update' }],
    });
  const { result, applied } = await ruleSetChange(ctx, 'update_rule', async (client) => {
    const before = await readRule(client, n, true);
    if (!before) throw notFound(`rule ${n}`);
    const old = ruleOut(before);
    checkIfMatch(ifMatch, etagOf(old), `rule ${n}`);
    const merged: Record<string, unknown> = { ...old };
    for (const k of changes) {
      const v = b[k];
      merged[k] = typeof v === 'string' && k !== 'match_string' && k !== 'description' ? v.trim() : v;
    }
    refuse(ruleProblems(merged));
    const sets = changes.map((k, i) => `${k} = $${i + 2}`);
    const upd = await client.query<DbRule>(
      `UPDATE alert_rules SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [n, ...changes.map((k) => merged[k])],
    );
    const rule = ruleOut(upd.rows[0]!);
    await auditChange(client, actor, {
      table: 'alert_rules',
      operation: 'UPDATE',
      recordId: n,
      oldValues: auditValues(old),
      newValues: auditValues(rule),
      reason: b.reason,
    });
    return rule;
  });
  return { rule: result, etag: etagOf(result), applied };
}

export async function deleteRule(
  ctx: AdminContext,
  id: string | number,
  actor: Actor,
  ifMatch?: string,
): Promise<{ rule: Rule; applied: Applied }> {
  const n = parseRuleId(id);
  const { result, applied } = await ruleSetChange(ctx, 'delete_rule', async (client) => {
    const before = await readRule(client, n, true);
    if (!before) throw notFound(`rule ${n}`);
    const old = ruleOut(before);
    checkIfMatch(ifMatch, etagOf(old), `rule ${n}`);
    await client.query('SAVEPOINT del');
    try {
      await client.query('DELETE FROM alert_rules WHERE id = $1', [n]);
    } catch (err) {
      if ((err as { code?: string }).code === '23503')
        throw new AdminError(
          'conflict',
          `rule ${n} is referenced by audit-log rows and cannot be deleted; deactivate it instead (PUT {"is_active": false})`,
          { cause: err },
        );
      throw err;
    }
    await auditChange(client, actor, {
      table: 'alert_rules',
      operation: 'DELETE',
      recordId: n,
      oldValues: auditValues(old),
      reason: actor.reason,
    });
    return old;
  });
  return { rule: result, applied };
}
