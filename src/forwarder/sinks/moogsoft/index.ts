// The Moogsoft sink: alerts as REST LAM events (./payload.ts), batched as `{"events":[…]}` or one
// object per request (MOOG_PAYLOAD_MODE=single, what Python MUTT 2.x sends), with Bearer, basic,
// REST LAM `auth_token` or `apiKey` authentication, over HTTPS verified against the system CAs or
// MOOG_CA_FILE. Answers are classified by the shared retry policy; the credential never appears in a
// log line, an outcome detail or a DLQ reason (an echoed credential is blanked in excerpts).
import type { Alert } from '../../alert.ts';
import { classifyError, classifyStatus, statusLabel } from '../../retry-policy.ts';
import { excerpt, HttpClient } from '../http.ts';
import type { AlertOutcome, ProbeResult, SendOptions, SendResult, Sink } from '../types.ts';
import { type MoogsoftConfig, type MoogsoftOptions, moogsoftOptions } from './config.ts';
import { type MoogEvent, toMoogEvent } from './payload.ts';

export { type MoogsoftOptions, moogsoftOptions } from './config.ts';
export { type MoogEvent, moogSeverity, pythonMoogSeverity, toMoogEvent } from './payload.ts';

const USER_AGENT = `MUTT/${typeof __MUTT_VERSION__ === 'string' ? __MUTT_VERSION__ : '0.0.0-dev'}`;

export class MoogsoftSink implements Sink {
  readonly name = 'moogsoft';
  readonly target: string;
  readonly maxBatch: number;
  readonly guarded = true;
  private o: MoogsoftOptions;
  private readonly client: HttpClient;
  private headers: Record<string, string>;
  private secrets: (string | undefined)[];
  private readonly config?: MoogsoftConfig;

  constructor(o: MoogsoftOptions, config?: MoogsoftConfig) {
    this.o = o;
    this.config = config;
    this.maxBatch = o.payload === 'single' ? 1 : o.batchSize;
    // For logs: no user info and no query string (either may carry a credential).
    const u = new URL(o.url);
    this.target = `${u.origin}${u.pathname}`;
    this.client = new HttpClient({
      url: o.url,
      timeoutMs: o.timeoutMs,
      maxResponseBytes: o.maxResponseBytes,
      caFile: o.caFile,
      verify: o.tlsVerify,
      maxSockets: o.maxSockets,
    });
    this.headers = {};
    this.secrets = [];
    this.useAuth(o.auth);
  }

