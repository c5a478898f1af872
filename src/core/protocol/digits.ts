// Reading fixed-width decimal fields out of text without slicing it: the timestamp and header parsers
// of the syslog listeners, the alerter's event timestamps and the forwarder's agent_time.

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

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1-12) of `year`. */
export function daysIn(year: number, month: number): number {
  if (month !== 2) return DAYS[month - 1]!;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/**
 * Epoch ms of the shape MUTT's listeners and JavaScript write (`YYYY-MM-DDTHH:MM:SS.mmmZ`,
 * Date#toISOString), read without a regex or Date.parse; undefined for any other text or an
 * impossible date (the caller's general path decides).
 */
export function isoMillisZMs(s: string): number | undefined {
  if (
    s.length !== 24 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 ||
    s.charCodeAt(19) !== 46 ||
    s.charCodeAt(23) !== 90
  )
    return undefined;
  const Y = digitsAt(s, 0, 4);
  const M = digitsAt(s, 5, 2);
  const D = digitsAt(s, 8, 2);
  const H = digitsAt(s, 11, 2);
  const I = digitsAt(s, 14, 2);
  const S = digitsAt(s, 17, 2);
  const F = digitsAt(s, 20, 3);
  if (Y < 0 || M < 1 || M > 12 || D < 1 || D > daysIn(Y, M) || H < 0 || H > 23 || I < 0 || I > 59) return;
  if (S < 0 || S > 59 || F < 0) return undefined;
  return Date.UTC(Y, M - 1, D, H, I, S, F);
}
