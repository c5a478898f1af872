// Reading fixed-width decimal fields out of text without slicing it: the timestamp and header parsers
// of the syslog listeners and the alerter's event timestamps.

/** The `n` ASCII digits at `i` of `s` as a number, or -1 when any of them is not a digit. */
export function digitsAt(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}
