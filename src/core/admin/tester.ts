// The rule tester: a dry run of a draft rule (or of the current rule set with one rule added,
// changed or deleted) against what really arrived — the newest audit rows and the alerter's bounded
// recent-events sample, which also holds the events no rule matched. It compiles and matches with the
// alerter's own code (compileRules, RuleMatcher, decide), so what it says is what the alerter would do.
import { decide } from '../alerter/decide.ts';
import { parseEvent } from '../alerter/event.ts';
import { RuleMatcher } from '../alerter/matcher.ts';
import { compileRules, type RuleRow } from '../alerter/rules.ts';
import type { AdminContext } from './context.ts';
import { query, redisCall } from './context.ts';
import { AdminError, notFound } from './errors.ts';
import { ruleProblems } from './rules.ts';
import { parseInput, RuleTest } from './schemas.ts';

/** The id a new draft rule takes while tested (after every real rule of the same priority). */
export const DRAFT_ID = 2147483647;

export interface Outcome {
  rule_id: number | 'draft' | null;
  handling: string | null;
  forwarded: boolean;
}

export interface RuleTestResult {
  events: { tested: number; from_audit: number; from_recent: number; unreadable: number };
  current: { matched: number; unhandled: number; by_rule: Record<string, number> };
  proposed: { matched: number; unhandled: number; by_rule: Record<string, number> };
  /** Events the draft rule matches (alone), and those it wins in the proposed rule set. */
  draft: { matches: number; wins: number } | null;
  /** Events whose winning rule or handling would change. */
  changed: number;
  sample: {
    source: 'audit' | 'recent';
    hostname: string;
    message: string;
    correlation_id: string;
    before: Outcome;
    after: Outcome;
  }[];
}

const RULE_COLUMNS = `id, match_string, trap_oid, syslog_severity, match_type, priority, prod_handling, dev_handling, team_assignment`;

