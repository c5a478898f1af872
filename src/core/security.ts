// API-key checks. Both sides are hashed to fixed-length digests before timingSafeEqual, so neither
// the key's content nor its length leaks through response timing. Keys are never logged.
//
// A key ring holds the current key and, during a rotation, the previous one (INGEST_API_KEY and
// INGEST_API_KEY_PREVIOUS, WEBUI_API_KEY and WEBUI_API_KEY_PREVIOUS). It follows the secrets in force,
// so a key rotated in Vault (or re-read on SIGHUP) is checked from the next request on.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretName } from '../runtime/config/schema.ts';
import type { SecretStore } from '../runtime/secrets/store.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Returns a checker for one expected key; a missing expected key rejects everything. */
export function apiKeyChecker(expected: string | undefined): (given: string | undefined | null) => boolean {
  const want = expected === undefined || expected.length === 0 ? undefined : digest(expected);
  return function checkApiKey(given) {
    if (want === undefined || given === undefined || given === null || given.length === 0) return false;
    return timingSafeEqual(digest(given), want);
  };
}

/** Which key of a ring matched. */
export type KeyMatch = 'current' | 'previous' | false;

export class ApiKeyRing {
  private current?: Buffer;
  private previous?: Buffer;

  constructor(current: string | undefined, previous?: string) {
    this.set(current, previous);
  }

  set(current: string | undefined, previous?: string): void {
    this.current = current ? digest(current) : undefined;
    this.previous = previous && previous !== current ? digest(previous) : undefined;
  }

  /** Compares against both keys every time (constant work whichever matches). */
  check(given: string | undefined | null): KeyMatch {
    if (given === undefined || given === null || given.length === 0 || !this.current) return false;
    const d = digest(given);
    const cur = timingSafeEqual(d, this.current);
    const prev = this.previous ? timingSafeEqual(d, this.previous) : timingSafeEqual(d, d) && false;
    return cur ? 'current' : prev ? 'previous' : false;
  }
}

/** A ring that follows two secrets of the store (e.g. WEBUI_API_KEY and WEBUI_API_KEY_PREVIOUS). */
export function apiKeyRing(store: SecretStore, current: SecretName, previous: SecretName): ApiKeyRing {
  const ring = new ApiKeyRing(store.get(current), store.get(previous));
  store.onChange((changed) => {
    if (changed.includes(current) || changed.includes(previous))
      ring.set(store.get(current), store.get(previous));
  });
  return ring;
}

/**
 * A short identifier of a key for audit rows and logs (`3f2a9c1e`): the first 8 hex digits of its
 * SHA-256. It tells keys apart (which of a rotation pair was used) and reveals nothing usable.
 */
export function keyFingerprint(key: string): string {
  return digest(key).toString('hex').slice(0, 8);
}
