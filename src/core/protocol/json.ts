// JSON as Python MUTT writes it. Python's json module emits NaN, Infinity and -Infinity for
// non-finite floats, which JSON.parse rejects; MUTT reads them as null instead of refusing the event.

/** Parses JSON; on failure retries once with bare NaN/Infinity/-Infinity tokens read as null. */
export function parseJsonLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const fixed = replaceNonFinite(text);
    if (fixed === text) throw err;
    try {
      return JSON.parse(fixed);
    } catch {
      throw err;
    }
  }
}

/** Replaces NaN / Infinity / -Infinity outside strings with null; returns the input when none occur. */
export function replaceNonFinite(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    let len = 0;
    if (text.startsWith('NaN', i)) len = 3;
    else if (text.startsWith('Infinity', i)) len = 8;
    else if (text.startsWith('-Infinity', i)) len = 9;
    if (len > 0) {
      out += `${text.slice(last, i)}null`;
      i += len - 1;
      last = i + 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}
