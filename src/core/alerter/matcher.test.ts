import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { severityNumber } from '../protocol/severity.ts';
import { naiveMatch, RuleMatcher } from './matcher.ts';
import { pythonSeverity } from './parity.ts';
import { compileRuleRegex } from './regex.ts';
import { compileRules, normaliseOid, pythonOid, type RuleRow } from './rules.ts';

// 'ſys' and the Kelvin sign: case-insensitive RE2 matches them to 'sys' and 'k' (the literal
// prefilter must not skip a regex for them).
const WORDS = [
  'link',
  'Down',
  'bgp',
  'IDLE',
  'ospf',
  'fan',
  'up',
  'err',
  '10.0.0.1',
  'Gi0/1',
  'ß',
  'état',
  'sys-5',
  'ſYS-5',
  'kernel',
  '\u212Aernel',
];
const word = fc.constantFrom(...WORDS);
const OID_ARCS = fc.constantFrom('1', '3', '6', '4', '9', '11', '99');
const oid = fc.array(OID_ARCS, { minLength: 1, maxLength: 6 }).map((a) => a.join('.'));
const dotted = fc.tuple(oid, fc.boolean()).map(([o, dot]) => (dot ? `.${o}` : o));

const regexPiece = fc.oneof(
  word.map((w) => w.replace(/[.]/g, '\\.')),
  fc.constant('\\d+'),
  fc.constant('.*'),
  fc.constant('\\s'),
  fc.constant('[a-f]+'),
  fc.tuple(word, word).map(([a, b]) => `(?:${a}|${b})`),
  word.map((w) => `(?P<g>${w})`),
  fc.constant('^'),
  fc.constant('$'),
  // Quantifiers that make the atom before optional (or not), a top-level alternation, escapes.
  word.map((w) => `${w.replace(/[.]/g, '\\.')}?`),
  word.map((w) => `${w.replace(/[.]/g, '\\.')}*`),
  word.map((w) => `${w.replace(/[.]/g, '\\.')}{0,2}`),
  word.map((w) => `${w.replace(/[.]/g, '\\.')}+`),
  fc.tuple(word, word).map(([a, b]) => `${a}|${b}`),
  fc.constant('\\x2d'),
  // POSIX classes inside a class: their ']' does not close it.
  fc.constant('[[:digit:]]'),
  fc.constant('[a[:space:]]'),
  fc.constant('-[[:^alpha:]]-'),
  fc.constant('\\-'),
);
const regex = fc.array(regexPiece, { minLength: 1, maxLength: 4 }).map((p) => p.join(''));

const ruleRow = (id: number) =>
  fc
    .record({
      kind: fc.constantFrom('contains', 'regex', 'oid_prefix'),
      words: fc.array(word, { minLength: 1, maxLength: 2 }),
      regex,
      trap: fc.option(dotted, { nil: null }),
      severity: fc.option(fc.integer({ min: 0, max: 7 }), { nil: null, freq: 3 }),
      priority: fc.integer({ min: 1, max: 5 }),
    })
    .map((r): RuleRow => ({
      id,
      match_type: r.kind,
      match_string: r.kind === 'regex' ? r.regex : r.kind === 'contains' ? r.words.join(' ') : null,
      trap_oid: r.kind === 'oid_prefix' ? (r.trap ?? '1.3') : r.trap,
      syslog_severity: r.severity,
      priority: r.priority,
      prod_handling: 'Page_and_ticket',
      dev_handling: 'Ignore',
      team_assignment: 'NETO',
    }));

const rules = fc
  .integer({ min: 0, max: 40 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleRow(i + 1))))
  .map((rows) => rows);

const event = fc.record({
  message: fc.option(
    fc
      .array(fc.oneof(word, fc.integer({ min: 0, max: 999 }).map(String)), { maxLength: 8 })
      .map((w) => w.join(' ')),
    { nil: undefined },
  ),
  trapOid: fc.option(oid, { nil: undefined }),
  severity: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
});

/** A rule row with the defaults of alert_rules. */
const row = (over: Partial<RuleRow>): RuleRow => ({
  id: 1,
  match_string: null,
  trap_oid: null,
  syslog_severity: null,
  match_type: 'contains',
  priority: 100,
  prod_handling: 'Page_and_ticket',
  dev_handling: 'Ignore',
  team_assignment: 'NETO',
  ...over,
});

