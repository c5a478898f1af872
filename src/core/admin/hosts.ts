// Development hosts (events from them use a rule's dev_handling) and device teams (the team of a
// host's unhandled meta-alerts). Writes are audited and live when they return, like rule writes.
// Host names are stored and returned exactly as given: they are parameters, never SQL.
import type { Actor, AdminContext } from './context.ts';
import { query } from './context.ts';
import { auditChange, checkIfMatch, etagOf, ruleSetChange } from './changes.ts';
import { AdminError, notFound } from './errors.ts';
import type { Applied } from './generation.ts';
import { DevHostCreate, parseInput, TeamCreate, TeamUpdate } from './schemas.ts';

export interface DevHost {
  hostname: string;
}
export interface Team {
  hostname: string;
  team_assignment: string;
}

const exists = (what: string) => new AdminError('conflict', `${what} already exists`);

// ── development hosts ────────────────────────────────────────────────────────────────────────────

export async function listDevHosts(ctx: AdminContext): Promise<DevHost[]> {
  return (
    await query<DevHost>(ctx, 'list_dev_hosts', 'SELECT hostname FROM development_hosts ORDER BY hostname')
  ).rows;
}

export async function addDevHost(
  ctx: AdminContext,
  input: unknown,
  actor: Actor,
): Promise<{ host: DevHost; etag: string; applied: Applied }> {
  const b = parseInput(DevHostCreate, input);
  const { result, applied } = await ruleSetChange(ctx, 'add_dev_host', async (client) => {
    const r = await client.query<DevHost>(
      'INSERT INTO development_hosts (hostname) VALUES ($1) ON CONFLICT DO NOTHING RETURNING hostname',
      [b.hostname],
    );
    if (r.rowCount === 0) throw exists(`development host "${b.hostname}"`);
    await auditChange(client, actor, {
      table: 'development_hosts',
      operation: 'CREATE',
      newValues: { hostname: b.hostname },
      reason: b.reason,
    });
    return r.rows[0]!;
  });
  return { host: result, etag: etagOf(result), applied };
}

export async function deleteDevHost(
  ctx: AdminContext,
  hostname: string,
  actor: Actor,
  ifMatch?: string,
): Promise<{ host: DevHost; applied: Applied }> {
  const { result, applied } = await ruleSetChange(ctx, 'delete_dev_host', async (client) => {
    const r = await client.query<DevHost>(
      'SELECT hostname FROM development_hosts WHERE hostname = $1 FOR UPDATE',
      [hostname],
    );
    const row = r.rows[0];
    if (!row) throw notFound(`development host "${hostname}"`);
    checkIfMatch(ifMatch, etagOf(row), `development host "${hostname}"`);
    await client.query('DELETE FROM development_hosts WHERE hostname = $1', [hostname]);
    await auditChange(client, actor, {
      table: 'development_hosts',
      operation: 'DELETE',
      oldValues: row,
      reason: actor.reason,
    });
    return row;
  });
  return { host: result, applied };
}

// ── device teams ─────────────────────────────────────────────────────────────────────────────────

export async function listTeams(ctx: AdminContext): Promise<Team[]> {
  return (
    await query<Team>(
      ctx,
      'list_teams',
      'SELECT hostname, team_assignment FROM device_teams ORDER BY hostname',
    )
  ).rows;
}

export async function getTeam(ctx: AdminContext, hostname: string): Promise<{ team: Team; etag: string }> {
  const r = await query<Team>(
    ctx,
    'get_team',
    'SELECT hostname, team_assignment FROM device_teams WHERE hostname = $1',
    [hostname],
  );
  const team = r.rows[0];
  if (!team) throw notFound(`team mapping for "${hostname}"`);
  return { team, etag: etagOf(team) };
}

export async function addTeam(
  ctx: AdminContext,
  input: unknown,
  actor: Actor,
): Promise<{ team: Team; etag: string; applied: Applied }> {
  const b = parseInput(TeamCreate, input);
  const { result, applied } = await ruleSetChange(ctx, 'add_team', async (client) => {
    const r = await client.query<Team>(
      `INSERT INTO device_teams (hostname, team_assignment) VALUES ($1, $2) ON CONFLICT DO NOTHING
       RETURNING hostname, team_assignment`,
      [b.hostname, b.team_assignment.trim()],
    );
    if (r.rowCount === 0) throw exists(`a team mapping for "${b.hostname}"`);
    const team = r.rows[0]!;
    await auditChange(client, actor, {
      table: 'device_teams',
      operation: 'CREATE',
      newValues: team,
      reason: b.reason,
    });
    return team;
  });
  return { team: result, etag: etagOf(result), applied };
}

export async function updateTeam(
  ctx: AdminContext,
  hostname: string,
  input: unknown,
  actor: Actor,
  ifMatch?: string,
): Promise<{ team: Team; etag: string; applied: Applied }> {
  const b = parseInput(TeamUpdate, input);
  const { result, applied } = await ruleSetChange(ctx, 'update_team', async (client) => {
    const r = await client.query<Team>(
      'SELECT hostname, team_assignment FROM device_teams WHERE hostname = $1 FOR UPDATE',
      [hostname],
    );
    const old = r.rows[0];
    if (!old) throw notFound(`team mapping for "${hostname}"`);
    checkIfMatch(ifMatch, etagOf(old), `team mapping for "${hostname}"`);
    const u = await client.query<Team>(
      'UPDATE device_teams SET team_assignment = $2 WHERE hostname = $1 RETURNING hostname, team_assignment',
      [hostname, b.team_assignment.trim()],
    );
    const team = u.rows[0]!;
    await auditChange(client, actor, {
      table: 'device_teams',
      operation: 'UPDATE',
      oldValues: old,
      newValues: team,
      reason: b.reason,
    });
    return team;
  });
  return { team: result, etag: etagOf(result), applied };
}

export async function deleteTeam(
  ctx: AdminContext,
  hostname: string,
  actor: Actor,
  ifMatch?: string,
): Promise<{ team: Team; applied: Applied }> {
  const { result, applied } = await ruleSetChange(ctx, 'delete_team', async (client) => {
    const r = await client.query<Team>(
      'SELECT hostname, team_assignment FROM device_teams WHERE hostname = $1 FOR UPDATE',
      [hostname],
    );
    const old = r.rows[0];
    if (!old) throw notFound(`team mapping for "${hostname}"`);
    checkIfMatch(ifMatch, etagOf(old), `team mapping for "${hostname}"`);
    await client.query('DELETE FROM device_teams WHERE hostname = $1', [hostname]);
    await auditChange(client, actor, {
      table: 'device_teams',
      operation: 'DELETE',
      oldValues: old,
      reason: actor.reason,
    });
    return old;
  });
  return { team: result, applied };
}
