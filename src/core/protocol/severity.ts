// Syslog severities (RFC 5424 §6.2.1). Webhook clients send labels ("Warning", "err", "CRITICAL");
// rules compare numbers, so labels are normalised to 0–7 and the original kept as `severity_label`.

export const SEVERITY_NAMES = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warning',
  'notice',
  'informational',
  'debug',
] as const;

const LABELS: Record<string, number> = {
  emerg: 0,
  emergency: 0,
  panic: 0,
  alert: 1,
  crit: 2,
  critical: 2,
  err: 3,
  error: 3,
  warn: 4,
  warning: 4,
  notice: 5,
  info: 6,
  informational: 6,
  information: 6,
  debug: 7,
};

/** 0–7 for a number or numeric string in range, or a known label; undefined otherwise. */
export function severityNumber(value: unknown): number | undefined {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value <= 7 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  if (/^[0-7]$/.test(s)) return Number(s);
  return LABELS[s.toLowerCase()];
}

export const SEVERITY_EXPECTED =
  'an integer 0-7 or a syslog severity name (emerg, alert, crit, err, warning, notice, info, debug)';
