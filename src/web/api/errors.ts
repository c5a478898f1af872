// One table from admin-service errors to HTTP answers: `{"error": "…"}` as Python MUTT answers,
// plus `fields` (each bad field and why) and the correlation id.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AdminError, type AdminErrorCode } from '../../core/admin/errors.ts';
import type { Logger } from '../../runtime/logging.ts';
import { LogLimiter } from '../../runtime/logging.ts';
import type { WebEnv } from '../env.ts';

export const STATUS: Record<AdminErrorCode, 400 | 404 | 409 | 412 | 503> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  unavailable: 503,
};

const limiter = new LogLimiter(60_000);

export function errorResponse(c: Context<WebEnv>, err: unknown, log: Logger): Response {
  const correlation_id = c.get('correlationId');
  if (err instanceof AdminError) {
    if (err.currentEtag) c.header('ETag', err.currentEtag);
    if (err.code === 'unavailable') {
      c.header('Retry-After', '5');
      const suppressed = limiter.take('unavailable');
      if (suppressed >= 0)
        log.warn({ correlation_id, err: err.message, suppressed }, 'admin request: a store is unavailable');
    }
    return c.json(
      {
        error: err.message,
        ...(err.fields.length > 0 ? { fields: err.fields } : {}),
        ...(err.currentEtag ? { current_etag: err.currentEtag } : {}),
        correlation_id,
      },
      STATUS[err.code],
    );
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    const message =
      status === 413
        ? 'Request body too large (the admin API accepts at most 1 MiB)'
        : status === 400 && /JSON/i.test(err.message)
          ? `Request body is not valid JSON: ${err.message}`
          : err.message || 'Bad request';
    return c.json({ error: message, correlation_id }, status);
  }
  const suppressed = limiter.take('internal');
  if (suppressed >= 0) log.error({ correlation_id, err, suppressed }, 'admin request failed');
  return c.json(
    { error: 'Internal error (the log has the details under this correlation id)', correlation_id },
    500,
  );
}
