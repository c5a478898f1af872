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

const QUANTIFIER_BRACES = /^\{\d+(?:,\d*)?\}/;

/**
 * A literal that every match of an RE2 pattern contains, lower-cased (ASCII only, at least 3
 * characters), or undefined when none can be told. Read conservatively from the pattern text:
 * only characters outside any group or class, in a pattern without a top-level `|`, and not made
 * optional by a following `*`, `?` or `{…}`. The matcher uses it to skip regexes whose literal an
 * ASCII message does not contain. Lower-casing is exact for ASCII only (case-insensitive RE2 also
 * matches `s` to `ſ` and `k` to the Kelvin sign), so a message with any non-ASCII character is
 * always tried against every regex.
 */
export function requiredLiteral(pattern: string): string | undefined {
  let best = '';
  let run = '';
  let lastWasLiteral = false;
  const end = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  const skipClass = (i: number): number => {
    // From '[' to its closing ']' (a ']' right after '[' or '[^' is a member; escapes skip a char).
    let j = i + 1;
    if (pattern[j] === '^') j++;
    if (pattern[j] === ']') j++;
    for (; j < pattern.length; j++) {
      if (pattern[j] === '\\') j++;
      else if (pattern[j] === '[' && pattern[j + 1] === ':') {
        // A POSIX class ([:digit:], [:^space:]) inside the class: its ']' does not close the class.
        const close = pattern.indexOf(':]', j + 2);
        if (close === -1) return pattern.length;
        j = close + 1;
      } else if (pattern[j] === ']') return j;
    }
    return pattern.length;
  };
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && pattern[i + 1] === 'Q') {
      // \Q…\E quotes literally (no group, no alternation inside): not used, but skipped whole.
      const e = pattern.indexOf('\\E', i + 2);
      end();
      lastWasLiteral = false;
      if (e === -1) break;
      i = e + 1;
      continue;
    }
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '[') i = skipClass(i);
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (c === '|') return undefined;
    if (c === '*' || c === '?' || c === '{') {
      if (c === '{') {
        const q = QUANTIFIER_BRACES.exec(pattern.slice(i));
        if (q) i += q[0].length - 1;
      }
      // The atom before is optional: it cannot be part of a required literal.
      if (lastWasLiteral) run = run.slice(0, -1);
      end();
      if (pattern[i + 1] === '?') i++; // lazy
      lastWasLiteral = false;
      continue;
    }
    if (c === '+') {
      end(); // the atom before is required once, but what follows need not come right after it
      if (pattern[i + 1] === '?') i++;
      lastWasLiteral = false;
      continue;
    }
    if (c === '(') {
      end();
      depth++;
      lastWasLiteral = false;
      continue;
    }
    if (c === '[') {
      end();
      i = skipClass(i);
      lastWasLiteral = false;
      continue;
    }
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n !== undefined && /^[!-/:-@[-`{-~]$/.test(n)) {
        // An escaped ASCII punctuation character is that character.
        run += n;
        i++;
        lastWasLiteral = true;
        continue;
      }
      // A class (\d \w \s \pL \p{Greek}), an assertion (\b \A \z), a code (\x41 \x{263a} \0 \n):
      // not a literal. Its arguments are skipped so they are not read as literals.
      end();
      lastWasLiteral = false;
      i++;
      if (n === 'p' || n === 'P' || n === 'x') {
        if (pattern[i + 1] === '{') {
          const close = pattern.indexOf('}', i + 1);
          i = close === -1 ? pattern.length : close;
        } else i += n === 'x' ? 2 : 1;
      } else if (n !== undefined && n >= '0' && n <= '7') {
        while (i + 1 < pattern.length && pattern[i + 1]! >= '0' && pattern[i + 1]! <= '7') i++;
      }
      continue;
    }
    if (c === '.' || c === '^' || c === '$' || c === ')' || c.charCodeAt(0) > 127 || c.charCodeAt(0) < 32) {
      end();
      lastWasLiteral = false;
      continue;
    }
    run += c.toLowerCase();
    lastWasLiteral = true;
  }
  end();
  return best.length >= 3 ? best : undefined;
}
