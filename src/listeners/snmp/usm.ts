// SNMPv3 USM users, read from a file in snmptrapd's `createUser` syntax (what operators already keep
// in /etc/snmp/snmptrapd.conf), so the same lines work for both:
//
//   createUser [-e ENGINEID] NAME [AUTHPROTO AUTHPASS [PRIVPROTO [PRIVPASS]]]
//
// AUTHPROTO: SHA-224 | SHA-256 | SHA-384 | SHA-512 (MD5 and SHA only with SNMP_ALLOW_WEAK_CRYPTO);
// PRIVPROTO: AES (AES-128) | AES-256 (Blumenthal) | AES-256C (Reeder, Cisco) (DES only when weak
// crypto is allowed). PRIVPASS defaults to AUTHPASS, as in Net-SNMP. `-e` binds the user to the
// engine IDs of the agents that send it traps (several lines for one user add engine IDs); a user
// without `-e` accepts traps from any engine. Other snmptrapd directives are ignored with a warning.
// Passphrases are kept only in memory and never appear in a problem, a warning or a log line.

export type AuthProto = 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
export type PrivProto = 'des' | 'aes' | 'aes256b' | 'aes256r';
export type Level = 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';

export interface UsmUserSpec {
  name: string;
  level: Level;
  authProtocol?: AuthProto;
  authKey?: string;
  privProtocol?: PrivProto;
  privKey?: string;
  /** Lower-case hex engine IDs this user's traps may come from; empty: any engine. */
  engineIds: string[];
  /** MD5, SHA-1 or DES: allowed only with SNMP_ALLOW_WEAK_CRYPTO. */
  weak: boolean;
}

export interface UsersFileResult {
  users: UsmUserSpec[];
  problems: string[];
  warnings: string[];
}

const AUTH: Record<string, { proto: AuthProto; weak: boolean }> = {
  MD5: { proto: 'md5', weak: true },
  SHA: { proto: 'sha', weak: true },
  SHA1: { proto: 'sha', weak: true },
  'SHA-1': { proto: 'sha', weak: true },
  'SHA-224': { proto: 'sha224', weak: false },
  SHA224: { proto: 'sha224', weak: false },
  'SHA-256': { proto: 'sha256', weak: false },
  SHA256: { proto: 'sha256', weak: false },
  'SHA-384': { proto: 'sha384', weak: false },
  SHA384: { proto: 'sha384', weak: false },
  'SHA-512': { proto: 'sha512', weak: false },
  SHA512: { proto: 'sha512', weak: false },
};

const PRIV: Record<string, { proto: PrivProto; weak: boolean }> = {
  DES: { proto: 'des', weak: true },
  AES: { proto: 'aes', weak: false },
  AES128: { proto: 'aes', weak: false },
  'AES-128': { proto: 'aes', weak: false },
  AES256: { proto: 'aes256b', weak: false },
  'AES-256': { proto: 'aes256b', weak: false },
  AES256C: { proto: 'aes256r', weak: false },
  'AES-256C': { proto: 'aes256r', weak: false },
};

/** Net-SNMP refuses shorter passphrases (RFC 3414 §11.2 recommends at least 8 characters). */
export const MIN_PASSPHRASE = 8;

/** Splits a line into words; "double" or 'single' quotes keep spaces; a backslash escapes. */
export function words(line: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) out.push(cur);
  return out;
}

const sameSecrets = (a: UsmUserSpec, b: UsmUserSpec) =>
  a.level === b.level &&
  a.authProtocol === b.authProtocol &&
  a.authKey === b.authKey &&
  a.privProtocol === b.privProtocol &&
  a.privKey === b.privKey;

/**
 * Parses the users file. `where` names it in problems (`SNMP_USERS_FILE=/etc/mutt/snmp-users.conf`).
 * Problems make the file unusable (MUTT refuses to start); warnings are logged.
 */
