// `mutt manpage`: the mutt(8) manual page in man(7) format, generated from the commander program (every
// command, argument and option with its help text) and from the configuration schema (every
// variable), so the page cannot drift from the code. The package installs it as
// /usr/share/man/man8/mutt.8.
import { type Command, Help, type Option } from 'commander';
import { referenceRows } from '../runtime/config/reference.ts';
import { EXIT_DOC } from './exit.ts';

/** Escapes plain text for man(7): backslashes, hyphens, non-ASCII characters. */
function esc(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(
      /[^\p{ASCII}]/gu,
      (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`,
    );
}

/**
 * Turns the help and reference text (with Markdown `code` and *emphasis*) into man(7): code in bold
 * with break points after commas (long lists of defaults), emphasis in italics, and a leading dot or
 * quote neutralised.
 */
export function roff(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length >= 2
        ? `\\fB${esc(part.slice(1, -1)).replace(/,/g, ',\\:')}\\fR`
        : esc(part).replace(/\*([^*\s][^*]*)\*/g, '\\fI$1\\fR'),
    )
    .join('')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

const visible = (c: Command) => !(c as unknown as { _hidden?: boolean })._hidden;

function commandPath(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

function optionText(o: Option): string {
  const parts = [o.description];
  if (o.argChoices) parts.push(`One of: ${o.argChoices.join(', ')}.`);
  if (o.defaultValue !== undefined && typeof o.defaultValue !== 'boolean')
    parts.push(`Default: ${String(o.defaultValue)}.`);
  if (o.mandatory) parts.push('Required.');
  return parts.join(' ');
}

function commands(cmd: Command, out: string[]): void {
  const help = new Help();
  for (const c of cmd.commands.filter(visible)) {
    const subs = c.commands.filter(visible);
    if (subs.length === 0 || c.registeredArguments.length > 0 || c.options.length > 0) {
      const usage = help.commandUsage(c);
      out.push('.TP', `.B ${roff(usage)}`, roff(c.description()));
      const args = c.registeredArguments.filter((a) => a.description);
      const opts = c.options.filter((o) => !o.hidden);
      if (args.length + opts.length > 0) {
        out.push('.RS');
        for (const a of args)
          out.push(
            '.TP',
            `.I ${roff(a.name())}`,
            roff(`${a.description}${a.argChoices ? ` (one of: ${a.argChoices.join(', ')})` : ''}`),
          );
        for (const o of opts) out.push('.TP', `.B ${roff(o.flags)}`, roff(optionText(o)));
        out.push('.RE');
      }
    } else {
      out.push('.TP', `.B ${roff(`${commandPath(c)} <command>`)}`, roff(c.description()));
    }
    commands(c, out);
  }
}

export function manPage(program: Command, version: string): string {
  const out: string[] = [
    `.\\" mutt(8). Generated from the command line and the configuration schema by "mutt manpage". Do not edit.`,
    `.TH MUTT 8 "" "MUTT ${version}" "System Administration"`,
    // Ragged right, no hyphenation: long paths and variable names stay whole.
    '.ad l',
    '.nh',
    '.SH NAME',
    'mutt \\- event\\-intake daemon for network operations: syslog, SNMP traps and webhooks to rules and Moogsoft',
    '.SH SYNOPSIS',
    '.B mutt',
    '.I command',
    '.RI [ options ]',
    '.br',
    '.B systemctl',
    '.RB { start | reload | stop | status }',
    '.B mutt',
    '.SH DESCRIPTION',
    roff(program.description()),
    '.PP',
    roff(
      'Installed from the package, MUTT runs as the systemd service `mutt.service` under the `mutt` user, with its private Redis and PostgreSQL under /var/lib/mutt unless REDIS_HOST and DB_HOST point elsewhere. `systemctl start mutt` returns once MUTT receives events (Type=notify); `systemctl reload mutt` validates the configuration, then reloads the rules; `systemctl stop mutt` stops the listeners and drains what is in flight.',
    ),
    '.SH COMMANDS',
  ];
  commands(program, out);
  out.push('.SH GLOBAL OPTIONS');
  for (const o of program.options) out.push('.TP', `.B ${roff(o.flags)}`, roff(o.description));
  out.push('.TP', '.B \\-h, \\-\\-help', 'show help for mutt or a command');
  out.push(
    '.SH OUTPUT',
    roff(
      'Commands that report print readable text, or one JSON document with `--json`. Logs go to standard error for commands and to standard output for `mutt serve`: readable lines on a terminal, JSON lines otherwise (LOG_FORMAT).',
    ),
    '.SH CONFIGURATION',
    roff(
      'MUTT reads environment variables under their MUTT 2.x names, from the process environment and from the env file (MUTT_ENV_FILE, else /etc/mutt/mutt.env when it exists) in systemd EnvironmentFile= syntax. A variable set in the environment wins over the file. Every value is validated before anything starts; an unknown name in the env file is an error that names the closest known variable. A secret may be given as `<NAME>_FILE`, the path of a file holding it.',
    ),
  );
  let group = '';
  for (const r of referenceRows()) {
    if (r.group !== group) {
      group = r.group;
      out.push('.SS', roff(group));
    }
    out.push(
      '.TP',
      `.B ${roff(r.secret ? `${r.name}, ${r.name}_FILE` : r.name)}`,
      roff(`${r.doc} (${r.type}; default: ${r.default})`),
    );
  }
  out.push('.SH EXIT STATUS', roff('Every command exits with a code from sysexits.h:'));
  for (const [code, text] of EXIT_DOC) out.push('.TP', `.B ${code}`, roff(text));
  out.push(
    '.SH FILES',
    '.TP',
    '.I /etc/mutt/mutt.env',
    roff(
      'Configuration (mode 0640 root:mutt). Upgrades never overwrite it; a new default lands beside it as mutt.env.rpmnew.',
    ),
    '.TP',
    '.I /etc/mutt/secrets/',
    roff('Directory for secret files named by `<NAME>_FILE` (mode 0750 root:mutt).'),
    '.TP',
    '.I /var/lib/mutt/',
    roff(
      'State: the private Redis and PostgreSQL, the SNMP engine ID, alerts.jsonl when no Moogsoft URL is set, and secrets/ with the API keys MUTT generated (`mutt keys show`). Kept when the package is removed.',
    ),
    '.TP',
    '.I /usr/lib/systemd/system/mutt.service',
    roff('The hardened systemd unit; override settings with `systemctl edit mutt`.'),
    '.TP',
    '.I /usr/share/mutt/',
    roff('SQL migrations (applied by `mutt migrate` and at start-up) and the MIBs MUTT loads by default.'),
    '.SH SEE ALSO',
    '.BR systemctl (1),',
    '.BR journalctl (1),',
    '.BR systemd.exec (5),',
    '.BR firewall\\-cmd (1),',
    '.BR semanage\\-port (8)',
    '.PP',
    roff('/usr/share/doc/mutt/INSTALL.md and CONFIGURATION.md'),
    '',
  );
  return out.join('\n');
}
