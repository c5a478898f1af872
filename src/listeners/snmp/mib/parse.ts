// SMIv1/SMIv2 MIB module parser (RFC 1155/1212/1215, RFC 2578/2579/2580), reduced to what naming
// notifications needs: module names and IMPORTS, every OID assignment (OBJECT IDENTIFIER values and
// the OBJECT-TYPE, NOTIFICATION-TYPE, TRAP-TYPE, MODULE-IDENTITY, OBJECT-IDENTITY, group, compliance
// and capabilities macros), object SYNTAX with enumerations and BITS, and textual conventions with
// their DISPLAY-HINT. Everything else (descriptions, MACRO bodies, SEQUENCE types, constraints) is
// skipped by balanced scanning. Resolution of OIDs across modules happens in store.ts.
//
// Errors are MibSyntaxError with a line number; one broken module never stops the others.

export class MibSyntaxError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'MibSyntaxError';
    this.line = line;
  }
}

type Kind = 'id' | 'num' | 'str' | 'bin' | 'punct';
interface Token {
  k: Kind;
  v: string;
  line: number;
}

const PUNCT3 = ['::='];
const PUNCT2 = ['..'];
const PUNCT1 = new Set([
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ',',
  ';',
  '|',
  '.',
  '<',
  '>',
  '@',
  '!',
  '-',
  ':',
  '=',
  '+',
  '*',
  '^',
]);

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    // ASN.1 comment: from "--" to the next "--" or the end of the line.
    if (c === 45 && text.charCodeAt(i + 1) === 45) {
      i += 2;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 10) break;
        if (d === 45 && text.charCodeAt(i + 1) === 45) {
          i += 2;
          break;
        }
        i++;
      }
      continue;
    }
    if (c === 34) {
      const start = line;
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== 34) {
        if (text.charCodeAt(j) === 10) line++;
        j++;
      }
      if (j >= n) throw new MibSyntaxError('unterminated string', start);
      out.push({ k: 'str', v: text.slice(i + 1, j), line: start });
      i = j + 1;
      continue;
    }
    if (c === 39) {
      // '0101'B or 'FF'H
      const j = text.indexOf("'", i + 1);
      if (j < 0 || !/[bBhH]/.test(text[j + 1] ?? ''))
        throw new MibSyntaxError('malformed binary or hex string', line);
      out.push({ k: 'bin', v: text.slice(i + 1, j), line });
      i = j + 2;
      continue;
    }
    if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
      out.push({ k: 'num', v: text.slice(i, j), line });
      i = j;
      continue;
    }
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        const word = (d >= 65 && d <= 90) || (d >= 97 && d <= 122) || (d >= 48 && d <= 57) || d === 95;
        // A hyphen belongs to the identifier unless it starts a comment or ends the word.
        const hyphen = d === 45 && text.charCodeAt(j + 1) !== 45 && /[A-Za-z0-9]/.test(text[j + 1] ?? '');
        if (!word && !hyphen) break;
        j++;
      }
      out.push({ k: 'id', v: text.slice(i, j), line });
      i = j;
      continue;
    }
    const three = text.slice(i, i + 3);
    if (PUNCT3.includes(three)) {
      out.push({ k: 'punct', v: three, line });
      i += 3;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (PUNCT2.includes(two)) {
      out.push({ k: 'punct', v: two, line });
      i += 2;
      continue;
    }
    if (PUNCT1.has(text[i]!)) {
      out.push({ k: 'punct', v: text[i]!, line });
      i++;
      continue;
    }
    throw new MibSyntaxError(`unexpected character ${JSON.stringify(text[i])}`, line);
  }
  return out;
}

/** One element of an OID value: `parent`, `3`, or `org(3)`. */
export type OidElement = { name: string; number?: number } | { number: number };

export interface TypeRef {
  /** Base type keyword or the name of a textual convention / defined type. */
  base: string;
  enums?: [number, string][];
  bits?: [number, string][];
}

export type DefKind =
  | 'oid'
  | 'object'
  | 'notification'
  | 'trap'
  | 'module-identity'
  | 'object-identity'
  | 'group'
  | 'compliance'
  | 'capabilities';

export interface OidDef {
  name: string;
  kind: DefKind;
  /** OID value elements; for a TRAP-TYPE: the enterprise and the specific number. */
  value: OidElement[];
  enterprise?: string;
  specific?: number;
  syntax?: TypeRef;
  line: number;
}

export interface TypeDef {
  name: string;
  syntax: TypeRef;
  hint?: string;
}

export interface ParsedModule {
  name: string;
  /** symbol → module it is imported from */
  imports: Map<string, string>;
  importModules: string[];
  oids: OidDef[];
  types: Map<string, TypeDef>;
  /** Imports SNMPv2-SMI: an SMIv2 module (preferred over SMIv1 ones defining the same OID). */
  smiv2: boolean;
}

