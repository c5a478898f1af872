// USM key localization (RFC 3414 §2.6 and A.2, RFC 7860 for SHA-2) for net-snmp, with bounded memory
// and bounded work per message.
//
// net-snmp derives a localized key by hashing a megabyte of repeated passphrase and then the engine
// ID, for every new (protocol, passphrase, engine ID) triple, and keeps every result in a plain object
// that never shrinks. A sender who knows a user name could therefore make MUTT hash a megabyte per
// datagram and grow that object without limit by inventing engine IDs (traps are authoritative at the
// sender, so any engine ID is legitimate on the wire). MUTT replaces the exported
// `Authentication.passwordToKey` with the same derivation split in two, as Net-SNMP does: the
// engine-independent master key Ku is computed once per passphrase (only configured passphrases ever
// reach it), and the cheap localization step (one hash over Ku‖engineID‖Ku) is cached per engine ID in
// an LRU of bounded size. The derived bytes are identical (unit-tested against RFC 3414 A.3 vectors).
import { createHash } from 'node:crypto';
import snmp from 'net-snmp';
import { LruMap } from './lru.ts';

/** Localized keys kept; one per (user passphrase, sending engine). */
export const DEFAULT_LOCALIZED_KEYS = 4096;

const masterKeys = new Map<string, Buffer>();
const localized = new LruMap<string, Buffer>(DEFAULT_LOCALIZED_KEYS);
let installed = false;

function masterKey(algorithm: string, password: string): Buffer {
  const k = `${algorithm}\0${password}`;
  let ku = masterKeys.get(k);
  if (!ku) {
    // RFC 3414 A.2: hash 1,048,576 octets of the passphrase repeated.
    ku = createHash(algorithm).update(Buffer.alloc(snmp.Authentication.HMAC_BUFFER_SIZE, password)).digest();
    masterKeys.set(k, ku);
  }
  return ku;
}

export function passwordToKey(authProtocol: string, password: string, engineId: Buffer): Buffer {
  const algorithm = snmp.Authentication.algorithms[authProtocol]?.CRYPTO_ALGORITHM;
  if (!algorithm) throw new Error(`unsupported authentication protocol ${authProtocol}`);
  const ku = masterKey(algorithm, password);
  const k = `${algorithm}\0${ku.toString('base64')}\0${engineId.toString('base64')}`;
  let kul = localized.get(k);
  if (!kul) {
    kul = createHash(algorithm).update(ku).update(engineId).update(ku).digest();
    localized.set(k, kul);
  }
  return kul;
}

/** Installs the bounded derivation into net-snmp (idempotent); `max` bounds the localized keys. */
export function installUsmKeyCache(max = DEFAULT_LOCALIZED_KEYS): {
  size: () => number;
  evictions: () => number;
} {
  localized.max = max;
  if (!installed) {
    snmp.Authentication.passwordToKey = passwordToKey;
    // net-snmp's own cache is no longer consulted; an empty object keeps stray readers harmless.
    snmp.Authentication.authToKeyCache = {};
    installed = true;
  }
  return { size: () => localized.size, evictions: () => localized.evictions };
}

/** Forgets master keys of passphrases no longer configured (after the users file changed). */
export function forgetMasterKeys(): void {
  masterKeys.clear();
  localized.clear();
}
