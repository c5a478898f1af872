// `mutt trace <correlation-id>`: where one event went (src/core/trace.ts), the same report as the
// admin API's trace route. Exit 0 found, 1 not found, 64 (EX_USAGE) for an id that cannot be one.
import { Keys } from '../../core/protocol/keys.ts';
import { checkTraceId, type TraceReport, TraceInputError, traceEvent } from '../../core/trace.ts';
import {
  CliError,
  cliLogger,
  connectRedis,
  embeddedPostgresRunning,
  loadConfigOrExit,
  poolFor,
} from '../context.ts';

/** sysexits.h EX_USAGE. */
export const EXIT_USAGE = 64;

const out = (s: string) => process.stdout.write(`${s}\n`);

export function formatTrace(r: TraceReport): string {
  const lines = [
    `${r.correlation_id}: ${r.found ? `${r.steps.length} step${r.steps.length === 1 ? '' : 's'}` : 'not found'}`,
  ];
  const stageWidth = Math.max(0, ...r.steps.map((s) => s.stage.length));
  for (const s of r.steps)
    lines.push(`  ${(s.at ?? '').padEnd(24)}  ${s.stage.padEnd(stageWidth)}  ${s.summary}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export async function traceCommand(
  id: string,
  o: { json?: boolean; host?: string; hours?: string },
): Promise<void> {
  let hours: number | undefined;
  if (o.hours !== undefined) {
    if (!/^\d+$/.test(o.hours) || Number(o.hours) < 1)
      throw new CliError(`--hours "${o.hours}": expected a positive integer`, EXIT_USAGE);
    hours = Number(o.hours);
  }
  const config = loadConfigOrExit();
  const log = cliLogger(config);
  // Checked before connecting: a malformed id is the caller's mistake, whatever the servers' state.
  try {
    checkTraceId(id);
  } catch (err) {
    if (err instanceof TraceInputError) throw new CliError(err.message, EXIT_USAGE);
    throw err;
  }
  const redis = await connectRedis(config, log);
  // The audit log is shared by the fleet: searched from any node that can reach it, whatever its roles.
  const usePg = !config.embeddedPostgres || embeddedPostgresRunning(config);
  const pool = usePg ? poolFor(config, log) : undefined;
  try {
    const r = await traceEvent({ redis, keys: new Keys(config), pool }, id, {
      host: o.host,
      auditHours: hours,
    });
    if (!usePg) {
      r.notes = r.notes.filter((n) => !n.startsWith('the audit log was not searched'));
      r.notes.unshift("the audit log was not searched: MUTT's embedded PostgreSQL is not running");
    }
    out(o.json ? JSON.stringify(r) : formatTrace(r));
    if (!r.found) process.exitCode = 1;
  } finally {
    redis.disconnect();
    await pool?.end();
  }
}