const MACROS: Record<string, DefKind> = {
  'OBJECT-TYPE': 'object',
  'NOTIFICATION-TYPE': 'notification',
  'TRAP-TYPE': 'trap',
  'MODULE-IDENTITY': 'module-identity',
  'OBJECT-IDENTITY': 'object-identity',
  'OBJECT-GROUP': 'group',
  'NOTIFICATION-GROUP': 'group',
  'MODULE-COMPLIANCE': 'compliance',
  'AGENT-CAPABILITIES': 'capabilities',
};

class Parser {
  private readonly t: Token[];
  private i = 0;

  constructor(tokens: Token[]) {
    this.t = tokens;
  }

  private get line(): number {
    return (this.t[this.i] ?? this.t.at(-1))?.line ?? 0;
  }
  private peek(o = 0): Token | undefined {
    return this.t[this.i + o];
  }
  private next(): Token {
    const tok = this.t[this.i++];
    if (!tok) throw new MibSyntaxError('unexpected end of file', this.t.at(-1)?.line ?? 0);
    return tok;
  }
  private is(v: string, o = 0): boolean {
    return this.t[this.i + o]?.v === v;
  }
  private expect(v: string): Token {
    const tok = this.next();
    if (tok.v !== v) throw new MibSyntaxError(`expected "${v}", found "${tok.v}"`, tok.line);
    return tok;
  }
  private ident(): string {
    const tok = this.next();
    if (tok.k !== 'id') throw new MibSyntaxError(`expected a name, found "${tok.v}"`, tok.line);
    return tok.v;
  }

  get done(): boolean {
    return this.i >= this.t.length;
  }

  /** Skips a balanced group starting at the current opening bracket. */
  private skipGroup(): void {
    const open = this.next();
    const close = open.v === '{' ? '}' : open.v === '(' ? ')' : ']';
    let depth = 1;
    while (depth > 0) {
      const tok = this.next();
      if (tok.k !== 'punct') continue;
      if (tok.v === open.v) depth++;
      else if (tok.v === close) depth--;
    }
  }

  module(): ParsedModule {
    const name = this.ident();
    if (this.is('{')) this.skipGroup(); // module OID (ASN.1 form), unused by SMI
    this.expect('DEFINITIONS');
    while (!this.is('::=')) this.next(); // IMPLICIT TAGS etc.
    this.expect('::=');
    this.expect('BEGIN');
    const m: ParsedModule = {
      name,
      imports: new Map(),
      importModules: [],
      oids: [],
      types: new Map(),
      smiv2: false,
    };
    for (let guard = 0; ; guard++) {
      if (guard > 1_000_000) throw new MibSyntaxError('parser made no progress', this.line);
      const tok = this.peek();
      if (!tok) throw new MibSyntaxError(`module ${name} has no END`, this.line);
      if (tok.v === 'END') {
        this.next();
        break;
      }
      if (tok.v === 'IMPORTS') this.imports(m);
      else if (tok.v === 'EXPORTS') while (this.next().v !== ';');
      else this.assignment(m);
    }
    m.smiv2 = m.importModules.includes('SNMPv2-SMI');
    return m;
  }

  private imports(m: ParsedModule): void {
    this.expect('IMPORTS');
    let symbols: string[] = [];
    for (;;) {
      const tok = this.next();
      if (tok.v === ';') break;
      if (tok.v === ',') continue;
      if (tok.v === 'FROM') {
        const from = this.ident();
        if (this.is('{')) this.skipGroup();
        for (const s of symbols) m.imports.set(s, from);
        if (!m.importModules.includes(from)) m.importModules.push(from);
        symbols = [];
        continue;
      }
      if (tok.k !== 'id') throw new MibSyntaxError(`unexpected "${tok.v}" in IMPORTS`, tok.line);
      symbols.push(tok.v);
    }
  }

  private assignment(m: ParsedModule): void {
    const start = this.line;
    const name = this.ident();
    const nxt = this.peek();
    if (!nxt) throw new MibSyntaxError('unexpected end of file', start);
    if (nxt.v === 'MACRO') {
      // A macro definition (SNMPv2-SMI, RFC-1212 …): its body is ASN.1 notation, not definitions.
      while (this.next().v !== 'END');
      return;
    }
    if (nxt.v === '::=') {
      this.next();
      this.typeAssignment(m, name);
      return;
    }
    if (nxt.v === 'OBJECT' && this.is('IDENTIFIER', 1)) {
      this.next();
      this.next();
      this.expect('::=');
      m.oids.push({ name, kind: 'oid', value: this.oidValue(), line: start });
      return;
    }
    const kind = MACROS[nxt.v];
    if (kind) {
      this.next();
      this.macro(m, name, kind, start);
      return;
    }
    // Another value assignment (`name Type ::= value`): not an OID, skipped.
    while (!this.is('::=')) {
      if (this.is('{') || this.is('(') || this.is('[')) this.skipGroup();
      else this.next();
    }
    this.next();
    if (this.is('{')) this.skipGroup();
    else this.next();
  }

