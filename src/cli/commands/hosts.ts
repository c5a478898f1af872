// `mutt hosts list|add|rm|export|import` (development hosts: their events take a rule's dev_handling)
// and `mutt teams list|add|rm|export|import` (the team of a host's unhandled meta-alerts), through the
// admin services (src/core/admin/hosts.ts) the API and UI call too. Imports validate the whole file
// first and write nothing when an entry is bad; --dry-run prints what would change.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import {
  type AdminContext,
  addDevHost,
  addTeam,
  deleteDevHost,
  deleteTeam,
  listDevHosts,
  listTeams,
  updateTeam,
} from '../../core/admin/index.ts';
import { CliError, cliActor, withAdmin } from '../context.ts';
import { EXIT } from '../exit.ts';
import {
  diffHosts,
  diffTeams,
  type HostChange,
  readList,
  RuleFileError,
  type TeamChange,
  validateHosts,
  validateTeams,
} from '../ruleset.ts';
import { readFileOrExit } from './rules.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);
const admin = <T>(fn: (ctx: AdminContext) => Promise<T>) => withAdmin(fn, { postgres: true });

function writeExport(text: string, output: string | undefined, what: string): void {
  if (!output) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(output, text);
  } catch (err) {
    throw new CliError(`cannot write ${output}: ${(err as Error).message}`, EXIT.CANTCREAT);
  }
  process.stderr.write(`exported ${what} to ${output}\n`);
}

function exportText(
  doc: object,
  format: 'yaml' | 'json' | undefined,
  output: string | undefined,
  title: string,
) {
  const f = format ?? (output?.endsWith('.json') ? 'json' : 'yaml');
  return f === 'json'
    ? `${JSON.stringify(doc, null, 2)}\n`
    : `# ${title}\n${stringify(doc, { lineWidth: 0 })}`;
}

function fileError(err: unknown, json: boolean | undefined): never {
  if (err instanceof RuleFileError) {
    if (json) out(JSON.stringify({ imported: false, bad: err.bad }));
    throw new CliError(err.message, EXIT.DATAERR);
  }
  throw err;
}

// ── development hosts ────────────────────────────────────────────────────────────────────────────

export async function hostsListCommand(o: { json?: boolean }): Promise<void> {
  await admin(async (ctx) => {
    const hosts = await listDevHosts(ctx);
    if (o.json) out(JSON.stringify({ hosts }));
    else if (hosts.length === 0) out('no development hosts (events of every host take prod_handling)');
    else for (const h of hosts) out(h.hostname);
  });
}

export async function hostsAddCommand(
  hostname: string,
  o: { reason?: string; json?: boolean },
): Promise<void> {
  await admin(async (ctx) => {
    const r = await addDevHost(ctx, { hostname, reason: o.reason }, cliActor(o.reason));
    if (o.json) out(JSON.stringify({ host: r.host, applied: r.applied }));
    else out(`added development host ${r.host.hostname}`);
  });
}

export async function hostsRemoveCommand(
  hostname: string,
  o: { reason?: string; json?: boolean },
): Promise<void> {
  await admin(async (ctx) => {
    const r = await deleteDevHost(ctx, hostname, cliActor(o.reason));
    if (o.json) out(JSON.stringify({ deleted: r.host, applied: r.applied }));
    else out(`removed development host ${r.host.hostname}`);
  });
}

export async function hostsExportCommand(o: { format?: 'yaml' | 'json'; output?: string }): Promise<void> {
  await admin(async (ctx) => {
    const hosts = (await listDevHosts(ctx)).map((h) => h.hostname);
    const text = exportText(
      { hosts },
      o.format,
      o.output,
      'MUTT development hosts (mutt hosts export); apply with: mutt hosts import <file>',
    );
    writeExport(text, o.output, `${hosts.length} host(s)`);
  });
}

const hostLine = (c: HostChange) =>
  c.action === 'create'
    ? `+ add     ${c.hostname}`
    : c.action === 'delete'
      ? `- remove  ${c.hostname} (not in the file)`
      : `  same    ${c.hostname}`;

export async function hostsImportCommand(
  file: string,
  o: { dryRun?: boolean; prune?: boolean; reason?: string; json?: boolean },
): Promise<void> {
  const text = readFileOrExit(file);
  await admin(async (ctx) => {
    let plan: HostChange[] = [];
    try {
      plan = diffHosts(await listDevHosts(ctx), validateHosts(readList(text, file, 'hosts'), file), o);
    } catch (err) {
      fileError(err, o.json);
    }
    const n = (a: HostChange['action']) => plan.filter((c) => c.action === a).length;
    const summary = { add: n('create'), remove: n('delete'), unchanged: n('unchanged') };
    if (!o.dryRun) {
      const actor = cliActor(o.reason ?? `mutt hosts import ${file}`);
      for (const c of plan) {
        if (c.action === 'create')
          await addDevHost(ctx, { hostname: c.hostname, reason: actor.reason }, actor);
        else if (c.action === 'delete') await deleteDevHost(ctx, c.hostname, actor);
      }
    }
    if (o.json) out(JSON.stringify({ dry_run: o.dryRun === true, summary, changes: plan }));
    else {
      for (const c of plan) if (c.action !== 'unchanged') out(hostLine(c));
      out(
        `${o.dryRun ? 'dry run: ' : `imported ${file}: `}${summary.add} to add, ${summary.remove} to remove, ${summary.unchanged} unchanged${o.dryRun ? '; nothing written' : ''}`,
      );
    }
  });
}

