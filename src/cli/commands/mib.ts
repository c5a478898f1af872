// `mutt mib translate`: names OIDs exactly as the SNMP listener would, from the MIBs in
// SNMP_MIB_DIRS (numeric → `MODULE::name.suffix`, or a name → its numeric OID).
import { mibDirs } from '../../listeners/snmp/config.ts';
import { MibStore } from '../../listeners/snmp/mib/store.ts';
import { formatVarbind, renderPair } from '../../listeners/snmp/varbinds.ts';
import { CliError, loadConfigOrExit } from '../context.ts';
import { EXIT } from '../exit.ts';

const NUMERIC = /^\.?\d+(\.\d+)+$/;

export function mibTranslateCommand(
  oids: string[],
  opts: { value?: string; json?: boolean; quiet?: boolean },
): void {
  const config = loadConfigOrExit();
  const dirs = mibDirs(config);
  const store = MibStore.load(dirs);
  const rep = store.report;
  if (!opts.quiet) {
    for (const p of rep.problems) process.stderr.write(`mutt: warning: MIB skipped: ${p}\n`);
    for (const w of rep.warnings) process.stderr.write(`mutt: warning: MIB incomplete: ${w}\n`);
  }
  const results: { input: string; oid?: string; name?: string; display?: string }[] = [];
  let unknown = 0;
  for (const input of oids) {
    if (NUMERIC.test(input)) {
      const oid = input.replace(/^\./, '');
      const t = store.translate(oid);
      const r: (typeof results)[number] = { input, oid, name: t?.text };
      if (opts.value !== undefined) {
        const n = Number(opts.value);
        const vb = Number.isInteger(n)
          ? formatVarbind({ oid, type: 2, value: n }, store)
          : formatVarbind({ oid, type: 4, value: Buffer.from(opts.value) }, store);
        r.display = renderPair(vb);
      }
      results.push(r);
    } else {
      const oid = store.resolve(input);
      if (!oid) unknown++;
      results.push({ input, oid, name: oid ? store.translate(oid)?.text : undefined });
    }
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ mib_dirs: dirs, modules: rep.modules, results })}\n`);
  } else {
    for (const r of results) {
      if (NUMERIC.test(r.input)) process.stdout.write(`${r.display ?? r.name ?? r.oid}\n`);
      else process.stdout.write(`${r.oid ?? `${r.input}: not found in the MIBs of SNMP_MIB_DIRS`}\n`);
    }
  }
  if (unknown > 0)
    throw new CliError(
      `${unknown} name(s) not found (${rep.modules} modules loaded from ${dirs.join(', ')})`,
      EXIT.NO,
    );
}
