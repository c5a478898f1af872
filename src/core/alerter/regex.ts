// Operator regexes (alert_rules.match_string with match_type 'regex') go through re2js: linear-time
// matching whatever a rule says. Rules written for Python MUTT use Python's `re` syntax; what RE2
// does not know is translated when the meaning is the same, and refused with a reason otherwise.
//
//   translated   \Z (end of text)                → \z
//                (?P<name>…) is accepted by RE2 as it is
//   refused      backreferences \1 … (?P=name), lookarounds (?= (?! (?<= (?<!, conditionals (?(…),
//                verbose mode (?x), anything else RE2 does not parse (its own message is the reason)
import { RE2JS } from 're2js';

export type RegexCheck = { ok: true; pattern: string } | { ok: false; reason: string };

const REFUSED: [RegExp, string][] = [
  [/^\(\?P=/, 'backreferences such as (?P=name) are not supported (RE2 matches in linear time)'],
  [/^\\[1-9]/, 'backreferences such as \\1 are not supported (RE2 matches in linear time)'],
  [/^\(\?<?[=!]/, 'lookahead and lookbehind assertions are not supported by RE2'],
  [/^\(\?\(/, 'conditional groups (?(…)…) are not supported by RE2'],
  [/^\(\?[a-wyzA-Z]*x/, 'verbose mode (?x) is not supported by RE2'],
  [/^\(\?#/, 'comment groups (?#…) are not supported by RE2'],
];

/** Translates Python `re` syntax to RE2 syntax, or says why the pattern cannot be used. */
export function translatePythonRegex(pattern: string): RegexCheck {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) return { ok: false, reason: 'the pattern ends with a lone backslash' };
      if (!inClass) {
        for (const [re, reason] of REFUSED) if (re.test(pattern.slice(i))) return { ok: false, reason };
        if (next === 'Z') {
          out += '\\z';
          i++;
          continue;
        }
      }
      out += c + next;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A ']' first in a class (after an optional '^') is a literal, not the end of the class.
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += pattern[++i];
      continue;
    }
    if (c === '(') {
      for (const [re, reason] of REFUSED) if (re.test(pattern.slice(i))) return { ok: false, reason };
    }
    out += c;
  }
  return { ok: true, pattern: out };
}

/** A case-insensitive RE2 search for an operator pattern, or the reason it was refused. */
export function compileRuleRegex(
  pattern: string,
): { ok: true; re: RE2JS; pattern: string } | { ok: false; reason: string } {
  const t = translatePythonRegex(pattern);
  if (!t.ok) return t;
  try {
    return { ok: true, re: RE2JS.compile(t.pattern, RE2JS.CASE_INSENSITIVE), pattern: t.pattern };
  } catch (err) {
    return { ok: false, reason: `invalid regex: ${(err as Error).message}` };
  }
}
