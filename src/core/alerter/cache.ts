// The rule cache: active rules, development hosts and device teams read from PostgreSQL in one
// REPEATABLE READ snapshot, compiled into a matcher, and swapped in whole. A failed reload keeps the
// last good cache. Reloads come from the reload interval, SIGHUP, and change notifications (the
// `mutt_rules_changed` trigger of sql/0002 on any change to the three tables).
import type pg from 'pg';
import { RuleMatcher } from './matcher.ts';
import { compileRules, type RejectedRule, type RuleRow } from './rules.ts';

export interface RuleSnapshot {
  readonly matcher: RuleMatcher;
  /** The matcher of COMPAT_MODE=python2 (the same object when the rules compile alike). */
  readonly parityMatcher: RuleMatcher;
  readonly devHosts: ReadonlySet<string>;
  readonly teams: ReadonlyMap<string, string>;
  readonly rejected: readonly RejectedRule[];
  readonly loadedAt: number;
  /** The rule-set generation (mutt_rule_generation) this snapshot holds, read in the same snapshot. */
  readonly generation: number;
}

export const RULES_CHANGED_CHANNEL = 'mutt_rules_changed';

export async function loadSnapshot(pool: pg.Pool, now = Date.now()): Promise<RuleSnapshot> {
  const client = await pool.connect();
  // A connection lost while checked out also emits 'error': the failed query reports it.
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on('error', onError);
  let rules: RuleRow[];
  let dev: { hostname: string }[];
  let teams: { hostname: string; team_assignment: string }[];
  let generation: number;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      // First statement: it fixes the snapshot, so the rules read below are at least this generation.
      const g = await client.query<{ generation: string }>(
        'SELECT generation FROM mutt_rule_generation WHERE id = 1',
      );
      generation = Number(g.rows[0]?.generation ?? 0);
      rules = (
        await client.query<RuleRow>(
          `SELECT id, match_string, trap_oid, syslog_severity, match_type, priority,
                  prod_handling, dev_handling, team_assignment
             FROM alert_rules WHERE is_active ORDER BY priority, id`,
        )
      ).rows;
      dev = (await client.query<{ hostname: string }>('SELECT hostname FROM development_hosts')).rows;
      teams = (
        await client.query<{ hostname: string; team_assignment: string }>(
          'SELECT hostname, team_assignment FROM device_teams',
        )
      ).rows;
    } finally {
      await client.query('COMMIT').catch(() => {});
    }
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
  const compiled = compileRules(rules);
  const matcher = new RuleMatcher(compiled.rules);
  return {
    matcher,
    parityMatcher: compiled.parityRules ? new RuleMatcher(compiled.parityRules) : matcher,
    devHosts: new Set(dev.map((d) => d.hostname)),
    teams: new Map(
      teams.filter((t) => t.team_assignment.trim() !== '').map((t) => [t.hostname, t.team_assignment]),
    ),
    rejected: compiled.rejected,
    loadedAt: now,
    generation,
  };
}
