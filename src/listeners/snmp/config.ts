// The SNMP listener's settings, derived from the validated configuration: communities (secret),
// USM users file, MIB directories (relative ones are inside the MUTT installation) and severity.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { severityNumber } from '../../core/protocol/severity.ts';
import type { Config } from '../../runtime/config/load.ts';
import { StartupError } from '../../runtime/listen.ts';
import { parseUsersFile, type UsmUserSpec } from './usm.ts';

export type SnmpConfig = Pick<
  Config,
  | 'SNMP_TRAP_PORT'
  | 'SNMP_LISTEN_ADDRESS'
  | 'SNMP_COMMUNITIES'
  | 'SNMP_USERS_FILE'
  | 'SNMP_ALLOW_WEAK_CRYPTO'
  | 'SNMP_ENGINE_ID'
  | 'SNMP_MIB_DIRS'
  | 'SNMP_DEFAULT_SEVERITY'
  | 'SNMP_REVERSE_DNS'
  | 'SNMP_RECV_BUFFER_BYTES'
  | 'SNMP_PENDING_MAX_EVENTS'
  | 'sources'
  | 'dataDir'
>;

/** The directory holding MUTT's package.json (the checkout, or the installed package). */
export function installRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return process.cwd();
}

export function mibDirs(c: Pick<SnmpConfig, 'SNMP_MIB_DIRS'>, root = installRoot()): string[] {
  return c.SNMP_MIB_DIRS.map((d) => (isAbsolute(d) ? d : resolve(root, d)));
}

export function communities(c: Pick<SnmpConfig, 'SNMP_COMMUNITIES'>): { list: string[]; isDefault: boolean } {
  if (c.SNMP_COMMUNITIES === undefined) return { list: ['public'], isDefault: true };
  const list = [
    ...new Set(
      c.SNMP_COMMUNITIES.split(/[,\n]/)
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  ];
  return { list, isDefault: false };
}

export function defaultSeverity(c: Pick<SnmpConfig, 'SNMP_DEFAULT_SEVERITY'>): number {
  return severityNumber(c.SNMP_DEFAULT_SEVERITY) ?? 4;
}

/**
 * Reads SNMP_USERS_FILE. A missing file is fine when it is the default path (SNMPv3 is then off);
 * a named file that is missing or has problems stops the start (exit 78), naming the variable.
 */
export function loadUsers(c: Pick<SnmpConfig, 'SNMP_USERS_FILE' | 'SNMP_ALLOW_WEAK_CRYPTO' | 'sources'>): {
  users: UsmUserSpec[];
  warnings: string[];
  file?: string;
} {
  const file = c.SNMP_USERS_FILE;
  const where = `SNMP_USERS_FILE=${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && c.sources.SNMP_USERS_FILE === 'default') return { users: [], warnings: [] };
    throw new StartupError(`${where}: cannot read the SNMPv3 users file (${code ?? (err as Error).message})`);
  }
  const r = parseUsersFile(text, where, { allowWeak: c.SNMP_ALLOW_WEAK_CRYPTO });
  if (r.problems.length > 0) throw new StartupError(r.problems.join('\n'));
  if ((statSync(file).mode & 0o004) !== 0)
    r.warnings.push(
      `${where}: the file holds passphrases but every user of this host can read it (chmod 0640)`,
    );
  return { users: r.users, warnings: r.warnings, file };
}
