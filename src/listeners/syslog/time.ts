// Calendar arithmetic for syslog timestamps: validating dates (no February 30), turning a wall-clock
// time in an IANA time zone into UTC, and inferring the year of an RFC 3164 timestamp. Zone offsets
// are cached per zone and UTC hour, so the per-message cost is a few integer operations.

import { daysIn } from '../../core/protocol/digits.ts';

export { isTimeZone } from '../../runtime/timezone.ts';

/** Days in the month `month0` (0-11) of `year`. */
export function daysInMonth(year: number, month0: number): number {
  return daysIn(year, month0 + 1);
}

export function validDate(y: number, mo0: number, d: number, h: number, mi: number, s: number): boolean {
  return (
    mo0 >= 0 &&
    mo0 < 12 &&
    d >= 1 &&
    d <= daysInMonth(y, mo0) &&
    h >= 0 &&
    h < 24 &&
    mi >= 0 &&
    mi < 60 &&
    s >= 0 &&
    s <= 60 // a leap second is accepted and folds into the next minute
  );
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();

/** Offset of `tz` from UTC (ms, east positive) at the UTC instant `t`. */
function offsetAt(tz: string, t: number): number {
  const hour = Math.floor(t / 3_600_000);
  const key = `${tz}|${hour}`;
  const hit = offsets.get(key);
  if (hit !== undefined) return hit;
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(hour * 3_600_000)) p[part.type] = Number(part.value);
  const local = Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second);
  const off = local - hour * 3_600_000;
  if (offsets.size > 10_000) offsets.clear();
  offsets.set(key, off);
  return off;
}

/** UTC epoch ms of a wall-clock time in `tz` (a time skipped by a DST change moves forward). */
export function zonedToUtc(
  tz: string,
  y: number,
  mo0: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
): number {
  const wall = Date.UTC(y, mo0, d, h, mi, s, ms);
  if (tz === 'UTC' || tz === 'Etc/UTC') return wall;
  const first = wall - offsetAt(tz, wall);
  const second = wall - offsetAt(tz, first);
  return second;
}

/**
 * The year of a month/day that came without one: the current year, unless that puts the time more
 * than a week in the future (a December message read in January belongs to last year).
 */
const yearCache = new Map<number, number>();
let yearCacheKey = '';

export function inferYear(mo0: number, d: number, now: number, tz: string): number {
  // The answer only changes with the day: remember it per month/day for the current hour.
  const key = `${tz}|${Math.floor(now / 3_600_000)}`;
  if (key !== yearCacheKey) {
    yearCache.clear();
    yearCacheKey = key;
  }
  const slot = mo0 * 32 + d;
  const hit = yearCache.get(slot);
  if (hit !== undefined) return hit;
  const y = computeYear(mo0, d, now, tz);
  yearCache.set(slot, y);
  return y;
}

function computeYear(mo0: number, d: number, now: number, tz: string): number {
  const today = new Date(now + (tz === 'UTC' ? 0 : offsetAt(tz, now)));
  const y = today.getUTCFullYear();
  const candidate = Date.UTC(y, mo0, Math.min(d, daysInMonth(y, mo0)));
  if (candidate - today.getTime() > 7 * 86_400_000) return y - 1;
  // A January message read on 31 December: next year.
  if (today.getTime() - candidate > 358 * 86_400_000) return y + 1;
  return y;
}
