// The MIB store: loads the MIB files of SNMP_MIB_DIRS, resolves every OID across modules in
// dependency order, and translates numeric OIDs by longest prefix into `MODULE::name` plus the
// instance suffix (`1.3.6.1.2.1.2.2.1.8.3` → `IF-MIB::ifOperStatus.3`), with the object's syntax for
// decoding enumerations, BITS and DISPLAY-HINTs.
//
// Choices (documented in docs/SNMP.md):
// - a module found in several directories is taken from the first directory that has a copy that
//   parses; a file or module that does not parse is reported and skipped, never fatal;
// - an OID defined by both an SMIv2 and an SMIv1 module (IF-MIB and RFC1213-MIB) is named by the
//   SMIv2 one; otherwise the module loaded first (dependencies first, then directory order) wins;
// - the SMI skeleton (SNMPv2-SMI, RFC1155-SMI: iso, internet, enterprises…) never names an OID on its
//   own: an OID below `enterprises` that no loaded MIB defines stays numeric.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LruMap } from '../lru.ts';
import {
  type DefKind,
  type OidDef,
  type ParsedModule,
  parseMib,
  type TypeDef,
  type TypeRef,
} from './parse.ts';

export interface ResolvedSyntax {
  /** Primitive SMI type after following textual conventions (`INTEGER`, `OCTET STRING`, …). */
  base: string;
  /** The textual convention or defined type named in SYNTAX, if any. */
  tc?: string;
  enums?: ReadonlyMap<number, string>;
  bits?: ReadonlyMap<number, string>;
  hint?: string;
}

export interface MibNode {
  oid: string;
  module: string;
  name: string;
  kind: DefKind | 'label';
  syntax?: ResolvedSyntax;
  /** Part of the SMI skeleton: used to resolve names, never to name an OID. */
  structural: boolean;
  smiv2: boolean;
}

export interface Translation {
  node: MibNode;
  /** Instance suffix including its leading dot (`.3`), or empty. */
  suffix: string;
  /** `MODULE::name.suffix` */
  text: string;
}

export interface MibLoadReport {
  files: number;
  modules: number;
  nodes: number;
  /** Files or modules that could not be used (each names the file and why). */
  problems: string[];
  /** Usable but incomplete modules (missing imports, unresolvable definitions). */
  warnings: string[];
  missingDirs: string[];
  ms: number;
}

const STRUCTURAL_MODULES = new Set(['SNMPv2-SMI', 'RFC1155-SMI']);
const ROOTS: Record<string, number> = { ccitt: 0, iso: 1, 'joint-iso-ccitt': 2 };
const PRIMITIVES = new Set([
  'INTEGER',
  'Integer32',
  'Unsigned32',
  'Counter32',
  'Counter',
  'Gauge32',
  'Gauge',
  'TimeTicks',
  'Counter64',
  'OCTET STRING',
  'OBJECT IDENTIFIER',
  'IpAddress',
  'NetworkAddress',
  'Opaque',
  'BITS',
]);
/** MIB files: no extension (`IF-MIB`, as Net-SNMP installs them) or a MIB extension. */
const MIB_FILE = /^[^.]+$|^[^.].*\.(txt|mib|my|smi|asn1?)$/i;
const MAX_FILE_BYTES = 16 * 1024 * 1024;

interface Module extends ParsedModule {
  file: string;
  defs: Map<string, OidDef>;
}

export class MibStore {
  private readonly byOid = new Map<string, MibNode>();
  private readonly byName = new Map<string, MibNode>();
  private readonly cache = new LruMap<string, Translation | null>(20_000);
  readonly report: MibLoadReport;

  private constructor(report: MibLoadReport) {
    this.report = report;
  }

  get size(): number {
    return this.byOid.size;
  }