describe('RuleMatcher', () => {
  it('finds the same rule as the rule-by-rule reference (random rules and events)', () => {
    const seen = { matched: 0, missed: 0, byRegex: 0, byOid: 0 };
    fc.assert(
      fc.property(rules, fc.array(event, { minLength: 1, maxLength: 20 }), (rows, events) => {
        const { rules: compiled } = compileRules(rows);
        const m = new RuleMatcher(compiled);
        for (const e of events) {
          const input = { ...e, message: e.message === '' ? undefined : e.message };
          const want = naiveMatch(compiled, input);
          expect(m.match(input)?.id).toBe(want?.id);
          if (want) seen.matched++;
          else seen.missed++;
          if (want?.matchType === 'regex') seen.byRegex++;
          if (want?.matchType === 'oid_prefix') seen.byOid++;
        }
      }),
      { numRuns: 300 },
    );
    // The generators must exercise every kind of match, not only misses.
    expect(seen.matched).toBeGreaterThan(200);
    expect(seen.missed).toBeGreaterThan(200);
    expect(seen.byRegex).toBeGreaterThan(50);
    expect(seen.byOid).toBeGreaterThan(20);
  });

  const first = (rows: RuleRow[], e: Parameters<RuleMatcher['match']>[0]) =>
    new RuleMatcher(compileRules(rows).rules).match(e)?.id;

  it.each([
    {
      what: 'lower priority wins',
      rows: [
        row({ id: 1, match_string: 'down', priority: 50 }),
        row({ id: 2, match_string: 'link', priority: 10 }),
      ],
      e: { message: 'LINK DOWN' },
      want: 2,
    },
    {
      what: 'a regex is tried on a non-ASCII message even without its literal in lower case (ſ folds to s)',
      rows: [row({ id: 1, match_string: 'SYS-5-CONFIG_I', match_type: 'regex' })],
      e: { message: '%ſYS-5-CONFIG_I: Configured from console' },
      want: 1,
    },
    {
      what: 'a POSIX class inside a class does not end it early (the literal is read after it)',
      rows: [
        row({ id: 1, match_string: '%LINK-[[:digit:]]-UPDOWN', match_type: 'regex' }),
        row({ id: 2, match_string: 'updown', priority: 200 }),
      ],
      e: { message: '%LINK-3-UPDOWN: Interface Gi0/1, changed state to down' },
      want: 1,
    },
    {
      what: 'a regex whose literal is absent does not match; present, it does',
      rows: [
        row({ id: 1, match_string: 'BGP-5-ADJCHANGE.*neighbor \\S+ Down', match_type: 'regex' }),
        row({ id: 2, match_string: 'neighbor', priority: 200 }),
      ],
      e: { message: '%BGP-5-ADJCHANGE: neighbor 10.0.0.1 Down' },
      want: 1,
    },
    {
      what: 'a priority tie goes to the lower id',
      rows: [row({ id: 9, match_string: 'down' }), row({ id: 3, match_string: 'link' })],
      e: { message: 'link down' },
      want: 3,
    },
    {
      what: 'an event with a trap OID is judged by trap rules by OID only (not by their message)',
      rows: [
        row({ id: 1, match_string: 'coldStart', trap_oid: '1.3.6.1.6', match_type: 'contains' }),
        row({ id: 2, match_string: 'coldstart' }),
      ],
      e: { message: 'coldStart', trapOid: '1.3.6.1.6.3.1.1.5.1' },
      want: 2,
    },
    {
      what: 'a trap rule matches by OID prefix, with or without a leading dot',
      rows: [
        row({ id: 1, trap_oid: '.1.3.6.1.6.3.1.1.5', match_type: 'oid_prefix', priority: 200 }),
        row({ id: 2, match_string: 'zzz' }),
      ],
      e: { message: 'coldStart', trapOid: '1.3.6.1.6.3.1.1.5.1' },
      want: 1,
    },
    {
      what: 'a trap rule with a message is a message rule for an event without an OID',
      rows: [row({ id: 1, trap_oid: '1.3.6', match_string: 'cold', match_type: 'contains' })],
      e: { message: 'coldStart' },
      want: 1,
    },
    {
      what: 'the severity filter skips a rule whose severity differs',
      rows: [
        row({ id: 1, match_string: 'down', syslog_severity: 2 }),
        row({ id: 2, match_string: 'down', priority: 200 }),
      ],
      e: { message: 'down', severity: 3 },
      want: 2,
    },
    {
      what: 'the severity filter skips a rule when the event has no severity',
      rows: [row({ id: 1, match_string: 'down', syslog_severity: 2 })],
      e: { message: 'down' },
      want: undefined,
    },
    {
      what: 'regex search is case-insensitive and unanchored; (?P<name>…) works',
      rows: [row({ id: 4, match_type: 'regex', match_string: '(?P<ifc>gigabitethernet\\d+/\\d+).*DOWN' })],
      e: { message: '%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down' },
      want: 4,
    },
    {
      what: 'Python \\Z is the end of the text',
      rows: [row({ id: 5, match_type: 'regex', match_string: 'down\\Z' })],
      e: { message: 'state down' },
      want: 5,
    },
  ])('$what', ({ rows, e, want }) => {
    expect(first(rows, e)).toBe(want);
  });

  it.each([
    ['(?P<x>a)(?P=x)', /backreferences/],
    ['(a)\\1', /backreferences/],
    ['foo(?=bar)', /lookahead and lookbehind/],
    ['(?<!x)foo', /lookahead and lookbehind/],
    ['(?x) a b', /verbose/],
    ['(unclosed', /invalid regex: .*missing closing \)/],
    ['a{2000}', /invalid regex/],
  ])('refuses the regex %s with a reason, keeping the other rules', (pattern, reason) => {
    const { rules: ok, rejected } = compileRules([
      row({ id: 1, match_type: 'regex', match_string: pattern }),
      row({ id: 2, match_string: 'down' }),
    ]);
    expect(rejected).toEqual([{ id: 1, reason: expect.stringMatching(reason) }]);
    expect(new RuleMatcher(ok).match({ message: 'down' })?.id).toBe(2);
  });

  it('refuses a rule with an empty team', () => {
    const { rules: ok, rejected } = compileRules([row({ id: 1, match_string: 'x', team_assignment: ' ' })]);
    expect(ok).toEqual([]);
    expect(rejected).toEqual([{ id: 1, reason: 'team_assignment is empty' }]);
  });

  it('keeps escaped characters and classes as they are', () => {
    const { rules: ok } = compileRules([row({ id: 1, match_type: 'regex', match_string: '[\\]Z]\\\\Z' })]);
    expect(ok[0]!.pattern).toBe('[\\]Z]\\\\Z');
  });
});