  /** Headers and the list of strings blanked in excerpts, for one credential. */
  private useAuth(a: MoogsoftOptions['auth']): void {
    this.headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
    };
    if (a.mode === 'bearer') this.headers.Authorization = `Bearer ${a.token}`;
    else if (a.mode === 'basic')
      this.headers.Authorization = `Basic ${Buffer.from(`${a.user}:${a.password}`).toString('base64')}`;
    else if (a.mode === 'apikey') this.headers.apiKey = a.key;
    this.secrets = [
      a.mode === 'bearer' || a.mode === 'auth_token' ? a.token : undefined,
      a.mode === 'basic' ? a.password : undefined,
      a.mode === 'apikey' ? a.key : undefined,
    ];
  }

  static fromConfig(c: MoogsoftConfig): MoogsoftSink {
    return new MoogsoftSink(moogsoftOptions(c), c);
  }

  /**
   * A rotated MOOG_API_KEY: requests from now on carry it. A key that the configured MOOG_AUTH_MODE
   * cannot use (none given) keeps the previous one.
   */
  setCredential(apiKey: string | undefined): void {
    if (!this.config) return;
    let next: MoogsoftOptions;
    try {
      next = moogsoftOptions({ ...this.config, MOOG_AUTH_MODE: this.o.auth.mode, MOOG_API_KEY: apiKey });
    } catch {
      return;
    }
    // The old key stays blanked in excerpts too: an answer may still echo it.
    const old = this.secrets;
    this.o = { ...this.o, auth: next.auth };
    this.useAuth(next.auth);
    this.secrets = [...this.secrets, ...old.slice(0, 3)];
  }

  /** The request body for rendered events (the REST LAM auth_token travels in it). */
  private body(events: MoogEvent[]): string {
    const token = this.o.auth.mode === 'auth_token' ? { auth_token: this.o.auth.token } : {};
    if (this.o.payload === 'single') return JSON.stringify({ ...events[0], ...token });
    return JSON.stringify({ ...token, events });
  }

  async send(alerts: readonly Alert[], options: SendOptions = {}): Promise<SendResult> {
    const outcomes: AlertOutcome[] = new Array<AlertOutcome>(alerts.length);
    const events: MoogEvent[] = [];
    const sent: number[] = [];
    alerts.forEach((a, i) => {
      try {
        events.push(toMoogEvent(a, this.o, options.compat));
        sent.push(i);
      } catch (err) {
        outcomes[i] = {
          kind: 'reject',
          reason: 'render_failed',
          detail: `could not build the Moogsoft event: ${(err as Error).message}`,
        };
      }
    });
    if (events.length === 0)
      return { outcomes, breaker: 'neutral', reason: 'render_failed', latencyMs: 0, anomalies: [] };

    const fill = (o: AlertOutcome) => {
      for (const i of sent) outcomes[i] = o;
    };
    const started = performance.now();
    let answer;
    try {
      answer = await this.client.request({ method: 'POST', headers: this.headers, body: this.body(events) });
    } catch (err) {
      const c = classifyError(err);
      const detail = `no answer from Moogsoft (${c.reason}): ${excerpt((err as Error).message, this.secrets)}`;
      fill({ kind: 'retry', reason: c.reason, detail });
      return {
        outcomes,
        breaker: c.breaker,
        reason: c.reason,
        latencyMs: performance.now() - started,
        anomalies: [],
      };
    }

    const anomalies = answerAnomalies(answer.headers['content-type'], answer.body, answer.truncated);
    const c = classifyStatus(answer.status, headerValue(answer.headers['retry-after']));
    const quoted = () => {
      const e = excerpt(answer.body, this.secrets);
      return `HTTP ${answer.status} from Moogsoft${e ? `: ${e}` : ''}`;
    };
    if (c.outcome === 'delivered') fill({ kind: 'delivered' });
    else if (c.outcome === 'retry')
      fill({
        kind: 'retry',
        reason: c.reason,
        detail: quoted(),
        ...(c.retryAfterMs !== undefined ? { retryAfterMs: c.retryAfterMs } : {}),
      });
    else
      fill({
        kind: 'reject',
        reason: c.reason,
        detail: quoted(),
        status: answer.status,
        splittable: c.splittable,
        auth: c.auth,
      });
    return {
      outcomes,
      breaker: c.breaker,
      reason: c.outcome === 'delivered' ? 'ok' : c.reason,
      status: answer.status,
      latencyMs: answer.latencyMs,
      anomalies,
    };
  }

  /**
   * GET MOOG_HEALTH_URL (healthy on 2xx) or, without it, GET the webhook URL: any answer below 500
   * shows the LAM is up, except those that say the credentials are refused or it is overloaded.
   */
  async probe(): Promise<ProbeResult> {
    const started = performance.now();
    const { Authorization, apiKey } = this.headers;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT };
    if (Authorization) headers.Authorization = Authorization;
    if (apiKey) headers.apiKey = apiKey;
    try {
      const a = await this.client.request({ method: 'GET', url: this.o.healthUrl, headers });
      const s = a.status;
      const healthy = this.o.healthUrl
        ? s >= 200 && s <= 299
        : s < 500 && s !== 401 && s !== 403 && s !== 407 && s !== 429;
      const reason = healthy ? 'ok' : s === 401 || s === 403 || s === 407 ? 'auth' : statusLabel(s);
      return { healthy, reason, status: s, latencyMs: a.latencyMs };
    } catch (err) {
      return { healthy: false, reason: classifyError(err).reason, latencyMs: performance.now() - started };
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Answer oddities that do not change the outcome but are counted. */
function answerAnomalies(contentType: string | undefined, body: string, truncated: boolean): string[] {
  const out: string[] = [];
  if (truncated) out.push('oversized');
  else if (contentType?.includes('json') && body.trim().length > 0) {
    try {
      JSON.parse(body);
    } catch {
      out.push('invalid_json');
    }
  }
  return out;
}
