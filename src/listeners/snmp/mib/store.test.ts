import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMib, tokenize } from './parse.ts';
import { MibStore } from './store.ts';

const ETC = resolve('etc/mibs');
const FIXTURES = resolve('test/fixtures/mibs');

let store: MibStore;
beforeAll(() => {
  store = MibStore.load([FIXTURES, ETC]);
});

describe('MIB store with the bundled IETF modules and the enterprise fixture', () => {
  it('loads every module without problems', () => {
    expect(store.report.problems).toEqual([]);
    expect(store.report.warnings).toEqual([]);
    expect(store.report.modules).toBe(11);
    expect(store.size).toBeGreaterThan(300);
  });

  it.each([
    ['1.3.6.1.6.3.1.1.5.3', 'IF-MIB::linkDown'],
    ['1.3.6.1.6.3.1.1.5.1', 'SNMPv2-MIB::coldStart'],
    ['1.3.6.1.2.1.2.2.1.8.3', 'IF-MIB::ifOperStatus.3'],
    ['1.3.6.1.2.1.2.2.1.8', 'IF-MIB::ifOperStatus'],
    ['1.3.6.1.2.1.31.1.1.1.1.12', 'IF-MIB::ifName.12'],
    ['1.3.6.1.2.1.1.5.0', 'SNMPv2-MIB::sysName.0'],
    ['1.3.6.1.6.3.1.1.4.1.0', 'SNMPv2-MIB::snmpTrapOID.0'],
    ['1.3.6.1.4.1.9.9.43.2.0.1', 'MUTT-FIXTURE-CISCO-MIB::ciscoConfigManEvent'],
    ['1.3.6.1.4.1.9.9.43.2.0.2', 'MUTT-FIXTURE-CISCO-MIB::ciscoConfigSavedTrap'],
    ['1.3.6.1.4.1.9.9.43.1.2.17', 'MUTT-FIXTURE-CISCO-MIB::ccmHistoryEventConfigSource.17'],
  ])('%s → %s', (oid, text) => {
    expect(store.translate(oid)?.text).toBe(text);
  });

  it.each([['1.3.6.1.4.1.99999.1.2'], ['1.3.6.1.4.1'], ['1.3.6.1'], ['2.999'], ['1.3.6.1.3.7.1']])(
    'leaves %s numeric (no MIB defines it)',
    (oid) => {
      expect(store.translate(oid)).toBeUndefined();
    },
  );

  it('names an OID defined by IF-MIB and RFC1213-MIB after the SMIv2 module', () => {
    expect(store.translate('1.3.6.1.2.1.2.2.1.7.1')?.text).toBe('IF-MIB::ifAdminStatus.1');
  });

  it('keeps enumerations, following textual conventions across modules', () => {
    expect([...(store.translate('1.3.6.1.2.1.2.2.1.8.3')!.node.syntax!.enums ?? [])].slice(0, 2)).toEqual([
      [1, 'up'],
      [2, 'down'],
    ]);
    const ifType = store.translate('1.3.6.1.2.1.2.2.1.3.1')!.node.syntax!;
    expect(ifType.tc).toBe('IANAifType');
    expect(ifType.enums?.get(6)).toBe('ethernetCsmacd');
    const medium = store.translate('1.3.6.1.4.1.9.9.43.1.2.0')!.node.syntax!;
    expect(medium).toMatchObject({ base: 'INTEGER', tc: 'HistoryEventMedium' });
    expect(medium.enums?.get(3)).toBe('running');
    const mac = store.translate('1.3.6.1.2.1.2.2.1.6.1')!.node.syntax!;
    expect(mac).toMatchObject({ base: 'OCTET STRING', tc: 'PhysAddress', hint: '1x:' });
  });

  it('resolves names back to OIDs', () => {
    expect(store.resolve('IF-MIB::linkDown')).toBe('1.3.6.1.6.3.1.1.5.3');
    expect(store.resolve('IF-MIB::ifOperStatus.3')).toBe('1.3.6.1.2.1.2.2.1.8.3');
    expect(store.resolve('ciscoConfigManEvent')).toBe('1.3.6.1.4.1.9.9.43.2.0.1');
    expect(store.resolve('NO-SUCH-MIB::thing')).toBeUndefined();
  });
});

