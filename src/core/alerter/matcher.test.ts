import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { naiveMatch, RuleMatcher } from './matcher.ts';
import { compileRules, type RuleRow } from './rules.ts';

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
