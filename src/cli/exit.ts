// Exit codes of every `mutt` command, from sysexits.h (the convention of sendmail, Postfix and
// rsyslog's tools), so scripts and systemd can tell a typo from an outage. The man page lists them.
export const EXIT = {
  /** The command did what was asked. */
  OK: 0,
  /** The command ran and the answer is no (a purge declined, names not found). */
  NO: 1,
  /** EX_USAGE: wrong arguments or options. */
  USAGE: 64,
  /** EX_DATAERR: input that does not validate (a value, a rule file). */
  DATAERR: 65,
  /** EX_NOINPUT: an input file or the named item does not exist. */
  NOINPUT: 66,
  /** EX_UNAVAILABLE: Redis or PostgreSQL is not running or not reachable, or a program is missing. */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: an internal error (a bug: please report it). */
  SOFTWARE: 70,
  /** EX_CANTCREAT: an output file cannot be written. */
  CANTCREAT: 73,
  /** EX_TEMPFAIL: a server did not answer in time; try again. */
  TEMPFAIL: 75,
  /** EX_NOPERM: not allowed (for example reading the API keys without being root or mutt). */
  NOPERM: 77,
  /** EX_CONFIG: the configuration has problems (`mutt validate` lists them). */
  CONFIG: 78,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Exit codes and their meaning, for `mutt --help` and the man page. */
export const EXIT_DOC: readonly [number, string][] = [
  [EXIT.OK, 'success'],
  [EXIT.NO, 'the command ran and the answer is no (a purge declined, OIDs not found)'],
  [EXIT.USAGE, 'EX_USAGE: wrong command line (unknown command or option, missing argument)'],
  [EXIT.DATAERR, 'EX_DATAERR: a value or an input file does not validate'],
  [EXIT.NOINPUT, 'EX_NOINPUT: an input file or the named item does not exist'],
  [
    EXIT.UNAVAILABLE,
    'EX_UNAVAILABLE: Redis or PostgreSQL not running or unreachable, or a required program missing',
  ],
  [EXIT.SOFTWARE, 'EX_SOFTWARE: internal error'],
  [EXIT.CANTCREAT, 'EX_CANTCREAT: a file cannot be written'],
  [EXIT.TEMPFAIL, 'EX_TEMPFAIL: a server did not answer in time; try again'],
  [EXIT.NOPERM, 'EX_NOPERM: permission denied'],
  [EXIT.CONFIG, 'EX_CONFIG: the configuration has problems (mutt validate lists them)'],
];