  private macro(m: ParsedModule, name: string, kind: DefKind, line: number): void {
    let syntax: TypeRef | undefined;
    let enterprise: string | undefined;
    while (!this.is('::=')) {
      const tok = this.peek();
      if (!tok) throw new MibSyntaxError(`${name}: missing "::="`, line);
      if (tok.v === 'SYNTAX' && kind === 'object' && syntax === undefined) {
        this.next();
        syntax = this.type();
      } else if (tok.v === 'ENTERPRISE' && kind === 'trap') {
        this.next();
        enterprise = this.ident();
      } else if (tok.v === '{' || tok.v === '(' || tok.v === '[') {
        this.skipGroup();
      } else {
        this.next();
      }
    }
    this.expect('::=');
    if (kind === 'trap') {
      const num = this.next();
      if (num.k !== 'num')
        throw new MibSyntaxError(`${name}: TRAP-TYPE needs a number after "::="`, num.line);
      if (!enterprise) throw new MibSyntaxError(`${name}: TRAP-TYPE without ENTERPRISE`, line);
      m.oids.push({ name, kind, value: [], enterprise, specific: Number(num.v), line });
      return;
    }
    m.oids.push({ name, kind, value: this.oidValue(), syntax, line });
  }

  private typeAssignment(m: ParsedModule, name: string): void {
    if (this.is('TEXTUAL-CONVENTION')) {
      this.next();
      let hint: string | undefined;
      for (;;) {
        const tok = this.next();
        if (tok.v === 'DISPLAY-HINT') {
          const s = this.next();
          if (s.k === 'str') hint = s.v;
        } else if (tok.v === 'SYNTAX') {
          m.types.set(name, { name, syntax: this.type(), hint });
          return;
        } else if (tok.v === '::=' || tok.v === 'END') {
          throw new MibSyntaxError(`textual convention ${name} has no SYNTAX`, tok.line);
        }
      }
    }
    const syntax = this.type();
    m.types.set(name, { name, syntax });
  }

  /** Parses a type (after SYNTAX or `Name ::=`), keeping base, enumerations and BITS names. */
  private type(): TypeRef {
    while (this.is('[')) {
      this.skipGroup();
      if (this.is('IMPLICIT') || this.is('EXPLICIT')) this.next();
    }
    const tok = this.next();
    let base = tok.v;
    if (tok.k !== 'id') throw new MibSyntaxError(`expected a type, found "${tok.v}"`, tok.line);
    if (base === 'OCTET' || base === 'OBJECT') {
      const second = this.ident();
      base = `${base} ${second}`;
    } else if (base === 'SEQUENCE' || base === 'SET' || base === 'CHOICE') {
      if (this.is('OF')) {
        this.next();
        const inner = this.type();
        return { base: `SEQUENCE OF ${inner.base}` };
      }
      if (this.is('{')) this.skipGroup();
      return { base };
    }
    const ref: TypeRef = { base };
    if (this.is('{')) {
      const named = this.namedNumbers();
      if (base === 'BITS') ref.bits = named;
      else ref.enums = named;
    }
    while (this.is('(')) this.skipGroup();
    return ref;
  }

  private namedNumbers(): [number, string][] {
    this.expect('{');
    const out: [number, string][] = [];
    for (;;) {
      const tok = this.next();
      if (tok.v === '}') break;
      if (tok.v === ',') continue;
      if (tok.k !== 'id') throw new MibSyntaxError(`expected a label, found "${tok.v}"`, tok.line);
      this.expect('(');
      let neg = false;
      if (this.is('-')) {
        this.next();
        neg = true;
      }
      const num = this.next();
      if (num.k !== 'num') throw new MibSyntaxError(`expected a number for ${tok.v}`, num.line);
      this.expect(')');
      out.push([neg ? -Number(num.v) : Number(num.v), tok.v]);
    }
    return out;
  }

  private oidValue(): OidElement[] {
    this.expect('{');
    const out: OidElement[] = [];
    for (;;) {
      const tok = this.next();
      if (tok.v === '}') break;
      if (tok.k === 'num') out.push({ number: Number(tok.v) });
      else if (tok.k === 'id') {
        if (this.is('(')) {
          this.next();
          const num = this.next();
          if (num.k !== 'num') throw new MibSyntaxError(`expected a number in ${tok.v}(…)`, num.line);
          this.expect(')');
          out.push({ name: tok.v, number: Number(num.v) });
        } else out.push({ name: tok.v });
      } else throw new MibSyntaxError(`unexpected "${tok.v}" in an OID value`, tok.line);
    }
    if (out.length === 0) throw new MibSyntaxError('empty OID value', this.line);
    return out;
  }
}

export interface ParseResult {
  modules: ParsedModule[];
  /** Set when the file stopped parsing; modules before the error are kept. */
  error?: MibSyntaxError;
}

/** Parses every module in a file's text. */
export function parseMib(text: string): ParseResult {
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (err) {
    if (err instanceof MibSyntaxError) return { modules: [], error: err };
    throw err;
  }
  const p = new Parser(tokens);
  const modules: ParsedModule[] = [];
  while (!p.done) {
    try {
      modules.push(p.module());
    } catch (err) {
      if (err instanceof MibSyntaxError) return { modules, error: err };
      throw err;
    }
  }
  return { modules };
}
