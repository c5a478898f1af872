// The forwarder's retry policy as explicit functions (PROTOCOL.md, "Forwarder"; docs/FORWARDER.md):
// what an HTTP answer or a transport error means for the alerts of a request, for the circuit
// breaker, and how long a retried alert waits. Every HTTP sink classifies with these, so a status
// means the same thing for Moogsoft and for the sinks that come after it.
//
//   answer                         alerts                       breaker   reason label
//   2xx (200, 202, …)              delivered                    success   —
//   429, 425                       retry (Retry-After honoured) neutral   http_429 / http_425
//   408, 5xx                       retry (Retry-After honoured) failure   http_408 / http_5xx family
//   timeout, connection, DNS, TLS  retry                        failure   timeout / connection_* / dns / tls
//   (a retried alert is retried until delivered; MOOG_RETRY_EXHAUSTED_MODE=dlq restores MUTT 2.x's
//   DLQ after MOOG_MAX_RETRIES)
//   400, 413, 422                  reject → DLQ (a batch is     neutral   http_400 / http_413 / http_422
//                                  first split in halves to find the bad alerts)
//   401, 403, 407                  reject → DLQ                 neutral   auth
//   other 4xx, 3xx                 reject → DLQ                 neutral   http_404 … / http_4xx / http_3xx
//
// Reason labels come from a bounded set, so they can be metric labels.

export type BreakerEffect = 'success' | 'failure' | 'neutral';

export type Classification =
  | { outcome: 'delivered'; status: number; breaker: 'success' }
  | {
      outcome: 'retry';
      reason: string;
      status?: number;
      breaker: BreakerEffect;
      retryAfterMs?: number;
    }
  | {
      outcome: 'reject';
      reason: string;
      status?: number;
      breaker: 'neutral';
      /** A content error: the alerts of a batch may be retried in halves to isolate the bad ones. */
      splittable: boolean;
      auth: boolean;
    };

/** The longest Retry-After MUTT honours; a longer one is cut to this. */
export const MAX_RETRY_AFTER_MS = 15 * 60 * 1000;

const NAMED_5XX = new Set([500, 502, 503, 504]);
const NAMED_4XX = new Set([400, 401, 403, 404, 405, 407, 408, 409, 410, 413, 415, 422, 425, 429]);

/** Bounded metric label of an HTTP status. */
export const statusLabel = (status: number): string => {
  if (status >= 500 && status <= 599) return NAMED_5XX.has(status) ? `http_${status}` : 'http_5xx';
  if (NAMED_4XX.has(status)) return `http_${status}`;
  if (status >= 400 && status <= 499) return 'http_4xx';
  if (status >= 300 && status <= 399) return 'http_3xx';
  return 'http_other';
};

/** Classifies an HTTP answer. `retryAfter` is the raw Retry-After header, if any. */
export function classifyStatus(status: number, retryAfter?: string, nowMs = Date.now()): Classification {
  if (status >= 200 && status <= 299) return { outcome: 'delivered', status, breaker: 'success' };
  const after = parseRetryAfter(retryAfter, nowMs);
  const withAfter = after === undefined ? {} : { retryAfterMs: after };
  if (status === 429 || status === 425)
    return { outcome: 'retry', reason: statusLabel(status), status, breaker: 'neutral', ...withAfter };
  if (status === 408 || (status >= 500 && status <= 599))
    return {
      outcome: 'retry',
      reason: statusLabel(status),
      status,
      breaker: 'failure',
      ...withAfter,
    };
  if (status === 401 || status === 403 || status === 407)
    return { outcome: 'reject', reason: 'auth', status, breaker: 'neutral', splittable: false, auth: true };
  if (status >= 300 && status <= 499)
    return {
      outcome: 'reject',
      reason: statusLabel(status),
      status,
      breaker: 'neutral',
      splittable: status === 400 || status === 413 || status === 422,
      auth: false,
    };
  // 1xx as a final answer, or a status outside HTTP: the server misbehaves, try again later.
  return { outcome: 'retry', reason: 'http_other', status, breaker: 'failure' };
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** Classifies a request that got no HTTP answer. All of these are retried and count as failures. */
export function classifyError(err: unknown): Classification & { outcome: 'retry' } {
  const e = err as { code?: string; name?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  let reason = 'network';
  if (e?.name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT')
    reason = 'timeout';
  else if (code === 'ECONNREFUSED') reason = 'connection_refused';
  else if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/i.test(e?.message ?? ''))
    reason = 'connection_reset';
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') reason = 'dns';
  else if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) reason = 'tls';
  return { outcome: 'retry', reason, breaker: 'failure' };
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined when absent/invalid. */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v.length === 0) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * Full-jitter exponential backoff: a uniform delay in [0, min(max, base·2^retries)), where `retries`
 * is how many retries the alert already had. A server's Retry-After is a floor.
 */
export function backoffDelay(
  retries: number,
  o: BackoffOptions,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(retries, 30));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
}

/**
 * What happens to one alert of a request that failed transiently: another try; in `retry` mode (the
 * default), past MOOG_MAX_RETRIES, another try that is reported (`retry_exhausted`); in `dlq` mode
 * (MUTT 2.x), the DLQ.
 */
export function retryOrGiveUp(
  retriesSoFar: number,
  maxRetries: number,
  mode: 'retry' | 'dlq' = 'retry',
): 'retry' | 'retry_exhausted' | 'dlq' {
  if (retriesSoFar < maxRetries) return 'retry';
  return mode === 'dlq' ? 'dlq' : 'retry_exhausted';
}