// ── teams ────────────────────────────────────────────────────────────────────────────────────────

export async function teamsListCommand(o: { json?: boolean }): Promise<void> {
  await admin(async (ctx) => {
    const teams = await listTeams(ctx);
    if (o.json) out(JSON.stringify({ teams }));
    else if (teams.length === 0) out('no device teams (unhandled meta-alerts go to UNHANDLED_DEFAULT_TEAM)');
    else {
      const w = Math.max(8, ...teams.map((t) => t.hostname.length));
      out(`${'hostname'.padEnd(w)}  team`);
      for (const t of teams) out(`${t.hostname.padEnd(w)}  ${t.team_assignment}`);
    }
  });
}

export async function teamsAddCommand(
  hostname: string,
  team: string,
  o: { reason?: string; json?: boolean },
): Promise<void> {
  await admin(async (ctx) => {
    const r = await addTeam(ctx, { hostname, team_assignment: team, reason: o.reason }, cliActor(o.reason));
    if (o.json) out(JSON.stringify({ team: r.team, applied: r.applied }));
    else out(`${r.team.hostname} → ${r.team.team_assignment}`);
  });
}

export async function teamsRemoveCommand(
  hostname: string,
  o: { reason?: string; json?: boolean },
): Promise<void> {
  await admin(async (ctx) => {
    const r = await deleteTeam(ctx, hostname, cliActor(o.reason));
    if (o.json) out(JSON.stringify({ deleted: r.team, applied: r.applied }));
    else out(`removed the team of ${r.team.hostname} (was ${r.team.team_assignment})`);
  });
}

export async function teamsExportCommand(o: { format?: 'yaml' | 'json'; output?: string }): Promise<void> {
  await admin(async (ctx) => {
    const teams = await listTeams(ctx);
    const text = exportText(
      { teams },
      o.format,
      o.output,
      'MUTT device teams (mutt teams export); apply with: mutt teams import <file>',
    );
    writeExport(text, o.output, `${teams.length} team mapping(s)`);
  });
}

const teamLine = (c: TeamChange) =>
  c.action === 'create'
    ? `+ add     ${c.hostname} → ${c.team_assignment}`
    : c.action === 'update'
      ? `~ change  ${c.hostname}: ${c.before} → ${c.team_assignment}`
      : c.action === 'delete'
        ? `- remove  ${c.hostname} → ${c.team_assignment} (not in the file)`
        : `  same    ${c.hostname} → ${c.team_assignment}`;

export async function teamsImportCommand(
  file: string,
  o: { dryRun?: boolean; prune?: boolean; reason?: string; json?: boolean },
): Promise<void> {
  const text = readFileOrExit(file);
  await admin(async (ctx) => {
    let plan: TeamChange[] = [];
    try {
      plan = diffTeams(await listTeams(ctx), validateTeams(readList(text, file, 'teams'), file), o);
    } catch (err) {
      fileError(err, o.json);
    }
    const n = (a: TeamChange['action']) => plan.filter((c) => c.action === a).length;
    const summary = { add: n('create'), change: n('update'), remove: n('delete'), unchanged: n('unchanged') };
    if (!o.dryRun) {
      const actor = cliActor(o.reason ?? `mutt teams import ${file}`);
      for (const c of plan) {
        const body = { hostname: c.hostname, team_assignment: c.team_assignment, reason: actor.reason };
        if (c.action === 'create') await addTeam(ctx, body, actor);
        else if (c.action === 'update')
          await updateTeam(
            ctx,
            c.hostname,
            { team_assignment: c.team_assignment, reason: actor.reason },
            actor,
          );
        else if (c.action === 'delete') await deleteTeam(ctx, c.hostname, actor);
      }
    }
    if (o.json) out(JSON.stringify({ dry_run: o.dryRun === true, summary, changes: plan }));
    else {
      for (const c of plan) if (c.action !== 'unchanged') out(teamLine(c));
      out(
        `${o.dryRun ? 'dry run: ' : `imported ${file}: `}${summary.add} to add, ${summary.change} to change, ${summary.remove} to remove, ${summary.unchanged} unchanged${o.dryRun ? '; nothing written' : ''}`,
      );
    }
  });
}
