// `mutt rules|hosts|teams …` and `mutt status` through the real CLI, against real PostgreSQL and
// Redis, over the admin services the API uses: writes audited as cli:<user>@<host>, export/import as
// YAML or JSON with --dry-run, and the bad-input row: an import with bad entries writes nothing and
// names every bad entry with its line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../src/runtime/migrate.ts';
import { runMutt } from './harness/mutt-process.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices();
  await migrate(svc.pool, svc.log);
});
afterAll(async () => svc.cleanup());
beforeEach(async () => {
  await svc.pool.query('DELETE FROM alert_rules');
  await svc.pool.query('DELETE FROM development_hosts');
  await svc.pool.query('DELETE FROM device_teams');
});

const mutt = (...args: string[]) => runMutt(args, svc.env);
const json = (...args: string[]) => {
  const r = mutt(...args, '--json');
  if (r.status !== 0) throw new Error(`mutt ${args.join(' ')}: ${r.status} ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, any>;
};
const stored = async () =>
  (
    await svc.pool.query<{ id: number; match_string: string; priority: number; is_active: boolean }>(
      'SELECT id, match_string, priority, is_active FROM alert_rules ORDER BY id',
    )
  ).rows;
const add = (match: string, ...extra: string[]) =>
  json(
    'rules',
    'add',
    '--match',
    match,
    '--prod',
    'Page_and_ticket',
    '--dev',
    'Ignore',
    '--team',
    'NETO',
    ...extra,
  ).rule as { id: number };

describe('mutt rules', () => {
  it('adds, lists, disables, enables and removes rules, each change audited', async () => {
    const a = add('%LINK-3-UPDOWN', '--priority', '10', '--name', 'link down', '--reason', 'ticket 42');
    const b = add('BGP-5-ADJCHANGE', '--type', 'regex', '--severity', '3');
    const list = json('rules', 'list').rules as { id: number; priority: number; match_type: string }[];
    expect(list.map((r) => [r.id, r.priority, r.match_type])).toEqual([
      [a.id, 10, 'contains'],
      [b.id, 100, 'regex'],
    ]);
    const text = mutt('rules', 'list');
    expect(text.stdout).toMatch(/^id\s+pri\s+type\s+match/);
    expect(text.stdout).toContain('%LINK-3-UPDOWN');

    expect(mutt('rules', 'disable', String(a.id)).stdout).toContain(`disabled rule ${a.id}:`);
    expect((await stored()).find((r) => r.id === a.id)?.is_active).toBe(false);
    expect(json('rules', 'list', '--active').rules).toHaveLength(1);
    expect(mutt('rules', 'enable', String(a.id)).status).toBe(0);
    expect(mutt('rules', 'rm', String(b.id)).stdout).toContain(`deleted rule ${b.id}:`);
    expect((await stored()).map((r) => r.id)).toEqual([a.id]);

    const audit = await svc.pool.query<{ operation: string; changed_by: string; reason: string | null }>(
      "SELECT operation, changed_by, reason FROM config_audit_log WHERE table_name = 'alert_rules' ORDER BY id",
    );
    expect(audit.rows.map((r) => r.operation)).toEqual(['CREATE', 'CREATE', 'UPDATE', 'UPDATE', 'DELETE']);
    expect(audit.rows[0]).toMatchObject({ reason: 'ticket 42' });
    expect(audit.rows[0]!.changed_by).toMatch(/^cli:.+@.+/);
  });

  it.each([
    [
      [
        'rules',
        'add',
        '--match',
        'x(',
        '--type',
        'regex',
        '--prod',
        'Ignore',
        '--dev',
        'Ignore',
        '--team',
        'T',
      ],
      65,
      /match_string: /,
    ],
    [
      ['rules', 'add', '--match', 'x', '--prod', 'Ignore', '--dev', 'Ignore'],
      64,
      /required option '--team <team>'/,
    ],
    [
      [
        'rules',
        'add',
        '--match',
        'x',
        '--prod',
        'Ignore',
        '--dev',
        'Ignore',
        '--team',
        'T',
        '--priority',
        'high',
      ],
      64,
      /--priority "high": expected an integer/,
    ],
    [['rules', 'rm', '999999'], 66, /rule 999999 not found/],
    [['rules', 'enable', 'abc'], 65, /id: expected a positive integer id/],
  ])('refuses %j with a sysexits code and a precise message', async (args, code, msg) => {
    const r = mutt(...args);
    expect(r.status).toBe(code);
    expect(r.stderr).toMatch(msg);
    expect(await stored()).toEqual([]);
  });

  it('tests a draft rule against recent events without writing anything', async () => {
    add('LINK');
    const r = json(
      'rules',
      'test',
      '--match',
      'BGP',
      '--prod',
      'Ticket_only',
      '--dev',
      'Ignore',
      '--team',
      'NET',
    );
    expect(r).toMatchObject({
      events: { tested: expect.any(Number) },
      draft: { matches: expect.any(Number) },
    });
    expect(await stored()).toHaveLength(1);
  });

  it('exports as YAML, imports it back unchanged, and applies an edited file after a dry run', async () => {
    const a = add('%LINK-3-UPDOWN', '--priority', '10');
    add('BGP', '--priority', '20');
    const file = join(svc.tmp, 'rules.yaml');
    expect(mutt('rules', 'export', '-o', file).status).toBe(0);
    const yaml = readFileSync(file, 'utf8');
    expect(yaml).toMatch(/^# MUTT alert rules/);
    expect(yaml).toContain(`- id: ${a.id}\n    match_string: "%LINK-3-UPDOWN"`);
    expect(json('rules', 'import', file).summary).toEqual({ create: 0, update: 0, disable: 0, unchanged: 2 });

    // An edit as it would be made in git: a changed priority, a new rule without an id.
    writeFileSync(
      file,
      `${yaml.replace('priority: 10', 'priority: 5')}  - match_string: OSPF-5-ADJCHG\n    prod_handling: Ticket_only\n    dev_handling: Ignore\n    team_assignment: CORE\n`,
    );
    const dry = mutt('rules', 'import', file, '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`~ update   rule ${a.id}: priority 10 → 5`);
    expect(dry.stdout).toContain(
      '+ create   priority 100 contains "OSPF-5-ADJCHG" → Ticket_only/Ignore CORE',
    );
    expect(dry.stdout).toContain(
      'dry run: 1 to create, 1 to update, 0 to disable, 1 unchanged; nothing written',
    );
    expect((await stored()).map((r) => r.priority)).toEqual([10, 20]);

    const done = mutt('rules', 'import', file);
    expect(done.status).toBe(0);
    expect(done.stdout).toContain('1 created, 1 updated, 0 disabled, 1 unchanged');
    expect((await stored()).map((r) => [r.match_string, r.priority])).toEqual([
      ['%LINK-3-UPDOWN', 5],
      ['BGP', 20],
      ['OSPF-5-ADJCHG', 100],
    ]);
    // Idempotent: the same file again changes nothing.
    expect(json('rules', 'import', file).summary).toMatchObject({ create: 0, update: 0 });
  });

  it('imports JSON, and with --prune disables the rules the file does not list', async () => {
    add('OLD');
    const file = join(svc.tmp, 'rules.json');
    writeFileSync(
      file,
      JSON.stringify({
        rules: [
          { match_string: 'NEW', prod_handling: 'Ignore', dev_handling: 'Ignore', team_assignment: 'T' },
        ],
      }),
    );
    const r = json('rules', 'import', file, '--prune');
    expect(r.summary).toEqual({ create: 1, update: 0, disable: 1, unchanged: 0 });
    expect((await stored()).map((x) => [x.match_string, x.is_active])).toEqual([
      ['OLD', false],
      ['NEW', true],
    ]);
  });

  // Bad input: one bad rule and nothing is imported; every bad line is reported.
  it('imports nothing from a file with bad entries, naming each with its line', async () => {
    add('KEEP');
    const file = join(svc.tmp, 'bad.yaml');
    writeFileSync(
      file,
      [
        'rules:',
        '  - match_string: GOOD', // line 2
        '    prod_handling: Ignore',
        '    dev_handling: Ignore',
        '    team_assignment: T',
        '  - match_string: "a(b"', // line 6
        '    match_type: regex',
        '    prod_handling: Ignore',
        '    dev_handling: Ignore',
        '    team_assignment: T',
        '  - match_string: X', // line 11
        '    priority: soon',
        '    prod_handling: Ignore',
        '    dev_handling: Ignore',
        '    team_assignment: T',
        '    colour: red',
        '  - id: 999999', // line 17
        '    match_string: Y',
        '    prod_handling: Ignore',
        '    dev_handling: Ignore',
        '    team_assignment: T',
        '',
      ].join('\n'),
    );
    for (const extra of [[], ['--dry-run']]) {
      const r = mutt('rules', 'import', file, ...extra);
      expect(r.status).toBe(65);
      expect(r.stderr).toContain(`${file}: 2 bad entries, nothing imported:`);
      expect(r.stderr).toMatch(new RegExp(`${file}:6: entry 2: match_string: `));
      expect(r.stderr).toMatch(new RegExp(`${file}:11: entry 3: .*priority: .*colour`));
    }
    expect((await stored()).map((x) => x.match_string)).toEqual(['KEEP']);
    // The valid entries alone still fail on the id of another database, before writing anything.
    const idOnly = join(svc.tmp, 'id.yaml');
    writeFileSync(
      idOnly,
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((_, i) => i === 0 || i >= 16)
        .join('\n'),
    );
    const r = mutt('rules', 'import', idOnly);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain(
      `${idOnly}:2: entry 1: id: no rule 999999 here; remove the id to add it as a new rule`,
    );
    const broken = join(svc.tmp, 'broken.yaml');
    writeFileSync(broken, 'rules:\n  - match_string: "unterminated\n');
    const b = mutt('rules', 'import', broken);
    expect(b.status).toBe(65);
    expect(b.stderr).toContain('not valid YAML or JSON');
    expect((await stored()).map((x) => x.match_string)).toEqual(['KEEP']);
  });
});

describe('mutt hosts and mutt teams', () => {
  it('adds, lists, removes, exports and imports development hosts', () => {
    expect(mutt('hosts', 'add', 'lab-sw-01').stdout).toContain('added development host lab-sw-01');
    expect(mutt('hosts', 'add', 'lab-sw-01').status).toBe(65);
    expect(json('hosts', 'list').hosts).toEqual([{ hostname: 'lab-sw-01' }]);
    const file = join(svc.tmp, 'hosts.yaml');
    writeFileSync(file, 'hosts:\n  - lab-sw-02\n  - lab-sw-03\n');
    const dry = mutt('hosts', 'import', file, '--dry-run', '--prune');
    expect(dry.stdout).toContain('+ add     lab-sw-02');
    expect(dry.stdout).toContain('- remove  lab-sw-01 (not in the file)');
    expect(json('hosts', 'list').hosts).toHaveLength(1);
    expect(json('hosts', 'import', file, '--prune').summary).toEqual({ add: 2, remove: 1, unchanged: 0 });
    expect(mutt('hosts', 'export').stdout).toContain('hosts:\n  - lab-sw-02\n  - lab-sw-03\n');
    expect(mutt('hosts', 'rm', 'lab-sw-02').status).toBe(0);
    expect(mutt('hosts', 'rm', 'lab-sw-02').status).toBe(66);
  });

  it('maps hosts to teams and imports a team file, refusing a bad one whole', () => {
    expect(mutt('teams', 'add', 'core-rtr-01', 'NETO').stdout).toContain('core-rtr-01 → NETO');
    const file = join(svc.tmp, 'teams.json');
    writeFileSync(
      file,
      JSON.stringify({
        teams: [
          { hostname: 'core-rtr-01', team_assignment: 'CORE' },
          { hostname: 'edge-01', team_assignment: 'EDGE' },
        ],
      }),
    );
    const dry = mutt('teams', 'import', file, '--dry-run');
    expect(dry.stdout).toContain('~ change  core-rtr-01: NETO → CORE');
    expect(dry.stdout).toContain('+ add     edge-01 → EDGE');
    expect(json('teams', 'import', file).summary).toEqual({ add: 1, change: 1, remove: 0, unchanged: 0 });
    expect(json('teams', 'list').teams).toEqual([
      { hostname: 'core-rtr-01', team_assignment: 'CORE' },
      { hostname: 'edge-01', team_assignment: 'EDGE' },
    ]);
    const bad = join(svc.tmp, 'teams-bad.yaml');
    writeFileSync(bad, 'teams:\n  - hostname: new-01\n    team_assignment: NEW\n  - hostname: new-02\n');
    const r = mutt('teams', 'import', bad);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain(`${bad}:4: entry 2: team_assignment`);
    expect(json('teams', 'list').teams).toHaveLength(2);
    expect(mutt('teams', 'rm', 'edge-01').stdout).toContain('removed the team of edge-01 (was EDGE)');
  });
});

describe('mutt status', () => {
  it('reports queues, pods, breaker, rate limit and DLQs', async () => {
    await svc.redis.lpush(svc.keys.ingestQueue, JSON.stringify({ hostname: 'h', message: 'm' }));
    const r = json('status', '--peek', '1');
    expect(r).toMatchObject({
      queues: { ingest_queue: 1, alert_queue: 0 },
      pods: expect.any(Array),
      breaker: { state: expect.any(String) },
      rate_limit: { limit: expect.any(Number) },
      dlq: { moog: { depth: 0 }, alerter: { depth: 0 }, dead: { depth: 0 } },
      newest: [{ hostname: 'h', message: 'm' }],
    });
    const text = mutt('status');
    expect(text.stdout).toMatch(/^queues\s+ingest 1, alert 0$/m);
    expect(text.stdout).toMatch(/^breaker\s+/m);
  });
});

/** The README's `sh` block of the rules section, one shell command per entry (continuations joined). */
function readmeCommands(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Rules, environments, teams and unhandled events'));
  const m = /```sh\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('no sh block in the README rules section');
  return m[1]!
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.startsWith('mutt '));
}

