// `mutt rules list|add|rm|enable|disable|test|export|import`: the alert rules through the admin
// services (src/core/admin/rules.ts, tester.ts), the same code the admin API and the UI call. Every
// write is audited in config_audit_log as `cli:<user>@<host>` and is live when the command returns
// (the alerters run the new rule set). Import validates the whole file first: one bad entry and
// nothing is written, every bad entry is named with its line; --dry-run prints what would change.
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import {
  type AdminContext,
  createRule,
  deleteRule,
  listRules,
  testRules,
  updateRule,
} from '../../core/admin/index.ts';
import { CliError, cliActor, withAdmin } from '../context.ts';
import { EXIT } from '../exit.ts';
import {
  describeRule,
  diffRules,
  pickFields,
  readList,
  RULE_FIELDS,
  type RuleChange,
  RuleFileError,
  validateRules,
} from '../ruleset.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);
const rules = <T>(fn: (ctx: AdminContext) => Promise<T>) => withAdmin(fn, { postgres: true });

export interface DraftOptions {
  match?: string;
  type?: string;
  oid?: string;
  severity?: string;
  priority?: string;
  prod?: string;
  dev?: string;
  team?: string;
  name?: string;
  description?: string;
  inactive?: boolean;
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new CliError(`--${name} "${v}": expected an integer`, EXIT.USAGE);
  return Number(v);
}

/** The rule body the options describe (only the fields given). */
export function draftBody(o: DraftOptions): Record<string, unknown> {
  const b: Record<string, unknown> = {
    match_string: o.match,
    match_type: o.type,
    trap_oid: o.oid,
    syslog_severity: int('severity', o.severity),
    priority: int('priority', o.priority),
    prod_handling: o.prod,
    dev_handling: o.dev,
    team_assignment: o.team,
    name: o.name,
    description: o.description,
    is_active: o.inactive ? false : undefined,
  };
  return Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
}

function table(list: ReturnType<typeof pickFields>[] & { id?: number }[]): string[] {
  const rows = list.map((r) => [
    String((r as { id?: number }).id ?? ''),
    String(r.priority),
    r.match_type,
    r.match_type === 'oid_prefix' ? (r.trap_oid ?? '') : (r.match_string ?? ''),
    r.syslog_severity === null ? '-' : String(r.syslog_severity),
    r.prod_handling,
    r.dev_handling,
    r.team_assignment,
    r.is_active ? 'yes' : 'no',
    r.name ?? '',
  ]);
  const head = ['id', 'pri', 'type', 'match', 'sev', 'prod', 'dev', 'team', 'active', 'name'];
  const clip = (s: string) => (s.length > 48 ? `${s.slice(0, 47)}…` : s);
  const cells = [head, ...rows.map((r) => r.map(clip))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

export async function rulesListCommand(o: { active?: boolean; json?: boolean }): Promise<void> {
  await rules(async (ctx) => {
    const list = await listRules(ctx, { activeOnly: o.active });
    if (o.json) out(JSON.stringify({ rules: list }));
    else if (list.length === 0) out('no rules (add one with "mutt rules add" or "mutt rules import")');
    else for (const l of table(list)) out(l);
  });
}

export async function rulesAddCommand(o: DraftOptions & { reason?: string; json?: boolean }): Promise<void> {
  const body = { ...draftBody(o), reason: o.reason };
  await rules(async (ctx) => {
    const r = await createRule(ctx, body, cliActor(o.reason));
    if (o.json) out(JSON.stringify({ rule: r.rule, applied: r.applied }));
    else out(`added ${describeRule(r.rule.id, r.rule)}${liveNote(r.applied)}`);
  });
}

const liveNote = (a: { applied: boolean; alerters: number }) =>
  a.applied ? '' : ` (stored; ${a.alerters} alerter(s) had not loaded it yet and will)`;

export async function rulesRemoveCommand(id: string, o: { reason?: string; json?: boolean }): Promise<void> {
  await rules(async (ctx) => {
    const r = await deleteRule(ctx, id, cliActor(o.reason));
    if (o.json) out(JSON.stringify({ deleted: r.rule, applied: r.applied }));
    else out(`deleted ${describeRule(r.rule.id, r.rule)}${liveNote(r.applied)}`);
  });
}

export function rulesActiveCommand(active: boolean) {
  return async (id: string, o: { reason?: string; json?: boolean }): Promise<void> => {
    await rules(async (ctx) => {
      const r = await updateRule(ctx, id, { is_active: active, reason: o.reason }, cliActor(o.reason));
      if (o.json) out(JSON.stringify({ rule: r.rule, applied: r.applied }));
      else out(`${active ? 'enabled' : 'disabled'} ${describeRule(r.rule.id, r.rule)}${liveNote(r.applied)}`);
    });
  };
}

export async function rulesTestCommand(
  o: DraftOptions & { ruleId?: string; delete?: boolean; alone?: boolean; events?: string; json?: boolean },
): Promise<void> {
  const draft = draftBody(o);
  const input = {
    ...(Object.keys(draft).length > 0 ? { rule: draft } : {}),
    ...(o.ruleId !== undefined ? { rule_id: int('rule-id', o.ruleId) } : {}),
    ...(o.delete ? { delete: true } : {}),
    ...(o.alone ? { mode: 'alone' } : {}),
    ...(o.events !== undefined ? { events: int('events', o.events) } : {}),
  };
  await rules(async (ctx) => {
    const r = await testRules(ctx, input);
    if (o.json) {
      out(JSON.stringify(r));
      return;
    }
    out(
      `tested ${r.events.tested} recent event(s) (${r.events.from_audit} from the audit trail, ${r.events.from_recent} unmatched)`,
    );
    if (r.draft) out(`the draft matches ${r.draft.matches} of them and decides ${r.draft.wins}`);
    out(
      `matched now: ${r.current.matched}, with the change: ${r.proposed.matched}; outcome changes for ${r.changed}`,
    );
    for (const s of r.sample.slice(0, 10)) {
      const fmt = (x: typeof s.before) =>
        x.rule_id === null ? 'unhandled' : `rule ${x.rule_id} ${x.handling}`;
      out(`  ${s.hostname}: ${s.message.slice(0, 60)}  ${fmt(s.before)} → ${fmt(s.after)}`);
    }
  });
}

export async function rulesExportCommand(o: { format?: 'yaml' | 'json'; output?: string }): Promise<void> {
  await rules(async (ctx) => {
    const list = await listRules(ctx);
    const doc = { rules: list.map((r) => ({ id: r.id, ...pickFields(r) })) };
    const format = o.format ?? (o.output?.endsWith('.json') ? 'json' : 'yaml');
    const text =
      format === 'json'
        ? `${JSON.stringify(doc, null, 2)}\n`
        : `# MUTT alert rules (mutt rules export); apply with: mutt rules import <file>\n${stringify(doc, { lineWidth: 0 })}`;
    if (o.output) {
      try {
        writeFileSync(o.output, text);
      } catch (err) {
        throw new CliError(`cannot write ${o.output}: ${(err as Error).message}`, EXIT.CANTCREAT);
      }
      process.stderr.write(`exported ${list.length} rule(s) to ${o.output}\n`);
    } else process.stdout.write(text);
  });
}

export function readFileOrExit(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      EXIT.NOINPUT,
    );
  }
}