// COMPAT_MODE=python2: the rules as Python MUTT 2.x uses them, checked against Python's loop written
// out from PROTOCOL.md ("Alerter decisions") over the raw rows and the raw event values.
describe('parity rules (COMPAT_MODE=python2)', () => {
  const parityMatcher = (rows: RuleRow[]) => {
    const c = compileRules(rows);
    return new RuleMatcher(c.parityRules ?? c.rules);
  };
  type RawEvent = { message?: string; trap_oid?: unknown; syslog_severity?: unknown };
  const input = (e: RawEvent) => ({
    message: e.message === '' ? undefined : e.message,
    trapOid: pythonOid(e.trap_oid),
    severity: pythonSeverity(e.syslog_severity),
  });
  /** Python's `!=` between the raw JSON value and the rule's integer. */
  const pyEqual = (v: unknown, n: number) =>
    (typeof v === 'number' && v === n) || (typeof v === 'boolean' && Number(v) === n);
  function pythonLoop(rows: RuleRow[], e: RawEvent): number | undefined {
    const sorted = [...rows].sort((a, b) => a.priority - b.priority || a.id - b.id);
    for (const r of sorted) {
      if (r.trap_oid && typeof e.trap_oid === 'string' && e.trap_oid) {
        if (r.match_type === 'oid_prefix' && e.trap_oid.startsWith(r.trap_oid)) return r.id;
        continue;
      }
      if (!r.match_string || !e.message) continue;
      if (r.syslog_severity !== null && !pyEqual(e.syslog_severity, r.syslog_severity)) continue;
      if (r.match_type === 'contains' && e.message.toLowerCase().includes(r.match_string.toLowerCase()))
        return r.id;
      if (r.match_type === 'regex') {
        const c = compileRuleRegex(r.match_string);
        if (c.ok && c.re.test(e.message)) return r.id;
      }
    }
    return undefined;
  }

  it('finds the rule Python finds (random rules, OIDs with and without a leading dot, raw severities)', () => {
    const teams = fc.constantFrom('NETO', 'NETO', 'NETO', '', ' ');
    const rowsArb = rules.chain((rows) =>
      fc.tuple(...rows.map(() => teams)).map((ts) => rows.map((r, i) => ({ ...r, team_assignment: ts[i]! }))),
    );
    const rawEvent = fc.record({
      message: fc.option(
        fc
          .array(fc.oneof(word, fc.integer({ min: 0, max: 999 }).map(String)), { maxLength: 8 })
          .map((w) => w.join(' ')),
        { nil: undefined },
      ),
      trap_oid: fc.option(dotted, { nil: undefined }),
      syslog_severity: fc.option(
        fc.oneof(
          fc.integer({ min: 0, max: 7 }),
          fc.constantFrom('err', 'Warning', '3', '0', true, false, 3.0, 2.5, null),
        ),
        { nil: undefined },
      ),
    });
    let matched = 0;
    let differs = 0;
    fc.assert(
      fc.property(rowsArb, fc.array(rawEvent, { minLength: 1, maxLength: 20 }), (rows, events) => {
        const valid = rows.filter(
          (r) => r.match_type !== 'regex' || !r.match_string || compileRuleRegex(r.match_string).ok,
        );
        const m = parityMatcher(rows);
        const mutt = new RuleMatcher(compileRules(rows).rules);
        for (const e of events) {
          const want = pythonLoop(valid, e);
          expect(m.match(input(e))?.id).toBe(want);
          if (want !== undefined) matched++;
          const severity = severityNumber(e.syslog_severity);
          const trapOid = typeof e.trap_oid === 'string' && e.trap_oid ? normaliseOid(e.trap_oid) : undefined;
          if (mutt.match({ message: e.message || undefined, trapOid, severity })?.id !== want) differs++;
        }
      }),
      { numRuns: 300 },
    );
    expect(matched).toBeGreaterThan(150);
    // The two modes do differ on these inputs (otherwise the property proves nothing about parity).
    expect(differs).toBeGreaterThan(20);
  });

  it('compares OIDs as written: a leading dot on one side only does not match', () => {
    const rows = [row({ id: 1, match_type: 'oid_prefix', trap_oid: '.1.3.6.1.4.1.9.9.41.2' })];
    expect(parityMatcher(rows).match(input({ trap_oid: '1.3.6.1.4.1.9.9.41.2.0.1' }))).toBeUndefined();
    expect(parityMatcher(rows).match(input({ trap_oid: '.1.3.6.1.4.1.9.9.41.2.0.1' }))?.id).toBe(1);
    expect(new RuleMatcher(compileRules(rows).rules).match({ trapOid: '1.3.6.1.4.1.9.9.41.2.0.1' })?.id).toBe(
      1,
    );
  });

  it('keeps rules with an empty team or handling (Python uses them); MUTT refuses them', () => {
    const c = compileRules([
      row({ id: 1, match_string: 'down', team_assignment: '' }),
      row({ id: 2, match_string: 'down', prod_handling: ' ', priority: 200 }),
      row({ id: 3, match_string: 'down', priority: 300 }),
    ]);
    expect(c.rules.map((r) => r.id)).toEqual([3]);
    expect(c.rejected.map((r) => r.id)).toEqual([1, 2]);
    expect(c.parityRules?.map((r) => [r.id, r.rank, r.team])).toEqual([
      [1, 0, ''],
      [2, 1, 'NETO'],
      [3, 2, 'NETO'],
    ]);
  });

  it('shares the default rules when Python would use them alike', () => {
    const c = compileRules([
      row({ id: 1, match_string: 'x' }),
      row({ id: 2, match_type: 'oid_prefix', trap_oid: '1.3.6' }),
    ]);
    expect(c.parityRules).toBeUndefined();
  });
});