describe('loading directories', () => {
  const broken: [string, string][] = [
    [
      'unterminated string',
      'BROKEN-A DEFINITIONS ::= BEGIN\nx OBJECT IDENTIFIER ::= { iso 3 }\ny OBJECT-TYPE DESCRIPTION "never closed\n',
    ],
    ['no END', 'BROKEN-B DEFINITIONS ::= BEGIN\nx OBJECT IDENTIFIER ::= { iso 3 }\n'],
    ['garbage', '\u0000\u0001 not a MIB at all {{{'],
    [
      'bad enumeration',
      'BROKEN-C DEFINITIONS ::= BEGIN\nx OBJECT-TYPE SYNTAX INTEGER { up(one) } ::= { iso 3 }\nEND\n',
    ],
    [
      'TRAP-TYPE without a number',
      'BROKEN-D DEFINITIONS ::= BEGIN\nt TRAP-TYPE ENTERPRISE iso ::= { iso 1 }\nEND\n',
    ],
    ['binary file', String.fromCharCode(...Array.from({ length: 200 }, (_, i) => (i * 37) % 256))],
  ];

  it('reports a broken MIB and skips it, keeping the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-mibs-'));
    broken.forEach(([, text], i) => writeFileSync(join(dir, `BROKEN-${i}.txt`), text, 'latin1'));
    writeFileSync(join(dir, 'README'), 'not a MIB either, but has no extension');
    const s = MibStore.load([dir, ETC, '/nonexistent/mibs']);
    expect(s.report.problems).toHaveLength(broken.length + 1);
    for (const p of s.report.problems) expect(p).toMatch(/: line \d+: .*; skipped$|README/);
    expect(s.report.missingDirs).toEqual(['/nonexistent/mibs']);
    expect(s.translate('1.3.6.1.6.3.1.1.5.3')?.text).toBe('IF-MIB::linkDown');
  });

  it('takes a module from the first directory that has it, and reports what cannot be placed', () => {
    const first = mkdtempSync(join(tmpdir(), 'mutt-mibs-'));
    const second = mkdtempSync(join(tmpdir(), 'mutt-mibs-'));
    const mod = (label: string) =>
      `DUP-MIB DEFINITIONS ::= BEGIN\nIMPORTS enterprises FROM SNMPv2-SMI;\n${label} OBJECT IDENTIFIER ::= { enterprises 4242 }\nEND\n`;
    writeFileSync(join(first, 'DUP-MIB.my'), mod('fromFirst'));
    writeFileSync(join(second, 'DUP-MIB.txt'), mod('fromSecond'));
    mkdirSync(join(first, 'subdir'));
    writeFileSync(
      join(first, 'ORPHAN-MIB.mib'),
      'ORPHAN-MIB DEFINITIONS ::= BEGIN\nIMPORTS vendorRoot FROM VENDOR-SMI;\nthing OBJECT IDENTIFIER ::= { vendorRoot 1 }\nEND\n',
    );
    const s = MibStore.load([first, second, ETC]);
    expect(s.translate('1.3.6.1.4.1.4242')?.text).toBe('DUP-MIB::fromFirst');
    expect(s.report.warnings).toEqual([
      `${join(first, 'ORPHAN-MIB.mib')}: ORPHAN-MIB: 1 definition(s) could not be placed in the OID tree (first: thing); not in SNMP_MIB_DIRS: VENDOR-SMI`,
    ]);
  });

  it('loads modules in dependency order whatever the file order', () => {
    // z-first imports from a-second's module and vice versa for a label chain.
    const dir = mkdtempSync(join(tmpdir(), 'mutt-mibs-'));
    writeFileSync(
      join(dir, 'A.txt'),
      'LEAF-MIB DEFINITIONS ::= BEGIN\nIMPORTS vendor FROM ROOT-MIB;\nleaf OBJECT IDENTIFIER ::= { vendor 7 }\nEND\n',
    );
    writeFileSync(
      join(dir, 'B.txt'),
      'ROOT-MIB DEFINITIONS ::= BEGIN\nIMPORTS enterprises FROM SNMPv2-SMI;\nvendor OBJECT IDENTIFIER ::= { enterprises 31337 }\nEND\n',
    );
    const s = MibStore.load([dir, ETC]);
    expect(s.translate('1.3.6.1.4.1.31337.7.1')?.text).toBe('LEAF-MIB::leaf.1');
  });
});

describe('tokenizer', () => {
  it('ends comments at the next "--" or the end of the line', () => {
    const t = tokenize('a -- comment -- b\nc -- to the end\nd "x -- not a comment" e-f').map((x) => x.v);
    expect(t).toEqual(['a', 'b', 'c', 'd', 'x -- not a comment', 'e-f']);
  });

  it('parses SMIv1 modules with name(number) OID forms', () => {
    const text = readFileSync(join(ETC, 'RFC1155-SMI.txt'), 'latin1');
    const r = parseMib(text);
    expect(r.error).toBeUndefined();
    expect(r.modules[0]!.name).toBe('RFC1155-SMI');
  });
});
