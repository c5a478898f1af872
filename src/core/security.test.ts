import { describe, expect, it } from 'vitest';
import { apiKeyChecker } from './security.ts';

describe('apiKeyChecker', () => {
  const check = apiKeyChecker('s3cret-key');
  it('accepts the key', () => expect(check('s3cret-key')).toBe(true));
  it('rejects a wrong key of the same length', () => expect(check('s3cret-kez')).toBe(false));
  it('rejects a prefix and an extension', () => {
    expect(check('s3cret')).toBe(false);
    expect(check('s3cret-key2')).toBe(false);
  });
  it('rejects missing and empty keys', () => {
    expect(check(undefined)).toBe(false);
    expect(check(null)).toBe(false);
    expect(check('')).toBe(false);
  });
  it('rejects everything when no key is configured', () => {
    const none = apiKeyChecker(undefined);
    expect(none('')).toBe(false);
    expect(none('anything')).toBe(false);
  });
});

describe('keyFingerprint', () => {
  it('is short, stable, and differs between keys', async () => {
    const { keyFingerprint } = await import('./security.ts');
    expect(keyFingerprint('s3cret-key')).toMatch(/^[0-9a-f]{8}$/);
    expect(keyFingerprint('s3cret-key')).toBe(keyFingerprint('s3cret-key'));
    expect(keyFingerprint('s3cret-key')).not.toBe(keyFingerprint('s3cret-kez'));
    expect(keyFingerprint('s3cret-key')).not.toContain('s3cret');
  });
});
