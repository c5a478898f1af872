// MUTT's error catalogue: stable codes, an HTTP status where one applies, and one factory. API error
// bodies and metric reason labels come from here, so a code means the same thing everywhere.

export const ERRORS = {
  UNAUTHORIZED: { status: 401, reason: 'auth', message: 'Unauthorized' },
  INVALID_JSON: { status: 400, reason: 'invalid_json', message: 'Request body is not valid JSON' },
  INVALID_BODY: {
    status: 400,
    reason: 'invalid_body',
    message: 'Request body must be a JSON object or an array of objects',
  },
  INVALID_EVENT: { status: 400, reason: 'invalid_event', message: 'Invalid event' },
  EMPTY_BODY: { status: 400, reason: 'empty_body', message: 'Request body is empty' },
  BODY_TOO_LARGE: { status: 413, reason: 'too_large', message: 'Request body too large' },
  RATE_LIMITED: { status: 429, reason: 'rate_limit', message: 'Rate limit exceeded' },
  QUEUE_FULL: { status: 503, reason: 'queue_full', message: 'Ingest queue full' },
  REDIS_UNAVAILABLE: { status: 503, reason: 'redis_unavailable', message: 'Redis unavailable' },
  REPLICA_TIMEOUT: {
    status: 503,
    reason: 'replica_timeout',
    message: 'Redis replicas did not confirm the events in time (REDIS_MIN_REPLICAS_ACK)',
  },
  NOT_FOUND: { status: 404, reason: 'not_found', message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, reason: 'method_not_allowed', message: 'Method not allowed' },
  INTERNAL: { status: 500, reason: 'internal', message: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class MuttError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly reason: string;
  /** Extra fields for the JSON error body (never secrets). */
  readonly details: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    message?: string,
    extra: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message ?? ERRORS[code].message, { cause: extra.cause });
    this.name = 'MuttError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.reason = ERRORS[code].reason;
    this.details = extra.details ?? {};
    this.headers = extra.headers ?? {};
  }
}

export const muttError = (
  code: ErrorCode,
  message?: string,
  extra?: ConstructorParameters<typeof MuttError>[2],
) => new MuttError(code, message, extra);
