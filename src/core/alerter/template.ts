// The message template behind an unhandled-event signature: what varies between occurrences of one
// kind of message (addresses, numbers, ids) is masked, so `Gi0/1 down` and `Gi0/2 down` from one host
// are counted together. UNHANDLED_SIGNATURE=exact keeps Python MUTT's exact-message counting.
import { createHash } from 'node:crypto';

// Order matters: the wider shapes first, so a MAC or an IPv6 address is not eaten as numbers.
const MASKS: [RegExp, string][] = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b/gi, '<mac>'],
  [/\b(?:[0-9a-f]{4}\.){2}[0-9a-f]{4}\b/gi, '<mac>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?(?::\d{1,5})?\b/g, '<ip>'],
  [
    /(?<![\w:])(?=[0-9a-f:]*(?:::|[a-f]))[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\/\d{1,3})?(?![\w:])/gi,
    '<ip>',
  ],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  [/\d+/g, '<n>'],
];

export function messageTemplate(message: string): string {
  let t = message;
  for (const [re, mask] of MASKS) t = t.replace(re, mask);
  return t;
}

/** `<sig>` of an unhandled counter key: the first 16 hex characters of SHA-1 of the signature text. */
export function unhandledSignature(message: string, mode: 'template' | 'exact'): string {
  const text = mode === 'exact' ? message : messageTemplate(message);
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}
