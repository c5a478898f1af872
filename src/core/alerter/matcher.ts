// First match by priority, then id (PROTOCOL.md "Alerter decisions"), in time that grows slowly with
// the number of rules:
//
//   trap rules      event trap_oid ──► prefix lookups by the lengths rule OIDs have (string prefixes,
//                                      as Python's str.startswith)
//   contains rules  lower-cased message ──► one Aho–Corasick pass finds every rule string in it
//   regex rules     a regex with a required literal (regex.ts requiredLiteral) is a candidate only
//                   when the same Aho–Corasick pass finds its literal in an ASCII message; a few
//                   candidates are tried one by one, many (or any message with non-ASCII
//                   characters) go through one RE2Set pass that finds every regex that matches
//
// Each index yields candidate rules; the answer is the lowest rank among candidates whose remaining
// conditions hold (severity filter; a rule with a trap_oid is judged by its OID alone when the event
// has one). `naiveMatch` is the rule-by-rule reference the property test compares against.
import { RE2JS, RE2Set } from 're2js';
import { AhoCorasick } from './aho-corasick.ts';
import { requiredLiteral } from './regex.ts';
import type { Rule } from './rules.ts';

export interface MatchInput {
  /** The event message, when it is a non-empty string. */
  message?: string;
  /** The event trap OID without a leading dot, when non-empty. */
  trapOid?: string;
  /** The event's syslog severity 0–7, when it has one. */
  severity?: number;
}

/** A rule's message test (the part that does not depend on the rule's own kind of index). */
function messageRuleApplies(r: Rule, e: MatchInput): boolean {
  if (r.trapOid !== undefined && e.trapOid !== undefined) return false;
  return r.severity === undefined || r.severity === e.severity;
}

/** Python MUTT's loop: every rule in order, the first that matches wins. */
export function naiveMatch(rules: readonly Rule[], e: MatchInput): Rule | undefined {
  for (const r of rules) {
    if (r.trapOid !== undefined && e.trapOid !== undefined) {
      if (r.matchType === 'oid_prefix' && e.trapOid.startsWith(r.trapOid)) return r;
      continue;
    }
    if (r.matchString === undefined || e.message === undefined) continue;
    if (r.severity !== undefined && r.severity !== e.severity) continue;
    if (r.matchType === 'contains' && e.message.toLowerCase().includes(r.lower!)) return r;
    if (r.matchType === 'regex' && r.regex!.test(e.message)) return r;
  }
  return undefined;
}

/** Candidate regexes up to which they are tried one by one rather than through the RE2Set. */
const ONE_BY_ONE = 4;
// eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL
const NON_ASCII = /[^\x00-\x7f]/;

export class RuleMatcher {
  readonly rules: readonly Rule[];
  private readonly oidRules = new Map<string, Rule[]>();
  private readonly oidLengths: number[];
  private readonly contains: Rule[];
  private readonly ac: AhoCorasick;
  private readonly regexRules: Rule[];
  private readonly set?: RE2Set;
  /** Regex rules (indexes into regexRules) without a required literal: always candidates. */
  private readonly always: number[] = [];
  /** Per regex rule, the Aho–Corasick pattern index of its literal (-1: none). */
  private readonly seenAt: Int32Array;
  private generation = 0;
  private readonly candidates: number[] = [];
  /** Aho–Corasick pattern index − contains.length → regex rule index. */
  private readonly literalOf: number[];

  constructor(rules: readonly Rule[]) {
    this.rules = rules;
    const lengths = new Set<number>();
    for (const r of rules) {
      if (r.trapOid === undefined || r.matchType !== 'oid_prefix') continue;
      const list = this.oidRules.get(r.trapOid);
      if (list) list.push(r);
      else this.oidRules.set(r.trapOid, [r]);
      lengths.add(r.trapOid.length);
    }
    this.oidLengths = [...lengths].sort((a, b) => a - b);
    this.contains = rules.filter((r) => r.matchType === 'contains' && r.lower !== undefined);
    this.regexRules = rules.filter((r) => r.matchType === 'regex' && r.pattern !== undefined);
    // One automaton for the contains strings and, after them, the regexes' required literals.
    const patterns = this.contains.map((r) => r.lower!);
    this.literalOf = [];
    this.regexRules.forEach((r, i) => {
      const lit = requiredLiteral(r.pattern!);
      if (lit === undefined) this.always.push(i);
      else {
        this.literalOf.push(i);
        patterns.push(lit);
      }
    });
    this.seenAt = new Int32Array(this.regexRules.length);
    this.ac = new AhoCorasick(patterns);
    if (this.regexRules.length > 0) {
      this.set = new RE2Set(RE2Set.UNANCHORED, RE2JS.CASE_INSENSITIVE);
      for (const r of this.regexRules) this.set.add(r.pattern!);
      this.set.compile();
    }
  }

  get size(): number {
    return this.rules.length;
  }

  match(e: MatchInput): Rule | undefined {
    let best: Rule | undefined;
    const consider = (r: Rule) => {
      if (best === undefined || r.rank < best.rank) best = r;
    };
    if (e.trapOid !== undefined) {
      for (const len of this.oidLengths) {
        if (len > e.trapOid.length) break;
        const list = this.oidRules.get(e.trapOid.slice(0, len));
        if (list) for (const r of list) consider(r);
      }
    }
    const msg = e.message;
    if (msg === undefined) return best;
    const nContains = this.contains.length;
    const prefilter = this.set !== undefined && !NON_ASCII.test(msg);
    const gen = ++this.generation;
    const cands = this.candidates;
    cands.length = 0;
    if (nContains > 0 || (prefilter && this.literalOf.length > 0)) {
      this.ac.scan(msg.toLowerCase(), (i) => {
        if (i < nContains) {
          const r = this.contains[i]!;
          if ((best === undefined || r.rank < best.rank) && messageRuleApplies(r, e)) best = r;
          return;
        }
        if (!prefilter) return;
        const k = this.literalOf[i - nContains]!;
        if (this.seenAt[k] !== gen) {
          this.seenAt[k] = gen;
          cands.push(k);
        }
      });
    }
    if (!this.set) return best;
    if (prefilter && cands.length + this.always.length <= ONE_BY_ONE) {
      for (const list of [cands, this.always]) {
        for (const k of list) {
          const r = this.regexRules[k]!;
          if ((best === undefined || r.rank < best.rank) && messageRuleApplies(r, e) && r.regex!.test(msg))
            best = r;
        }
      }
      return best;
    }
    for (const i of this.set.match(msg)) {
      const r = this.regexRules[i]!;
      if ((best === undefined || r.rank < best.rank) && messageRuleApplies(r, e)) best = r;
    }
    return best;
  }
}
