// Time-zone names: shared by the configuration (SYSLOG_DEFAULT_TIMEZONE) and the syslog parsers.

/** Whether `tz` names a time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
