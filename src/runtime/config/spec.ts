// Typed environment-variable specifications.
//
// Every setting MUTT reads is declared once with one of the builders below: its name (the MUTT 2.x
// name where one exists), its type, default, bounds and documentation. The loader validates all of
// them in one pass and the configuration reference in docs/ is generated from the same declarations,
// so code, validation and documentation cannot drift apart.

export type ParseResult<T> = { ok: true; value: T } | { ok: false; expected: string };

export interface VarSpec<T> {
  readonly kind: string;
  /** Section in the configuration reference. */
  readonly group: string;
  readonly doc: string;
  /** Value used when the variable is unset or empty; `undefined` means "not set". */
  readonly default: T;
  /** How the default is shown in the reference (e.g. "derived from MUTT_DATA_DIR"). */
  readonly defaultText?: string;
  /** Secrets are never printed and may also be read from `<NAME>_FILE`. */
  readonly secret?: boolean;
  /** Shown in the reference when MUTT treats a MUTT 2.x variable differently. */
  readonly note?: string;
  parse(raw: string): ParseResult<T>;
  /** Human description of what a valid value looks like. */
  readonly expected: string;
}

interface Common<T> {
  group: string;
  doc: string;
  default: T;
  defaultText?: string;
  note?: string;
}

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const bad = <T>(expected: string): ParseResult<T> => ({ ok: false, expected });

const INT_RE = /^[+-]?\d+$/;

export function int<D extends number | undefined>(
  o: Common<D> & { min?: number; max?: number },
): VarSpec<number | D> {
  const min = o.min ?? Number.MIN_SAFE_INTEGER;
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  const expected =
    o.min !== undefined && o.max !== undefined
      ? `an integer from ${min} to ${max}`
      : o.min !== undefined
        ? `an integer >= ${min}`
        : 'an integer';
  return {
    kind: 'integer',
    ...o,
    expected,
    parse(raw) {
      if (!INT_RE.test(raw)) return bad(expected);
      const n = Number(raw);
      return n >= min && n <= max ? ok(n) : bad(expected);
    },
  };
}

export function port<D extends number | undefined>(
  o: Common<D> & { allowZero?: boolean },
): VarSpec<number | D> {
  const min = o.allowZero ? 0 : 1;
  const expected = o.allowZero ? 'a port from 1 to 65535, or 0 to disable' : 'a port from 1 to 65535';
  const base = int({ ...o, min, max: 65535 });
  return {
    ...base,
    kind: 'port',
    expected,
    parse: (raw) => (base.parse(raw).ok ? base.parse(raw) : bad(expected)),
  };
}

export function float<D extends number | undefined>(
  o: Common<D> & { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean },
): VarSpec<number | D> {
  const upper = o.max !== undefined ? ` and ${o.exclusiveMax ? '<' : '<='} ${o.max}` : '';
  const expected =
    o.min !== undefined ? `a number ${o.exclusiveMin ? '>' : '>='} ${o.min}${upper}` : 'a number';
  return {
    kind: 'number',
    ...o,
    expected,
    parse(raw) {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return bad(expected);
      const n = Number(raw);
      if (!Number.isFinite(n)) return bad(expected);
      if (o.min !== undefined && (o.exclusiveMin ? n <= o.min : n < o.min)) return bad(expected);
      if (o.max !== undefined && (o.exclusiveMax ? n >= o.max : n > o.max)) return bad(expected);
      return ok(n);
    },
  };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function bool<D extends boolean | undefined>(o: Common<D>): VarSpec<boolean | D> {
  const expected = 'true or false (also 1/0, yes/no, on/off)';
  return {
    kind: 'boolean',
    ...o,
    expected,
    parse(raw) {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return ok(true);
      if (FALSE.has(v)) return ok(false);
      return bad(expected);
    },
  };
}

export function str<D extends string | undefined>(
  o: Common<D> & { pattern?: RegExp; patternText?: string; secret?: boolean },
): VarSpec<string | D> {
  const expected = o.patternText ?? 'a string';
  return {
    kind: o.secret ? 'secret' : 'string',
    ...o,
    expected,
    parse(raw) {
      if (o.pattern && !o.pattern.test(raw)) return bad(expected);
      return ok(raw);
    },
  };
}

export function secret(o: Omit<Common<undefined>, 'default'>): VarSpec<string | undefined> {
  return str({ ...o, default: undefined, secret: true });
}

export function oneOf<const V extends string, D extends V | undefined>(
  o: Common<D> & { values: readonly V[]; aliases?: Record<string, V> },
): VarSpec<V | D> {
  const expected = `one of ${o.values.join(', ')}`;
  const lookup = new Map<string, V>();
  for (const v of o.values) lookup.set(v.toLowerCase(), v);
  for (const [alias, v] of Object.entries(o.aliases ?? {})) lookup.set(alias.toLowerCase(), v);
  return {
    kind: 'enum',
    ...o,
    expected,
    parse(raw) {
      const v = lookup.get(raw.toLowerCase());
      return v === undefined ? bad(expected) : ok(v);
    },
  };
}

/** Comma-separated list; every item is checked by `item` (if given). */
export function list<D extends readonly string[]>(
  o: Common<D> & { item?: (s: string) => boolean; itemText?: string },
): VarSpec<readonly string[] | D> {
  const expected = `a comma-separated list${o.itemText ? ` of ${o.itemText}` : ''}`;
  return {
    kind: 'list',
    ...o,
    expected,
    parse(raw) {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (items.length === 0) return bad(expected);
      if (o.item) {
        const wrong = items.filter((s) => !o.item!(s));
        if (wrong.length > 0) return bad(`${expected} (not valid: ${wrong.join(', ')})`);
      }
      return ok(Object.freeze(items));
    },
  };
}

export function url<D extends string | undefined>(
  o: Common<D> & { protocols: readonly string[] },
): VarSpec<string | D> {
  const expected = `a URL starting with ${o.protocols.map((p) => `${p}//`).join(' or ')}`;
  return {
    kind: 'url',
    ...o,
    expected,
    parse(raw) {
      try {
        const u = new URL(raw);
        return o.protocols.includes(u.protocol) ? ok(raw) : bad(expected);
      } catch {
        return bad(expected);
      }
    },
  };
}

export function path<D extends string | undefined>(o: Common<D>): VarSpec<string | D> {
  const expected = 'an absolute or relative file-system path';
  return {
    kind: 'path',
    ...o,
    expected,
    parse(raw) {
      return raw.includes('\0') ? bad(expected) : ok(raw);
    },
  };
}

/** The value type a spec produces. */
export type ValueOf<S> = S extends VarSpec<infer T> ? T : never;
export type Values<S extends Record<string, VarSpec<unknown>>> = { readonly [K in keyof S]: ValueOf<S[K]> };