export function parseUsersFile(text: string, where: string, o: { allowWeak: boolean }): UsersFileResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const byName = new Map<string, UsmUserSpec>();
  const ignored = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const at = `${where} line ${i + 1}`;
    const w = words(raw);
    if (w === undefined) {
      problems.push(`${at}: unterminated quote`);
      return;
    }
    if (w.length === 0) return;
    if (w[0]!.toLowerCase() !== 'createuser') {
      ignored.add(w[0]!);
      return;
    }
    const args = w.slice(1);
    const engineIds: string[] = [];
    while (args[0]?.startsWith('-')) {
      const opt = args.shift()!;
      if (opt === '-e') {
        const id = args.shift();
        const hex = id?.replace(/^0x/i, '') ?? '';
        if (!/^([0-9a-fA-F]{2}){5,32}$/.test(hex)) {
          problems.push(`${at}: -e needs an engine ID of 5 to 32 octets in hex (for example 0x80001f8880…)`);
          return;
        }
        engineIds.push(hex.toLowerCase());
      } else {
        problems.push(
          `${at}: option ${opt} is not supported (only -e ENGINEID; give passphrases, not localized keys)`,
        );
        return;
      }
    }
    const [name, authName, authKey, privName, privPass, ...extra] = args;
    if (!name) {
      problems.push(`${at}: createUser needs a user name`);
      return;
    }
    if (extra.length > 0) {
      problems.push(`${at}: unexpected words after the privacy passphrase of user "${name}"`);
      return;
    }
    const user: UsmUserSpec = { name, level: 'noAuthNoPriv', engineIds, weak: false };
    if (authName !== undefined) {
      const auth = AUTH[authName.toUpperCase()];
      if (!auth) {
        problems.push(
          `${at}: unknown authentication protocol "${authName}" for user "${name}" (use SHA-256, SHA-384, SHA-512 or SHA-224)`,
        );
        return;
      }
      if (authKey === undefined || authKey.length < MIN_PASSPHRASE) {
        problems.push(
          `${at}: the authentication passphrase of user "${name}" must have at least ${MIN_PASSPHRASE} characters`,
        );
        return;
      }
      user.level = 'authNoPriv';
      user.authProtocol = auth.proto;
      user.authKey = authKey;
      user.weak ||= auth.weak;
      if (privName !== undefined) {
        const priv = PRIV[privName.toUpperCase()];
        if (!priv) {
          problems.push(
            `${at}: unknown privacy protocol "${privName}" for user "${name}" (use AES, AES-256 or AES-256C)`,
          );
          return;
        }
        const privKey = privPass ?? authKey;
        if (privKey.length < MIN_PASSPHRASE) {
          problems.push(
            `${at}: the privacy passphrase of user "${name}" must have at least ${MIN_PASSPHRASE} characters`,
          );
          return;
        }
        user.level = 'authPriv';
        user.privProtocol = priv.proto;
        user.privKey = privKey;
        user.weak ||= priv.weak;
      }
    }
    if (user.weak && !o.allowWeak) {
      problems.push(
        `${at}: user "${name}" uses MD5, SHA-1 or DES, which MUTT accepts only with SNMP_ALLOW_WEAK_CRYPTO=true (prefer SHA-256 and AES)`,
      );
      return;
    }
    const prev = byName.get(name);
    if (prev) {
      if (!sameSecrets(prev, user)) {
        problems.push(
          `${at}: user "${name}" is already defined with other credentials; MUTT keeps one set of credentials per user name`,
        );
        return;
      }
      // A line without -e opens the user to any engine.
      prev.engineIds =
        prev.engineIds.length === 0 || engineIds.length === 0 ? [] : [...prev.engineIds, ...engineIds];
      return;
    }
    byName.set(name, user);
  });
  for (const u of byName.values()) {
    if (u.weak)
      warnings.push(
        `SNMPv3 user "${u.name}" uses weak cryptography (MD5, SHA-1 or DES): move it to SHA-256 and AES`,
      );
    if (u.level === 'noAuthNoPriv')
      warnings.push(`SNMPv3 user "${u.name}" has no authentication: anyone can send traps under this name`);
  }
  if (ignored.size > 0)
    warnings.push(`${where}: ignored directives other than createUser: ${[...ignored].sort().join(', ')}`);
  return { users: [...byName.values()], problems, warnings };
}
