// What the admin app's middleware leaves on a request's context.
import type { Actor } from '../core/admin/context.ts';

export type WebEnv = {
  Variables: {
    correlationId: string;
    /** Who is calling (set once authenticated). */
    actor: Actor;
    /** Labels for the request log and metrics, filled as the request goes. */
    metricsLabel: { auth?: 'missing' | 'wrong' };
  };
};
