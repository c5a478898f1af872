// What each worker role runs. The daemon starts worker threads only for roles of the node
// (MUTT_ROLES) that have a runner here and a non-zero worker count.
import { runAlerter } from '../core/alerter/register.ts';
import type { RoleRunner } from '../core/worker.ts';
import { runForwarder, runRemediation } from '../forwarder/register.ts';
import type { WorkerRole } from '../runtime/workers/protocol.ts';

export const ROLE_RUNNERS: Partial<Record<WorkerRole, RoleRunner>> = {
  alerter: runAlerter,
  forwarder: runForwarder,
  remediation: runRemediation,
};
