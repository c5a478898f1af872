// Options of the Moogsoft sink, from the MOOG_* variables (declared and documented in
// src/runtime/config/schema.ts). Checked when the sink is built, naming the variable at fault.
import { hostname } from 'node:os';
import type { Config } from '../../../runtime/config/load.ts';

export type MoogAuth =
  | { mode: 'none' }
  | { mode: 'bearer'; token: string }
  | { mode: 'basic'; user: string; password: string }
  | { mode: 'auth_token'; token: string }
  | { mode: 'apikey'; key: string };

export interface MoogsoftOptions {
  url: string;
  /** URL remediation probes; the webhook URL itself (GET) when unset. */
  healthUrl?: string;
  payload: 'batch' | 'single';
  batchSize: number;
  timeoutMs: number;
  auth: MoogAuth;
  caFile?: string;
  tlsVerify: boolean;
  /** Connections kept per worker. */
  maxSockets: number;
  agentLocation: string;
  defaultTeam: string;
  /** Bytes of an answer read (the rest is discarded). */
  maxResponseBytes: number;
}

export type MoogsoftConfig = Pick<
  Config,
  | 'MOOG_WEBHOOK_URL'
  | 'MOOG_HEALTH_URL'
  | 'MOOG_PAYLOAD_MODE'
  | 'MOOG_BATCH_SIZE'
  | 'MOOG_WEBHOOK_TIMEOUT'
  | 'MOOG_AUTH_MODE'
  | 'MOOG_API_KEY'
  | 'MOOG_USERNAME'
  | 'MOOG_CA_FILE'
  | 'MOOG_TLS_VERIFY'
  | 'MOOG_MAX_IN_FLIGHT'
  | 'UNHANDLED_DEFAULT_TEAM'
>;

export const MAX_RESPONSE_BYTES = 64 * 1024;

export class MoogsoftConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoogsoftConfigError';
  }
}

export function moogsoftOptions(c: MoogsoftConfig): MoogsoftOptions {
  const url = c.MOOG_WEBHOOK_URL;
  if (!url) throw new MoogsoftConfigError('MOOG_WEBHOOK_URL: not set');
  const key = c.MOOG_API_KEY;
  const mode = c.MOOG_AUTH_MODE ?? (key !== undefined ? 'bearer' : 'none');
  const needKey = (): string => {
    if (key === undefined)
      throw new MoogsoftConfigError(`MOOG_AUTH_MODE="${mode}": needs MOOG_API_KEY (or MOOG_API_KEY_FILE)`);
    return key;
  };
  let auth: MoogAuth;
  switch (mode) {
    case 'none':
      auth = { mode };
      break;
    case 'bearer':
    case 'auth_token':
      auth = { mode, token: needKey() };
      break;
    case 'apikey':
      auth = { mode, key: needKey() };
      break;
    case 'basic':
      if (!c.MOOG_USERNAME) throw new MoogsoftConfigError('MOOG_AUTH_MODE="basic": needs MOOG_USERNAME');
      auth = { mode, user: c.MOOG_USERNAME, password: needKey() };
      break;
  }
  return {
    url,
    healthUrl: c.MOOG_HEALTH_URL,
    payload: c.MOOG_PAYLOAD_MODE,
    batchSize: c.MOOG_PAYLOAD_MODE === 'single' ? 1 : c.MOOG_BATCH_SIZE,
    timeoutMs: Math.max(1, Math.round(c.MOOG_WEBHOOK_TIMEOUT * 1000)),
    auth,
    caFile: c.MOOG_CA_FILE,
    tlsVerify: c.MOOG_TLS_VERIFY,
    maxSockets: c.MOOG_MAX_IN_FLIGHT,
    agentLocation: hostname(),
    defaultTeam: c.UNHANDLED_DEFAULT_TEAM,
    maxResponseBytes: MAX_RESPONSE_BYTES,
  };
}