/** Splits a command line as sh does for the quoting the README uses ('…'). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((w) => w[1] ?? w[2]!);
}

describe("the README's rules commands", () => {
  it('run as written and leave the rules, hosts and teams the README describes', async () => {
    // A fresh database, as the README's reader has: the first rule is rule 1.
    await svc.pool.query('TRUNCATE alert_rules RESTART IDENTITY CASCADE');
    const dir = svc.tmp;
    for (const line of readmeCommands()) {
      // `mutt rules export > rules.yaml && mutt rules import rules.yaml --dry-run`
      const steps = line.split(' && ');
      for (const step of steps) {
        const [cmd, out] = step.split(' > ');
        const args = words(cmd!)
          .slice(1)
          .map((a) => (a === 'rules.yaml' ? join(dir, 'rules.yaml') : a));
        const r = mutt(...args);
        expect(r.status, `${step}: ${r.stderr}`).toBe(0);
        if (out) writeFileSync(join(dir, out.trim()), r.stdout);
      }
    }
    const rules = (
      await svc.pool.query<{ name: string | null; match_type: string; priority: number; is_active: boolean }>(
        'SELECT name, match_type, priority, is_active FROM alert_rules ORDER BY priority',
      )
    ).rows;
    expect(rules.map((r) => [r.name, r.match_type, r.priority, r.is_active])).toEqual([
      ['interface down', 'contains', 10, false],
      [null, 'regex', 20, true],
      [null, 'oid_prefix', 30, true],
    ]);
    expect((await svc.pool.query('SELECT hostname FROM development_hosts')).rows).toEqual([
      { hostname: 'lab-sw1' },
    ]);
    expect((await svc.pool.query('SELECT hostname, team_assignment FROM device_teams')).rows).toEqual([
      { hostname: 'edge7', team_assignment: 'WAN' },
    ]);
  });
});
