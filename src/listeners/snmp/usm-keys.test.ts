import snmp from 'net-snmp';
import { describe, expect, it } from 'vitest';
import { installUsmKeyCache, passwordToKey } from './usm-keys.ts';

// RFC 3414 A.3.1 / A.3.2: passphrase "maplesyrup", engine ID 00…02.
const engineId = Buffer.from('000000000000000000000002', 'hex');

describe('USM key localization', () => {
  it.each([
    ['md5', '526f5eed9fcce26f8964c2930787d82b'],
    ['sha', '6695febc9288e36282235fc7151f128497b38f3f'],
  ])('matches the RFC 3414 test vector for %s', (proto, expected) => {
    expect(passwordToKey(snmp.AuthProtocols[proto]!, 'maplesyrup', engineId).toString('hex')).toBe(expected);
  });

  it('replaces net-snmp derivation and keeps at most `max` localized keys', () => {
    const cache = installUsmKeyCache(32);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- identity check of the installed function
    expect(snmp.Authentication.passwordToKey).toBe(passwordToKey);
    for (let i = 0; i < 500; i++) {
      const id = Buffer.alloc(12);
      id.writeUInt32BE(i, 8);
      snmp.Authentication.passwordToKey(snmp.AuthProtocols.sha256!, 'a passphrase', id);
    }
    expect(cache.size()).toBe(32);
    expect(cache.evictions()).toBeGreaterThanOrEqual(468);
    installUsmKeyCache();
  });
});
