// pino JSON logs. Every line carries service and pod; request-scoped lines carry `correlation_id`.
// Secrets never reach a log: the redaction list below is a second line of defence behind code that
// simply never passes them.
import { isatty } from 'node:tty';
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

const LEVELS = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error', CRITICAL: 'fatal' } as const;
export type LogLevelName = keyof typeof LEVELS;

export interface LoggerOptions {
  level?: LogLevelName;
  pod?: string;
  /** Where to write (defaults to standard output). */
  destination?: NodeJS.WritableStream | { write(s: string): void };
  /** LOG_FORMAT: `auto` is `text` when standard output (fd 1) is a terminal, else `json`. */
  format?: LogFormat;
}

export type LogFormat = 'auto' | 'json' | 'text';

/** `auto` → `text` on a terminal, `json` otherwise (the journal, a pipe, a file). */
export function resolveLogFormat(format: LogFormat = 'auto', fd = 1): 'json' | 'text' {
  if (format !== 'auto') return format;
  return isatty(fd) ? 'text' : 'json';
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    level: LEVELS[opts.level ?? 'INFO'],
    base: { service: 'mutt', pod: opts.pod, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: {
      paths: [
        'apiKey',
        'password',
        'headers["x-api-key"]',
        'req.headers["x-api-key"]',
        'req.headers.authorization',
        '*.password',
        '*.apiKey',
        // ioredis errors carry the failed command with its arguments: AUTH and HELLO … AUTH carry the
        // password, other commands event data.
        'command.args',
        '*.command.args',
        '*.cause.command.args',
      ],
      censor: '[redacted]',
    },
  };
  if (resolveLogFormat(opts.format, opts.destination === process.stderr ? 2 : 1) === 'text') {
    // pino's own pretty printer, in-process and synchronous, so nothing is lost at exit.
    const stream = pretty({
      colorize: true,
      sync: true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname,service,pod',
      destination: opts.destination ?? 1,
    });
    return pino(options, stream);
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/**
 * Lets one line per key through per interval and counts the rest, so a flood of bad input produces a
 * bounded number of log lines (each saying how many were suppressed) while metrics count every one.
 */
export class LogLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(intervalMs = 60_000, now: () => number = Date.now, maxKeys = 1000) {
    this.intervalMs = intervalMs;
    this.now = now;
    this.maxKeys = maxKeys;
  }

  /** Returns the number of suppressed lines since the last one when a line may be logged, else -1. */
  take(key: string): number {
    const t = this.now();
    const e = this.last.get(key);
    if (e && t - e.at < this.intervalMs) {
      e.suppressed++;
      return -1;
    }
    if (!e && this.last.size >= this.maxKeys) this.last.clear();
    const suppressed = e?.suppressed ?? 0;
    this.last.set(key, { at: t, suppressed: 0 });
    return suppressed;
  }
}