export async function testRules(ctx: AdminContext, input: unknown): Promise<RuleTestResult> {
  const b = parseInput(RuleTest, input);
  const n = b.events ?? 500;
  if (!b.rule && b.rule_id === undefined)
    throw new AdminError(
      'invalid',
      'rule: give a draft rule, or rule_id (with delete: true to test without it)',
      {
        fields: [{ field: 'rule', message: 'required unless rule_id is given' }],
      },
    );
  const [rulesRes, devRes, auditRes, recent] = await Promise.all([
    query<RuleRow & { is_active: boolean }>(
      ctx,
      'tester_rules',
      `SELECT ${RULE_COLUMNS}, is_active FROM alert_rules`,
    ),
    query<{ hostname: string }>(ctx, 'tester_dev_hosts', 'SELECT hostname FROM development_hosts'),
    query<{ raw_message: string | null }>(
      ctx,
      'tester_events',
      `SELECT raw_message FROM event_audit_log ORDER BY event_timestamp DESC, id DESC LIMIT $1`,
      [n],
    ),
    redisCall(() => ctx.redis.lrange(ctx.keys.recentEvents, 0, n - 1)),
  ]);
  const all = rulesRes.rows;
  const active = all.filter((r) => r.is_active);
  const devHosts = new Set(devRes.rows.map((r) => r.hostname));

  // The draft as a full row.
  let draft: RuleRow | undefined;
  if (b.rule) {
    const base = b.rule_id !== undefined ? all.find((r) => r.id === b.rule_id) : undefined;
    if (b.rule_id !== undefined && !base) throw notFound(`rule ${b.rule_id}`);
    const d = b.rule;
    const row: RuleRow = {
      id: base?.id ?? DRAFT_ID,
      match_string: d.match_string !== undefined ? d.match_string : (base?.match_string ?? null),
      trap_oid: d.trap_oid !== undefined ? d.trap_oid : (base?.trap_oid ?? null),
      syslog_severity: d.syslog_severity !== undefined ? d.syslog_severity : (base?.syslog_severity ?? null),
      match_type: d.match_type ?? base?.match_type ?? 'contains',
      priority: d.priority ?? base?.priority ?? 100,
      prod_handling: d.prod_handling ?? base?.prod_handling ?? '',
      dev_handling: d.dev_handling ?? base?.dev_handling ?? '',
      team_assignment: d.team_assignment ?? base?.team_assignment ?? '',
    };
    const problems = ruleProblems(row).map((p) => ({ field: `rule.${p.field}`, message: p.message }));
    for (const f of ['prod_handling', 'dev_handling', 'team_assignment'] as const)
      if (row[f].trim() === '') problems.push({ field: `rule.${f}`, message: 'required' });
    if (problems.length > 0)
      throw new AdminError('invalid', problems.map((p) => `${p.field}: ${p.message}`).join('; '), {
        fields: problems,
      });
    draft = row;
  }
  let proposedRows: RuleRow[];
  if (b.mode === 'alone') proposedRows = draft ? [draft] : [];
  else {
    proposedRows = active.filter((r) => r.id !== b.rule_id);
    if (draft && !(b.delete && b.rule_id !== undefined)) proposedRows.push(draft);
  }
  const current = new RuleMatcher(compileRules(active).rules);
  const proposed = new RuleMatcher(compileRules(proposedRows).rules);
  const draftAlone = draft ? new RuleMatcher(compileRules([draft]).rules) : undefined;

  const sampleMax = b.sample ?? 20;
  const res: RuleTestResult = {
    events: { tested: 0, from_audit: 0, from_recent: 0, unreadable: 0 },
    current: { matched: 0, unhandled: 0, by_rule: {} },
    proposed: { matched: 0, unhandled: 0, by_rule: {} },
    draft: draft ? { matches: 0, wins: 0 } : null,
    changed: 0,
    sample: [],
  };
  const label = (id: number) => (id === DRAFT_ID ? 'draft' : String(id));
  const seen = new Set<string>();
  const sources: ['audit' | 'recent', string | null][] = [
    ...recent.map((r) => ['recent', r] as ['recent', string]),
    ...auditRes.rows.map((r) => ['audit', r.raw_message] as ['audit', string | null]),
  ];
  for (const [source, raw] of sources) {
    if (res.events.tested >= n) break;
    if (raw === null) {
      res.events.unreadable++;
      continue;
    }
    const p = parseEvent(raw, []);
    if (!p.ok) {
      res.events.unreadable++;
      continue;
    }
    const e = p.event;
    if (seen.has(e.correlationId)) continue;
    seen.add(e.correlationId);
    res.events.tested++;
    if (source === 'audit') res.events.from_audit++;
    else res.events.from_recent++;
    const input = {
      message: e.message === '' ? undefined : e.message,
      trapOid: e.trapOid,
      severity: e.severity,
    };
    const outcome = (m: RuleMatcher, side: RuleTestResult['current']): Outcome => {
      const rule = m.match(input);
      if (!rule) {
        side.unhandled++;
        return { rule_id: null, handling: null, forwarded: false };
      }
      side.matched++;
      side.by_rule[label(rule.id)] = (side.by_rule[label(rule.id)] ?? 0) + 1;
      const d = decide(rule, e.hostname, devHosts);
      return {
        rule_id: rule.id === DRAFT_ID ? 'draft' : rule.id,
        handling: d.handling,
        forwarded: d.forward,
      };
    };
    const before = outcome(current, res.current);
    const after = outcome(proposed, res.proposed);
    if (draftAlone && draftAlone.match(input)) res.draft!.matches++;
    if (draft && after.rule_id === (draft.id === DRAFT_ID ? 'draft' : draft.id)) res.draft!.wins++;
    if (before.rule_id !== after.rule_id || before.handling !== after.handling) {
      res.changed++;
      if (res.sample.length < sampleMax)
        res.sample.push({
          source,
          hostname: e.hostname,
          message: e.message.slice(0, 500),
          correlation_id: e.correlationId,
          before,
          after,
        });
    }
  }
  return res;
}
