// Rules as the alerter holds them: rows of alert_rules checked and compiled once per cache load.
// A row that cannot work (an invalid or Python-only regex, an empty team, an unknown match type) is
// refused with a reason, and the other rules go on working.
import type { RE2JS } from 're2js';
import { compileRuleRegex } from './regex.ts';

/** A row of alert_rules (PROTOCOL.md), as PostgreSQL returns it. */
export interface RuleRow {
  id: number;
  match_string: string | null;
  trap_oid: string | null;
  syslog_severity: number | null;
  match_type: string;
  priority: number;
  prod_handling: string;
  dev_handling: string;
  team_assignment: string;
}

export type MatchType = 'contains' | 'regex' | 'oid_prefix';

export interface Rule {
  readonly id: number;
  readonly priority: number;
  /** Position in (priority, id) order: the lower rank wins. */
  readonly rank: number;
  readonly matchType: MatchType;
  /** match_string when non-empty. */
  readonly matchString?: string;
  /** match_string lower-cased (contains rules). */
  readonly lower?: string;
  /** The translated RE2 pattern and its compiled form (regex rules). */
  readonly pattern?: string;
  readonly regex?: RE2JS;
  /** trap_oid without a leading dot, when non-empty. */
  readonly trapOid?: string;
  readonly severity?: number;
  readonly prodHandling: string;
  readonly devHandling: string;
  readonly team: string;
}

export interface RejectedRule {
  id: number;
  reason: string;
}

/** "1.3.6.1" and ".1.3.6.1" are the same OID. */
export const normaliseOid = (oid: string): string => (oid.startsWith('.') ? oid.slice(1) : oid).trim();

const blank = (s: string | null | undefined): boolean => s === null || s === undefined || s.trim() === '';

/**
 * The OID of a rule or an event as Python MUTT 2.x compares it: the text as written (a leading dot
 * and spaces kept), absent when empty.
 */
export const pythonOid = (oid: unknown): string | undefined =>
  typeof oid === 'string' && oid !== '' ? oid : undefined;

export interface CompiledRules {
  rules: Rule[];
  rejected: RejectedRule[];
  /**
   * The rules as Python MUTT 2.x uses them (COMPAT_MODE=python2), when they differ from `rules`:
   * OIDs as written, and rules with an empty team or handling kept (Python uses them as they are).
   */
  parityRules?: Rule[];
}

/** Orders rows by (priority, id), compiles them, and separates those that cannot be used. */
export function compileRules(rows: readonly RuleRow[]): CompiledRules {
  const sorted = [...rows].sort((a, b) => a.priority - b.priority || a.id - b.id);
  const rules: Rule[] = [];
  const parity: Rule[] = [];
  let parityDiffers = false;
  const rejected: RejectedRule[] = [];
  for (const r of sorted) {
    const reject = (reason: string) => rejected.push({ id: r.id, reason });
    const blankReason = blank(r.team_assignment)
      ? 'team_assignment is empty'
      : blank(r.prod_handling) || blank(r.dev_handling)
        ? 'prod_handling and dev_handling must not be empty'
        : undefined;
    const type = r.match_type as MatchType;
    if (type !== 'contains' && type !== 'regex' && type !== 'oid_prefix') {
      reject(blankReason ?? `unknown match_type "${r.match_type}" (contains, regex or oid_prefix)`);
      continue;
    }
    const matchString = r.match_string !== null && r.match_string !== '' ? r.match_string : undefined;
    let regex: RE2JS | undefined;
    let pattern: string | undefined;
    if (type === 'regex' && matchString !== undefined) {
      const c = compileRuleRegex(matchString);
      if (!c.ok) {
        reject(blankReason ?? c.reason);
        continue;
      }
      regex = c.re;
      pattern = c.pattern;
    }
    const oid = r.trap_oid === null ? '' : normaliseOid(r.trap_oid);
    const severity = r.syslog_severity ?? undefined;
    const rule: Rule = {
      id: r.id,
      priority: r.priority,
      rank: rules.length,
      matchType: type,
      matchString,
      lower: type === 'contains' ? matchString?.toLowerCase() : undefined,
      pattern,
      regex,
      trapOid: oid === '' ? undefined : oid,
      severity: severity === null ? undefined : severity,
      prodHandling: r.prod_handling,
      devHandling: r.dev_handling,
      team: r.team_assignment,
    };
    if (blankReason) {
      reject(blankReason);
      parityDiffers = true;
    } else rules.push(rule);
    const pyOid = pythonOid(r.trap_oid);
    if (pyOid !== rule.trapOid) parityDiffers = true;
    parity.push({ ...rule, rank: parity.length, trapOid: pyOid });
  }
  return { rules, rejected, ...(parityDiffers ? { parityRules: parity } : {}) };
}
