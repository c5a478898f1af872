// Correlation IDs (`_correlation_id`, the `X-Correlation-ID` header): MUTT generates UUIDs; a client
// may bring its own when it is short and printable. `mutt trace` and the trace API accept the same.

const CORRELATION_ID_RE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** What a correlation ID may look like, for error messages. */
export const CORRELATION_ID_FORMAT =
  '1 to 128 characters among letters, digits and . _ : @ / + = - (MUTT generates UUIDs such as 0b7e1f0e-3b1d-4b0c-9a51-5f0f5f3d9c11)';

export function isCorrelationId(v: unknown): v is string {
  return typeof v === 'string' && CORRELATION_ID_RE.test(v);
}
