// API-key checks. Both sides are hashed to fixed-length digests before timingSafeEqual, so neither
// the key's content nor its length leaks through response timing. Keys are never logged.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Returns a checker for one expected key; a missing expected key rejects everything. */
export function apiKeyChecker(expected: string | undefined): (given: string | undefined | null) => boolean {
  const want = expected === undefined || expected.length === 0 ? undefined : digest(expected);
  return function checkApiKey(given) {
    if (want === undefined || given === undefined || given === null || given.length === 0) return false;
    return timingSafeEqual(digest(given), want);
  };
}

/**
 * A short identifier of a key for audit rows and logs (`3f2a9c1e`): the first 8 hex digits of its
 * SHA-256. It tells keys apart (which of a rotation pair was used) and reveals nothing usable.
 */
export function keyFingerprint(key: string): string {
  return digest(key).toString('hex').slice(0, 8);
}
