// `mutt completion bash`: a bash completion script generated from the commander program itself, so
// every command, option and choice the CLI accepts completes, and nothing else. The package installs
// its output as /usr/share/bash-completion/completions/mutt.
import type { Command } from 'commander';

interface Node {
  path: string;
  subcommands: string[];
  options: string[];
  /** option flag → its choices ('' → a free value: complete file names). */
  values: Map<string, string>;
  /** choices of the first positional argument, if it has any */
  argChoices: string;
}

const visible = (c: Command) => !(c as unknown as { _hidden?: boolean })._hidden;

function walk(cmd: Command, path: string, acc: Node[]): void {
  const values = new Map<string, string>();
  const options: string[] = [];
  for (const o of cmd.options) {
    if (o.hidden) continue;
    for (const f of [o.long, o.short]) {
      if (!f) continue;
      options.push(f);
      if (o.required || o.optional) values.set(f, (o.argChoices ?? []).join(' '));
    }
  }
  options.push('--help');
  const subs = cmd.commands.filter(visible);
  const arg = cmd.registeredArguments[0];
  acc.push({
    path,
    subcommands: subs.map((s) => s.name()),
    options,
    values,
    argChoices: (arg?.argChoices ?? []).join(' '),
  });
  for (const s of subs) walk(s, path ? `${path} ${s.name()}` : s.name(), acc);
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashCompletion(program: Command): string {
  const nodes: Node[] = [];
  walk(program, '', nodes);
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const lines: string[] = [
    `# bash completion for ${name}. Generated from the command line itself by \`${name} completion bash\`;`,
    '# installed as /usr/share/bash-completion/completions/mutt. Do not edit.',
    `${fn}_subcommands() {`,
    '  case "$1" in',
    ...nodes
      .filter((n) => n.subcommands.length > 0)
      .map((n) => `    ${q(n.path)}) echo ${q(n.subcommands.join(' '))} ;;`),
    '  esac',
    '}',
    `${fn}_options() {`,
    '  case "$1" in',
    ...nodes.map((n) => `    ${q(n.path)}) echo ${q(n.options.join(' '))} ;;`),
    '  esac',
    '}',
    '# prints the choices of an option that takes a value ("" for a free value); fails for a flag',
    `${fn}_values() {`,
    '  case "$1|$2" in',
    ...nodes.flatMap((n) =>
      [...n.values].map(([flag, choices]) => `    ${q(`${n.path}|${flag}`)}) echo ${q(choices)} ;;`),
    ),
    '    *) return 1 ;;',
    '  esac',
    '}',
    `${fn}_arguments() {`,
    '  case "$1" in',
    ...nodes.filter((n) => n.argChoices).map((n) => `    ${q(n.path)}) echo ${q(n.argChoices)} ;;`),
    '  esac',
    '}',
    `${fn}() {`,
    '  local cur prev path="" word i subs values',
    '  COMPREPLY=()',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  # The command path: the words before the cursor that name subcommands; option values are skipped.',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    word="${COMP_WORDS[i]}"',
    '    if [[ $word == -* ]]; then',
    `      if ${fn}_values "$path" "$word" >/dev/null; then ((i++)); fi`,
    '      continue',
    '    fi',
    `    subs=" $(${fn}_subcommands "$path") "`,
    '    if [[ $subs == *" $word "* ]]; then path="${path:+$path }$word"; fi',
    '  done',
    `  if [[ $prev == -* ]] && values="$(${fn}_values "$path" "$prev")"; then`,
    '    if [[ -n $values ]]; then',
    '      mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")',
    '    else',
    '      mapfile -t COMPREPLY < <(compgen -f -- "$cur")',
    '    fi',
    '    return 0',
    '  fi',
    '  if [[ $cur == -* ]]; then',
    `    mapfile -t COMPREPLY < <(compgen -W "$(${fn}_options "$path")" -- "$cur")`,
    '    return 0',
    '  fi',
    `  mapfile -t COMPREPLY < <(compgen -W "$(${fn}_subcommands "$path") $(${fn}_arguments "$path")" -- "$cur")`,
    '  return 0',
    '}',
    `complete -F ${fn} ${name}`,
    '',
  ];
  return lines.join('\n');
}
