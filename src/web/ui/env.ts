// What the UI's middleware leaves on a request's context, beside the admin app's own (../env.ts).
import type { AdminContext } from '../../core/admin/context.ts';
import type { MetricsSummaryCache } from '../../core/admin/metrics.ts';
import type { HealthReport } from '../../runtime/health.ts';
import type { Logger } from '../../runtime/logging.ts';
import type { WebEnv } from '../env.ts';
import type { SourceRates } from './rates.ts';
import type { Session, Sessions } from './session.ts';

export type UiEnv = {
  Variables: WebEnv['Variables'] & {
    session?: Session;
    /** The session's CSRF token (forms and htmx send it back). */
    csrf: string;
    node: { pod: string; roles: readonly string[] };
  };
};

/** What the SLO panel shows when the node can compute it (see UiOptions.slo). */
export interface SloPanel {
  /** One line per objective: name, target and current value (percent), and whether it is met. */
  objectives: { name: string; target: number; current: number | null; met: boolean | null }[];
  window: string;
  note?: string;
}

export interface UiDeps {
  ctx: AdminContext;
  sessions: Sessions;
  log: Logger;
  health: () => Promise<HealthReport>;
  rates: SourceRates;
  metricsCache: MetricsSummaryCache;
  slo?: () => Promise<SloPanel | undefined>;
}
