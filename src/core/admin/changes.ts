// The one way rules, development hosts and teams change: the row and its config_audit_log row (old
// and new values, who, why, correlation id) in one transaction, the rule-set generation read before
// the commit, then the bounded wait for the alerters to run it. ETags are content hashes, so a
// change made by psql or a Python node also changes the ETag a client holds.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Actor, AdminContext } from './context.ts';
import { transaction } from './context.ts';
import { AdminError } from './errors.ts';
import { type Applied, currentGeneration, waitApplied } from './generation.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** A strong ETag of a row's content (`"` + 16 hex digits + `"`). */
export function etagOf(row: object): string {
  const canonical = JSON.stringify(row, Object.keys(row).sort());
  return `"${createHash('sha1').update(canonical).digest('hex').slice(0, 16)}"`;
}

/** If-Match: `*`, one ETag or a list; weak `W/` prefixes are compared by their value. */
export function checkIfMatch(ifMatch: string | undefined, current: string | undefined, what: string): void {
  if (ifMatch === undefined || ifMatch.trim() === '') return;
  const wanted = ifMatch.split(',').map((s) => s.trim().replace(/^W\//, ''));
  if (current !== undefined && (wanted.includes('*') || wanted.includes(current))) return;
  throw new AdminError(
    'precondition_failed',
    current === undefined
      ? `${what} no longer exists`
      : `${what} changed since it was read (If-Match ${ifMatch}, current ETag ${current}): read it again and reapply the change`,
    { currentEtag: current },
  );
}

export async function auditChange(
  client: pg.PoolClient,
  actor: Actor,
  c: {
    table: string;
    operation: Operation;
    recordId?: number | null;
    oldValues?: unknown;
    newValues?: unknown;
    reason?: string;
  },
): Promise<void> {
  await client.query(
    `INSERT INTO config_audit_log (changed_by, operation, table_name, record_id, old_values, new_values, reason, correlation_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      actor.changedBy.slice(0, 100),
      c.operation,
      c.table,
      c.recordId ?? null,
      c.oldValues === undefined ? null : JSON.stringify(c.oldValues),
      c.newValues === undefined ? null : JSON.stringify(c.newValues),
      c.reason ?? actor.reason ?? null,
      actor.correlationId?.slice(0, 64) ?? null,
    ],
  );
}

/**
 * Runs a change to a rule-cache table in a transaction (`fn` writes the row and its audit row), then
 * waits until the alerters run the generation it created.
 */
export async function ruleSetChange<T>(
  ctx: AdminContext,
  operation: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<{ result: T; applied: Applied }> {
  const { result, generation } = await transaction(ctx, operation, async (client) => {
    const result = await fn(client);
    return { result, generation: await currentGeneration(client) };
  });
  return { result, applied: await waitApplied(ctx, generation) };
}
