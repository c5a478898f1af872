// Parser for systemd `EnvironmentFile=` syntax (systemd.exec(5)), so /etc/mutt/mutt.env means the
// same thing whether systemd or MUTT reads it:
// - blank lines, lines starting with `#` or `;`, and lines without `=` are ignored;
// - unquoted values keep interior whitespace and drop leading/trailing whitespace; `\x` keeps `x`,
//   a trailing `\` continues the line; quotes inside an unquoted value are kept verbatim;
// - '…' is verbatim and may span lines; "…" may span lines and honours \" \\ \` \$ and \<newline>.
// No inline comments: `A=b # c` sets A to `b # c`, exactly as systemd does.

export interface EnvFileResult {
  values: Record<string, string>;
  problems: string[];
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnvFile(text: string, source = 'env file'): EnvFileResult {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  const s = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let i = 0;
  let line = 1;
  const n = s.length;

  const skipToEol = () => {
    while (i < n && s[i] !== '\n') i++;
  };

  while (i < n) {
    // Start of a logical line: skip leading whitespace.
    while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r')) i++;
    if (i >= n) break;
    const c = s[i];
    if (c === '\n') {
      i++;
      line++;
      continue;
    }
    if (c === '#' || c === ';') {
      skipToEol();
      continue;
    }
    const startLine = line;
    const eq = s.indexOf('=', i);
    const eol = s.indexOf('\n', i);
    if (eq === -1 || (eol !== -1 && eol < eq)) {
      skipToEol(); // a line without "=" is ignored, as systemd does
      continue;
    }
    const name = s.slice(i, eq).trim();
    i = eq + 1;
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    let value = '';
    let closed = true;
    if (s[i] === "'") {
      i++;
      const end = s.indexOf("'", i);
      if (end === -1) {
        closed = false;
        value = s.slice(i);
        i = n;
      } else {
        value = s.slice(i, end);
        for (let k = i; k < end; k++) if (s[k] === '\n') line++;
        i = end + 1;
      }
    } else if (s[i] === '"') {
      i++;
      closed = false;
      while (i < n) {
        const ch = s[i]!;
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        if (ch === '\\' && i + 1 < n) {
          const nx = s[i + 1]!;
          if (nx === '\n') {
            line++;
            i += 2;
            continue;
          }
          if (nx === '"' || nx === '\\' || nx === '`' || nx === '$') {
            value += nx;
            i += 2;
            continue;
          }
          value += ch + nx;
          i += 2;
          continue;
        }
        if (ch === '\n') line++;
        value += ch;
        i++;
      }
    } else {
      while (i < n && s[i] !== '\n') {
        const ch = s[i]!;
        if (ch === '\\' && i + 1 < n) {
          const nx = s[i + 1]!;
          i += 2;
          if (nx === '\n') {
            line++;
            continue;
          }
          value += nx;
          continue;
        }
        value += ch;
        i++;
      }
      value = value.replace(/[ \t\r]+$/, '');
    }
    if (!closed) {
      problems.push(`${source}:${startLine}: unterminated quoted value for ${name || '(no name)'}`);
      break;
    }
    // Anything after a closing quote up to the end of the line (other than whitespace) is kept.
    if (i < n && s[i] !== '\n') {
      const e = s.indexOf('\n', i);
      const rest = s.slice(i, e === -1 ? n : e);
      i += rest.length;
      const trimmed = rest.replace(/[ \t\r]+$/, '');
      value += trimmed;
    }
    if (!NAME_RE.test(name)) {
      problems.push(`${source}:${startLine}: "${name}" is not a valid variable name`);
      continue;
    }
    values[name] = value;
  }
  return { values, problems };
}