  /** Reads every MIB file of the directories (missing directories are listed, not fatal). */
  static load(dirs: readonly string[]): MibStore {
    const started = performance.now();
    const sources: { file: string; text: string }[] = [];
    const problems: string[] = [];
    const missingDirs: string[] = [];
    for (const dir of dirs) {
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        missingDirs.push(dir);
        continue;
      }
      for (const name of names) {
        if (!MIB_FILE.test(name) || name.endsWith('.index')) continue;
        const file = join(dir, name);
        try {
          const st = statSync(file);
          if (!st.isFile()) continue;
          if (st.size > MAX_FILE_BYTES) {
            problems.push(`${file}: larger than 16 MiB, skipped`);
            continue;
          }
          sources.push({ file, text: readFileSync(file, 'latin1') });
        } catch (err) {
          problems.push(
            `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
          );
        }
      }
    }
    const store = MibStore.fromSources(sources, problems);
    store.report.missingDirs = missingDirs;
    store.report.ms = Math.round(performance.now() - started);
    return store;
  }

  /** Builds a store from MIB texts (files in priority order). */
  static fromSources(sources: readonly { file: string; text: string }[], problems: string[] = []): MibStore {
    const started = performance.now();
    const modules = new Map<string, Module>();
    for (const { file, text } of sources) {
      const r = parseMib(text);
      if (r.error)
        problems.push(
          `${file}: ${r.error.message}${r.modules.length > 0 ? ' (modules before it were kept)' : ''}; skipped`,
        );
      for (const pm of r.modules) {
        if (modules.has(pm.name)) continue; // an earlier directory wins
        const defs = new Map<string, OidDef>();
        for (const d of pm.oids) defs.set(d.name, d);
        modules.set(pm.name, { ...pm, file, defs });
      }
    }
    const store = new MibStore({
      files: sources.length,
      modules: modules.size,
      nodes: 0,
      problems,
      warnings: [],
      missingDirs: [],
      ms: 0,
    });
    store.build(modules);
    store.report.nodes = store.byOid.size;
    store.report.ms = Math.round(performance.now() - started);
    return store;
  }

  private build(modules: Map<string, Module>): void {
    const warnings = this.report.warnings;
    // Dependencies first (depth-first post-order over IMPORTS); cycles are tolerated.
    const order: Module[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (m: Module) => {
      if (state.has(m.name)) return;
      state.set(m.name, 'visiting');
      for (const dep of m.importModules) {
        const d = modules.get(dep);
        if (d) visit(d);
      }
      state.set(m.name, 'done');
      order.push(m);
    };
    for (const name of [...modules.keys()].sort()) visit(modules.get(name)!);

    const resolved = new Map<string, number[] | null>();
    const labels = new Map<string, Map<string, number[]>>(); // module → label → oid (from name(number) forms)
    const resolveName = (mod: Module, name: string, depth: number): number[] | undefined => {
      if (depth > 64) return undefined;
      if (name in ROOTS) return [ROOTS[name]!];
      const def = mod.defs.get(name);
      if (def) return resolveDef(mod, def, depth + 1);
      const label = labels.get(mod.name)?.get(name);
      if (label) return label;
      const from = mod.imports.get(name);
      if (from) {
        const other = modules.get(from);
        if (other) return resolveName(other, name, depth + 1);
      }
      return undefined;
    };
    const resolveDef = (mod: Module, def: OidDef, depth: number): number[] | undefined => {
      const key = `${mod.name}::${def.name}`;
      const memo = resolved.get(key);
      if (memo !== undefined) return memo ?? undefined;
      resolved.set(key, null); // breaks cycles
      let oid: number[] | undefined;
      if (def.kind === 'trap') {
        const ent = resolveName(mod, def.enterprise!, depth);
        oid = ent ? [...ent, 0, def.specific!] : undefined;
      } else {
        const [first, ...rest] = def.value;
        let base: number[] | undefined;
        if (first && 'name' in first) {
          base = first.number !== undefined ? [first.number] : resolveName(mod, first.name, depth);
        } else if (first) base = [first.number];
        if (base) {
          oid = [...base];
          for (const el of rest) {
            if (el.number === undefined) {
              oid = undefined; // a name after the first element is not SMI
              break;
            }
            oid.push(el.number);
            if ('name' in el && !mod.defs.has(el.name)) {
              let l = labels.get(mod.name);
              if (!l) labels.set(mod.name, (l = new Map<string, number[]>()));
              if (!l.has(el.name)) l.set(el.name, [...oid]);
            }
          }
        }
      }
      resolved.set(key, oid ?? null);
      return oid;
    };

    for (const mod of order) {
      let unresolved = 0;
      let firstUnresolved = '';
      for (const def of mod.oids) {
        const oid = resolveDef(mod, def, 0);
        if (!oid) {
          if (unresolved++ === 0) firstUnresolved = def.name;
          continue;
        }
        this.add({
          oid: oid.join('.'),
          module: mod.name,
          name: def.name,
          kind: def.kind,
          syntax: def.syntax ? this.resolveSyntax(modules, mod, def.syntax) : undefined,
          structural: STRUCTURAL_MODULES.has(mod.name),
          smiv2: mod.smiv2,
        });
      }
      for (const [label, oid] of labels.get(mod.name) ?? []) {
        this.add({
          oid: oid.join('.'),
          module: mod.name,
          name: label,
          kind: 'label',
          structural: true,
          smiv2: mod.smiv2,
        });
      }
      if (unresolved > 0) {
        // Missing imported modules are the usual cause; they are named only when they matter.
        const missing = mod.importModules.filter((d) => !modules.has(d));
        warnings.push(
          `${mod.file}: ${mod.name}: ${unresolved} definition(s) could not be placed in the OID tree (first: ${firstUnresolved})` +
            (missing.length > 0 ? `; not in SNMP_MIB_DIRS: ${missing.join(', ')}` : ''),
        );
      }
    }
  }

  private add(node: MibNode): void {
    const existing = this.byOid.get(node.oid);
    const better =
      !existing ||
      (existing.structural && !node.structural) ||
      (existing.kind === 'label' && node.kind !== 'label') ||
      (!existing.smiv2 && node.smiv2 && existing.structural === node.structural);
    if (better) this.byOid.set(node.oid, node);
    const qualified = `${node.module}::${node.name}`;
    if (!this.byName.has(qualified)) this.byName.set(qualified, node);
  }

  private resolveSyntax(modules: Map<string, Module>, mod: Module, ref: TypeRef): ResolvedSyntax {
    const out: {
      base: string;
      tc?: string;
      enums?: Map<number, string>;
      bits?: Map<number, string>;
      hint?: string;
    } = {
      base: ref.base,
    };
    if (ref.enums) out.enums = new Map(ref.enums);
    if (ref.bits) out.bits = new Map(ref.bits);
    let cur: { mod: Module; ref: TypeRef } | undefined = { mod, ref };
    for (let depth = 0; cur && depth < 16; depth++) {
      const r: TypeRef = cur.ref;
      const m: Module = cur.mod;
      if (PRIMITIVES.has(r.base)) {
        out.base = r.base === 'Counter' ? 'Counter32' : r.base === 'Gauge' ? 'Gauge32' : r.base;
        break;
      }
      out.tc ??= r.base;
      // Find the type definition in the module or where it is imported from.
      let owner: Module | undefined = m;
      let def: TypeDef | undefined = m.types.get(r.base);
      for (let hop = 0; !def && owner && hop < 8; hop++) {
        const from = owner.imports.get(r.base);
        owner = from ? modules.get(from) : undefined;
        def = owner?.types.get(r.base);
      }
      if (!def || !owner) {
        out.base = BUILTIN_TCS[r.base]?.base ?? r.base;
        out.hint ??= BUILTIN_TCS[r.base]?.hint;
        break;
      }
      out.hint ??= def.hint;
      if (!out.enums && def.syntax.enums) out.enums = new Map(def.syntax.enums);
      if (!out.bits && def.syntax.bits) out.bits = new Map(def.syntax.bits);
      cur = { mod: owner, ref: def.syntax };
    }
    return out;
  }

  /** Longest-prefix translation; undefined when no loaded MIB names any prefix of the OID. */
  translate(oid: string): Translation | undefined {
    // peek: recency hardly matters for a cache of trap OIDs, and a lookup stays two hash probes.
    const hit = this.cache.peek(oid);
    if (hit !== undefined) return hit ?? undefined;
    let p = oid;
    let result: Translation | null = null;
    for (;;) {
      const node = this.byOid.get(p);
      if (node && !node.structural) {
        const suffix = oid.slice(p.length);
        result = { node, suffix, text: `${node.module}::${node.name}${suffix}` };
        break;
      }
      const i = p.lastIndexOf('.');
      if (i <= 0) break;
      p = p.slice(0, i);
    }
    this.cache.set(oid, result);
    return result ?? undefined;
  }

  /** `MODULE::name[.suffix]` (or a bare name, searched in every module) → numeric OID. */
  resolve(name: string): string | undefined {
    const m = /^(?:([A-Za-z][\w-]*)::)?([A-Za-z][\w-]*)((?:\.\d+)*)$/.exec(name.trim());
    if (!m) return undefined;
    const [, module, label, suffix] = m;
    let node: MibNode | undefined;
    if (module) node = this.byName.get(`${module}::${label}`);
    else for (const [k, n] of this.byName) if (k.endsWith(`::${label}`) && (node = n)) break;
    return node ? `${node.oid}${suffix ?? ''}` : undefined;
  }
}

/** Textual conventions MUTT knows even when SNMPv2-TC is not loaded. */
const BUILTIN_TCS: Record<string, { base: string; hint?: string }> = {
  DisplayString: { base: 'OCTET STRING', hint: '255a' },
  SnmpAdminString: { base: 'OCTET STRING', hint: '255t' },
  PhysAddress: { base: 'OCTET STRING', hint: '1x:' },
  MacAddress: { base: 'OCTET STRING', hint: '1x:' },
  TruthValue: { base: 'INTEGER' },
};