function changeLine(c: RuleChange): string {
  switch (c.action) {
    case 'create':
      return `+ create   ${describeRule(undefined, c.fields)}`;
    case 'update':
      return `~ update   rule ${c.id}: ${Object.entries(c.changes!)
        .map(([k, [a, b]]) => `${k} ${JSON.stringify(a)} → ${JSON.stringify(b)}`)
        .join(', ')}`;
    case 'disable':
      return `- disable  ${describeRule(c.id, c.fields)} (not in the file)`;
    default:
      return `  same     ${describeRule(c.id, c.fields)}`;
  }
}

export async function rulesImportCommand(
  file: string,
  o: { dryRun?: boolean; prune?: boolean; reason?: string; json?: boolean },
): Promise<void> {
  const text = readFileOrExit(file);
  await rules(async (ctx) => {
    let plan: RuleChange[];
    try {
      const entries = validateRules(readList(text, file, 'rules'), file);
      plan = diffRules(await listRules(ctx), entries, file, { prune: o.prune });
    } catch (err) {
      if (err instanceof RuleFileError) {
        if (o.json) out(JSON.stringify({ imported: false, bad: err.bad }));
        throw new CliError(err.message, EXIT.DATAERR);
      }
      throw err;
    }
    const count = (a: RuleChange['action']) => plan.filter((c) => c.action === a).length;
    const summary = {
      create: count('create'),
      update: count('update'),
      disable: count('disable'),
      unchanged: count('unchanged'),
    };
    if (o.dryRun) {
      if (o.json) out(JSON.stringify({ dry_run: true, summary, changes: plan }));
      else {
        for (const c of plan) if (c.action !== 'unchanged') out(changeLine(c));
        out(
          `dry run: ${summary.create} to create, ${summary.update} to update, ${summary.disable} to disable, ${summary.unchanged} unchanged; nothing written`,
        );
      }
      return;
    }
    const actor = cliActor(o.reason ?? `mutt rules import ${file}`);
    const done: RuleChange[] = [];
    try {
      for (const c of plan) {
        if (c.action === 'create') await createRule(ctx, { ...c.fields, reason: actor.reason }, actor);
        else if (c.action === 'update') {
          const changed = Object.fromEntries(
            Object.keys(c.changes!).map((k) => [k, c.fields[k as (typeof RULE_FIELDS)[number]]]),
          );
          await updateRule(ctx, c.id!, { ...changed, reason: actor.reason }, actor);
        } else if (c.action === 'disable')
          await updateRule(ctx, c.id!, { is_active: false, reason: actor.reason }, actor);
        else continue;
        done.push(c);
      }
    } catch (err) {
      // A server failing half-way: say what was written; running the import again finishes it.
      const what = done.map(changeLine).join('\n');
      throw new CliError(
        `import stopped after ${done.length} change(s) (running it again applies the rest): ${(err as Error).message}${what ? `\n${what}` : ''}`,
        EXIT.UNAVAILABLE,
      );
    }
    if (o.json) out(JSON.stringify({ imported: true, summary, changes: plan }));
    else {
      for (const c of plan) if (c.action !== 'unchanged') out(changeLine(c));
      out(
        `imported ${file}: ${summary.create} created, ${summary.update} updated, ${summary.disable} disabled, ${summary.unchanged} unchanged`,
      );
    }
  });
}
