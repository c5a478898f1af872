// What an admin operation can fail with, in words a person can act on. The API maps `code` to an
// HTTP status (one table, src/web/api/errors.ts), the UI puts each `fields` entry under its form
// field, and the CLI prints the message. Codes are stable.
import { isTransient } from '../../runtime/workers/loop.ts';

export type AdminErrorCode =
  | 'invalid' // the request itself is wrong (a field, a parameter)
  | 'not_found'
  | 'conflict' // it already exists, or is still referenced
  | 'precondition_failed' // If-Match names a version that is no longer current
  | 'unavailable'; // PostgreSQL or Redis cannot be reached

export interface FieldProblem {
  /** The field or parameter, as named in the request (`priority`, `start_date`, `rules[2].team`). */
  field: string;
  message: string;
}

export class AdminError extends Error {
  readonly code: AdminErrorCode;
  readonly fields: readonly FieldProblem[];
  /** precondition_failed: the current ETag, so a client can show what changed and retry. */
  readonly currentEtag?: string;

  constructor(
    code: AdminErrorCode,
    message: string,
    extra: { fields?: FieldProblem[]; currentEtag?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = 'AdminError';
    this.code = code;
    this.fields = extra.fields ?? [];
    this.currentEtag = extra.currentEtag;
  }
}

export const invalid = (field: string, message: string): AdminError =>
  new AdminError('invalid', `${field}: ${message}`, { fields: [{ field, message }] });

export const notFound = (what: string): AdminError => new AdminError('not_found', `${what} not found`);

/**
 * A PostgreSQL or Redis failure as the error to throw: unreachable servers become `unavailable`
 * (503), constraint violations a `conflict` or `invalid` naming the column; anything else unchanged.
 */
export function storeError(err: unknown, store: 'PostgreSQL' | 'Redis'): unknown {
  if (err instanceof AdminError) return err;
  const e = err as { code?: string; column?: string; constraint?: string; detail?: string; message?: string };
  if (isTransient(err) || e.code === '57014' /* statement timeout */) {
    const why =
      e.code === '57014' ? 'the query took too long (narrow the filters)' : (e.message ?? 'unreachable');
    return new AdminError('unavailable', `${store} unavailable: ${why}`, { cause: err });
  }
  if (e.code === '23505') return new AdminError('conflict', e.detail ?? 'already exists', { cause: err });
  if (e.code === '23503')
    return new AdminError('conflict', e.detail ?? 'still referenced by other rows', { cause: err });
  if (e.code === '23502' || e.code === '23514' || e.code === '22001' || e.code === '22P02') {
    const field = e.column ?? e.constraint ?? 'value';
    return new AdminError('invalid', `${field}: ${e.message ?? 'refused by PostgreSQL'}`, {
      fields: [{ field, message: e.message ?? 'refused by PostgreSQL' }],
      cause: err,
    });
  }
  return err;
}
