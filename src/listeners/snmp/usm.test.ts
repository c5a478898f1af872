import { describe, expect, it } from 'vitest';
import { parseUsersFile, words } from './usm.ts';

const parse = (text: string, allowWeak = false) =>
  parseUsersFile(text, 'SNMP_USERS_FILE=test', { allowWeak });

describe('words', () => {
  it.each([
    ['createUser a SHA-256 "pass word1"', ['createUser', 'a', 'SHA-256', 'pass word1']],
    ["createUser a SHA-256 'p#ss'  # comment", ['createUser', 'a', 'SHA-256', 'p#ss']],
    ['createUser a SHA-256 pa\\ ss', ['createUser', 'a', 'SHA-256', 'pa ss']],
    ['   # only a comment', []],
  ])('%s', (line, expected) => {
    expect(words(line)).toEqual(expected);
  });
  it('reports an unterminated quote', () => {
    expect(words('createUser a SHA "oops')).toBeUndefined();
  });
});

describe('parseUsersFile', () => {
  it('reads authPriv, authNoPriv and noAuthNoPriv users in snmptrapd syntax', () => {
    const r = parse(
      [
        '# users',
        'createUser ops SHA-256 "auth pass 1" AES "priv pass 1"',
        'createUser mon sha-512 authpass99',
        'createUser same SHA-384 samepass1 AES-256',
        'createUser cisco SHA-224 authpass99 AES-256C privpass99',
        'createUser anon',
        'authCommunity log,execute,net public',
      ].join('\n'),
    );
    expect(r.problems).toEqual([]);
    expect(r.users).toEqual([
      {
        name: 'ops',
        level: 'authPriv',
        authProtocol: 'sha256',
        authKey: 'auth pass 1',
        privProtocol: 'aes',
        privKey: 'priv pass 1',
        engineIds: [],
        weak: false,
      },
      {
        name: 'mon',
        level: 'authNoPriv',
        authProtocol: 'sha512',
        authKey: 'authpass99',
        engineIds: [],
        weak: false,
      },
      {
        name: 'same',
        level: 'authPriv',
        authProtocol: 'sha384',
        authKey: 'samepass1',
        privProtocol: 'aes256b',
        privKey: 'samepass1',
        engineIds: [],
        weak: false,
      },
      {
        name: 'cisco',
        level: 'authPriv',
        authProtocol: 'sha224',
        authKey: 'authpass99',
        privProtocol: 'aes256r',
        privKey: 'privpass99',
        engineIds: [],
        weak: false,
      },
      { name: 'anon', level: 'noAuthNoPriv', engineIds: [], weak: false },
    ]);
    expect(r.warnings).toEqual([
      'SNMPv3 user "anon" has no authentication: anyone can send traps under this name',
      'SNMP_USERS_FILE=test: ignored directives other than createUser: authCommunity',
    ]);
  });

  it('binds users to engine IDs with -e and merges lines of one user', () => {
    const r = parse(
      [
        'createUser -e 0x8000000001020304 rtr SHA-256 authpass99 AES privpass99',
        'createUser -e 800000000A0B0C0D rtr SHA-256 authpass99 AES privpass99',
      ].join('\n'),
    );
    expect(r.problems).toEqual([]);
    expect(r.users[0]!.engineIds).toEqual(['8000000001020304', '800000000a0b0c0d']);
    const open = parse(
      ['createUser -e 0x8000000001020304 rtr SHA-256 authpass99', 'createUser rtr SHA-256 authpass99'].join(
        '\n',
      ),
    );
    expect(open.users[0]!.engineIds).toEqual([]);
  });

  it('accepts MD5, SHA-1 and DES only when weak crypto is allowed, with a warning', () => {
    const line = 'createUser old MD5 authpass99 DES privpass99';
    expect(parse(line).problems).toEqual([
      'SNMP_USERS_FILE=test line 1: user "old" uses MD5, SHA-1 or DES, which MUTT accepts only with SNMP_ALLOW_WEAK_CRYPTO=true (prefer SHA-256 and AES)',
    ]);
    const allowed = parse(line, true);
    expect(allowed.problems).toEqual([]);
    expect(allowed.users[0]).toMatchObject({ authProtocol: 'md5', privProtocol: 'des', weak: true });
    expect(allowed.warnings[0]).toContain('weak cryptography');
  });

  // Bad lines: each a clear problem naming the line, and never the passphrase.
  const badLines: [string, string][] = [
    ['createUser', 'createUser needs a user name'],
    ['createUser u SHA-999 authpass99', 'unknown authentication protocol "SHA-999"'],
    ['createUser u SHA-256', 'must have at least 8 characters'],
    ['createUser u SHA-256 short', 'must have at least 8 characters'],
    ['createUser u SHA-256 authpass99 AES-192 privpass99', 'unknown privacy protocol "AES-192"'],
    ['createUser u SHA-256 authpass99 AES tiny', 'privacy passphrase of user "u" must have at least 8'],
    ['createUser u SHA-256 authpass99 AES privpass99 extra', 'unexpected words'],
    ['createUser -e 0xZZ u SHA-256 authpass99', '-e needs an engine ID'],
    ['createUser -m 0x1234 u SHA-256 authpass99', 'option -m is not supported'],
    ['createUser u SHA-256 "authpass99', 'unterminated quote'],
  ];
  it.each(badLines)('%s → problem', (line, expected) => {
    const r = parse(line);
    expect(r.users).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^SNMP_USERS_FILE=test line 1: /);
    expect(r.problems[0]).toContain(expected);
    expect(r.problems[0]).not.toContain('authpass99');
  });

  it('refuses one user name with two sets of credentials', () => {
    const r = parse('createUser u SHA-256 authpass99\ncreateUser u SHA-256 otherpass99');
    expect(r.problems[0]).toContain('line 2: user "u" is already defined with other credentials');
    expect(r.problems[0]).not.toContain('otherpass99');
  });
});

describe('etc/snmp-users.conf', () => {
  it('is a valid example', async () => {
    const { readFileSync } = await import('node:fs');
    const r = parse(readFileSync('etc/snmp-users.conf', 'utf8'));
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.users.map((u) => [u.name, u.level, u.authProtocol, u.privProtocol, u.engineIds])).toEqual([
      ['netops', 'authPriv', 'sha256', 'aes', []],
      ['core-rtr', 'authPriv', 'sha512', 'aes256b', ['80000009030000c0ffee0001']],
    ]);
  });
});
