// The `mutt` command line: every verb but `serve`, whose action the composition root passes in
// (src/app/main.ts), so the CLI stays a thin layer over core and runtime.
import { Argument, Command, CommanderError, Option } from 'commander';
import { configReference, envExample, referenceRows } from '../runtime/config/reference.ts';
import { VERSION } from '../runtime/version.ts';
import { MissingBinariesError } from '../runtime/services/binaries.ts';
import { configGetCommand, configListCommand, configSetCommand } from './commands/config.ts';
import { dlqListCommand, dlqPurgeCommand, dlqReplayCommand, dlqShowCommand } from './commands/dlq.ts';
import { mibTranslateCommand } from './commands/mib.ts';
import { migrateCommand } from './commands/migrate.ts';
import { sloCommand } from './commands/slo.ts';
import { statusCommand } from './commands/status.ts';
import { traceCommand } from './commands/trace.ts';
import { validateCommand } from './commands/validate.ts';
import {
  hostsAddCommand,
  hostsExportCommand,
  hostsImportCommand,
  hostsListCommand,
  hostsRemoveCommand,
  teamsAddCommand,
  teamsExportCommand,
  teamsImportCommand,
  teamsListCommand,
  teamsRemoveCommand,
} from './commands/hosts.ts';
import { keysRotateCommand, keysShowCommand, KEY_NAMES } from './commands/keys.ts';
import {
  rulesActiveCommand,
  rulesAddCommand,
  rulesExportCommand,
  rulesImportCommand,
  rulesListCommand,
  rulesRemoveCommand,
  rulesTestCommand,
} from './commands/rules.ts';
import { bashCompletion } from './completion.ts';
import { CliError } from './context.ts';
import { EXIT, EXIT_DOC } from './exit.ts';
import { manPage } from './manpage.ts';

export function buildProgram(serveCommand: () => Promise<void>): Command {
  const program = new Command()
    .name('mutt')
    .description(
      'MUTT receives syslog, SNMP traps and HTTP events, queues them in Redis, matches them against rules, ' +
        'audits them in PostgreSQL and forwards alerts to Moogsoft. Configuration comes from environment ' +
        'variables and /etc/mutt/mutt.env (see docs/CONFIGURATION.md).',
    )
    .version(VERSION, '-V, --version', 'print the MUTT version')
    .helpOption('-h, --help', 'show help for mutt or a command')
    .showHelpAfterError()
    // Usage errors exit with EX_USAGE (runCli); set before the commands so they inherit it.
    .exitOverride()
    .addHelpText(
      'after',
      `\nExit status (sysexits.h):\n${EXIT_DOC.map(([c, t]) => `  ${String(c).padStart(2)}  ${t}`).join('\n')}\n\nSee mutt(8) for every command and variable.`,
    );

  program
    .command('serve')
    .description(
      'run the daemon: listeners, HTTP ingest and the components named by MUTT_ROLES. Without REDIS_HOST/DB_HOST ' +
        'it starts private redis-server and postgres under MUTT_DATA_DIR. Stops on SIGTERM/SIGINT.',
    )
    .action(serveCommand);

  program
    .command('validate')
    .description(
      'check the configuration without starting anything; print every problem and exit 78 if there is one',
    )
    .option('-q, --quiet', 'print nothing when the configuration is valid')
    .option('--json', 'print JSON: ok, problems, warnings and the summary')
    .action(validateCommand);

  program
    .command('migrate')
    .description(
      'create or upgrade the PostgreSQL schema and audit-log partitions (idempotent, safe on a Python MUTT 2.x database)',
    )
    .option('-v, --verbose', 'log each step')
    .option('--json', 'print JSON')
    .action(migrateCommand);

  program
    .command('status')
    .description(
      'show the queues, every alerter and forwarder pod (processing list, heartbeat, rules generation), the Moogsoft circuit breaker and rate limit, and the dead-letter queues',
    )
    .option('-p, --peek <n>', 'also print the newest <n> events of the ingest queue')
    .option('--json', 'print JSON')
    .action(statusCommand);

  addRuleCommands(program);
  addHostCommands(program);
  program
    .command('slo')
    .description(
      "show the fleet's SLO report (availability, error budget, burn rate of HTTP ingest and of forwarding), " +
        "the same as GET /api/v1/slo: from Prometheus when PROMETHEUS_URL is set, else from MUTT's own counters in Redis",
    )
    .option('--json', 'print JSON (the /api/v1/slo response)')
    .action(sloCommand);

  program
    .command('trace')
    .description(
      'show where one event went, by its correlation id: the listener that received it, the rule and decision ' +
        'from the audit log, the Moogsoft requests that carried it and their answers, or the queue or DLQ it sits in. ' +
        'Exits 1 when nothing is found, 64 when the id cannot be a correlation id',
    )
    .argument('<correlation-id>', 'the _correlation_id of the event (X-Correlation-ID of an HTTP event)')
    .option('--host <hostname>', "search all of this host's audit rows (fast on a large audit log)")
    .option(
      '--hours <n>',
      'when the host is not known, search the audit rows of the last <n> hours (default 168)',
    )
    .option('--json', 'print JSON')
    .action(traceCommand);

  const mib = program
    .command('mib')
    .description('work with the MIBs the SNMP listener loads from SNMP_MIB_DIRS');
  mib
    .command('translate')
    .description(
      'print what MUTT shows for each OID (numeric → MODULE::name.suffix, unknown OIDs stay numeric), or the numeric OID of a MODULE::name',
    )
    .argument('<oid...>', 'numeric OIDs (1.3.6.1.2.1.2.2.1.8.3) or names (IF-MIB::ifOperStatus.3)')
    .option(
      '--value <value>',
      'also render a value as the trap message would (an integer is decoded by its enumeration)',
    )
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'do not report MIB files that were skipped')
    .action(mibTranslateCommand);

  const queueOption = (required: boolean) => {
    const o = new Option(
      '-q, --queue <name>',
      'moog (mutt:dlq:moog), alerter (mutt:dlq:alerter) or dead (mutt:dlq:dead)',
    ).choices(['moog', 'alerter', 'dead']);
    return required ? o.makeOptionMandatory() : o;
  };
  const filters = (c: Command) =>
    c
      .option('--reason <text>', 'only items whose reason or reason code contains <text> (case-insensitive)')
      .option('--host <hostname>', 'only items for this host')
      .option('--since <time>', 'only items that failed at or after <time> (ISO 8601)')
      .option('-n, --limit <n>', 'at most <n> items')
      .option('--json', 'print JSON');

  const dlq = program
    .command('dlq')
    .description(
      'inspect, replay and purge the dead-letter queues: alerts Moogsoft refused or that ran out of retries (moog), ' +
        'events the alerter gave up on (alerter), and items remediation stopped replaying (dead)',
    );
  filters(
    dlq
      .command('list')
      .description(
        'count the items of each DLQ (or of --queue) by reason, and show the newest ones (index 0 = newest)',
      )
      .addOption(queueOption(false)),
  ).action(dlqListCommand);
  dlq
    .command('show')
    .description('print one item in full, by its index in "mutt dlq list" or by correlation id')
    .argument('<index-or-correlation-id>')
    .addOption(queueOption(false).default('moog'))
    .option('--json', 'print the item as one line of JSON')
    .action(dlqShowCommand);
  filters(
    dlq
      .command('replay')
      .description(
        'move items, oldest first, back to the queue they came from (moog → alert queue, alerter → ingest queue, ' +
          'dead → where they failed) with their retry count reset; items replayed MAX_POISON_RETRIES times go to the dead list. ' +
          'The alerter DLQ is replayed below the low-water mark (half of alerter_queue_shed_threshold, counting the alert and ' +
          'ingest queues), waiting while the queues are above it, so a replay never makes the alerter shed',
      )
      .addOption(queueOption(true))
      .option('--dry-run', 'only say where the items would go')
      .option('--force', 'replay even items whose replay budget is spent')
      .option(
        '--no-wait',
        'alerter DLQ: replay only what fits below the low-water mark now, and leave the rest',
      ),
  ).action(dlqReplayCommand);
  filters(
    dlq
      .command('purge')
      .description('delete items for good; asks for confirmation unless --yes')
      .addOption(queueOption(true))
      .option('-y, --yes', 'do not ask for confirmation')
      .option('--note <text>', 'why the items are deleted (kept in the configuration audit log)'),
  ).action(dlqPurgeCommand);

  const dyn = program
    .command('config')
    .description(
      'read and change the dynamic configuration in Redis (mutt:config:<key>); a change is validated and announced on mutt:config:updates, and running services apply it at once',
    );
  dyn
    .command('list')
    .description(
      'show every dynamic key with its value and where it comes from (Redis or the static variable)',
    )
    .option('--json', 'print JSON')
    .action(configListCommand);
  dyn
    .command('get')
    .description('print the value in effect for one key')
    .argument('<key>', 'a dynamic key, e.g. unhandled_threshold')
    .option('--json', 'print JSON with the source')
    .action(configGetCommand);
  dyn
    .command('set')
    .description('validate and store a value, and tell the running services')
    .argument('<key>', 'a dynamic key, e.g. alerter_shed_mode')
    .argument('[value]', 'the new value')
    .option('--unset', 'remove the key so the static variable applies again')
    .option('--reason <text>', 'why (kept in the configuration audit log)')
    .option('--json', 'print JSON')
    .action(configSetCommand);

  program
    .command('config-reference')
    .description('print the configuration reference (Markdown) generated from the configuration schema')
    .option('--env', 'print an example env file instead, every variable commented out with its default')
    .option('--json', 'print every variable (group, name, type, default, description) as JSON')
    .action((opts: { env?: boolean; json?: boolean }) => {
      if (opts.json) process.stdout.write(`${JSON.stringify({ variables: referenceRows() })}\n`);
      else process.stdout.write(opts.env ? envExample() : `${configReference()}\n`);
    });

  const keys = program
    .command('keys')
    .description(
      'the API keys: ingest (INGEST_API_KEY, the X-API-KEY of HTTP ingest) and admin (WEBUI_API_KEY, the admin UI and API)',
    );
  keys
    .command('show')
    .description('print each key and where it comes from (environment, env file, <NAME>_FILE, or generated)')
    .addArgument(new Argument('[key...]', 'which keys (default: all)').choices([...KEY_NAMES, 'all']))
    .option('--value', 'print only the value(s), one per line, for scripts')
    .option('--json', 'print JSON')
    .action(keysShowCommand);
  keys
    .command('rotate')
    .description(
      'write a new random key to the file it is read from (the generated file or <NAME>_FILE), keeping owner and mode; MUTT uses it after a restart',
    )
    .addArgument(new Argument('<key...>', 'which keys').choices([...KEY_NAMES, 'all']))
    .option('--json', 'print JSON')
    .action(keysRotateCommand);

  program
    .command('completion')
    .description(
      'print the shell completion script (installed by the package; else: source <(mutt completion bash))',
    )
    .addArgument(new Argument('[shell]', 'the shell').choices(['bash']).default('bash'))
    .action((shell: string) => {
      if (shell !== 'bash')
        throw new CliError(`completion for "${shell}" is not available (only bash)`, EXIT.USAGE);
      process.stdout.write(bashCompletion(program));
    });

  program
    .command('manpage', { hidden: true })
    .description(
      'print the mutt(8) manual page (man format), generated from this help and the configuration schema',
    )
    .action(() => {
      process.stdout.write(manPage(program, VERSION));
    });

  return program;
}

const reasonOption = (c: Command) => c.option('--reason <text>', 'why (kept in the configuration audit log)');
const formatOptions = (c: Command) =>
  c
    .addOption(new Option('--format <format>', 'yaml (default) or json').choices(['yaml', 'json']))
    .option('-o, --output <file>', 'write to <file> instead of standard output (.json: JSON)');
const importOptions = (c: Command) =>
  reasonOption(
    c
      .argument('<file>', 'YAML or JSON file, as export writes it ("-": standard input)')
      .option('--dry-run', 'print what would change and write nothing')
      .option('--prune', 'also remove what the file does not list')
      .option('--json', 'print JSON'),
  );

/** Options that describe a rule, for add and test. */
function draftOptions(c: Command, required: boolean): Command {
  const o = (flags: string, text: string, mandatory = false) => {
    const opt = new Option(flags, text);
    if (mandatory && required) opt.makeOptionMandatory();
    return c.addOption(opt);
  };
  o('-m, --match <text>', 'match_string: the text (contains) or RE2 pattern (regex) to find in the message');
  c.addOption(
    new Option('-t, --type <type>', 'match_type (default contains)').choices([
      'contains',
      'regex',
      'oid_prefix',
    ]),
  );
  o('--oid <oid>', 'trap_oid: the OID prefix of oid_prefix rules');
  o('--severity <0-7>', 'syslog_severity: only events of this severity');
  o('-p, --priority <n>', 'lower wins (default 100)');
  o('--prod <handling>', 'prod_handling, e.g. Page_and_ticket, Ticket_only, Ignore', true);
  o('--dev <handling>', 'dev_handling, for development hosts', true);
  o('--team <team>', 'team_assignment (the Moogsoft class)', true);
  o('--name <name>', 'a short name');
  o('--description <text>', 'free text');
  o('--inactive', 'store the rule disabled');
  return c;
}

function addRuleCommands(program: Command): void {
  const rules = program
    .command('rules')
    .description(
      'the alert rules, through the same services as the admin API; every change is audited and live when the command returns',
    );
  rules
    .command('list')
    .description('list the rules in matching order (priority, then id)')
    .option('--active', 'only active rules')
    .option('--json', 'print JSON')
    .action(rulesListCommand);
  reasonOption(draftOptions(rules.command('add').description('add a rule'), true))
    .option('--json', 'print JSON')
    .action(rulesAddCommand);
  reasonOption(
    rules
      .command('rm')
      .description('delete a rule (disable it instead if the audit trail refers to it)')
      .argument('<id>'),
  )
    .option('--json', 'print JSON')
    .action(rulesRemoveCommand);
  reasonOption(rules.command('enable').description('make a rule active').argument('<id>'))
    .option('--json', 'print JSON')
    .action(rulesActiveCommand(true));
  reasonOption(rules.command('disable').description('keep a rule but stop matching it').argument('<id>'))
    .option('--json', 'print JSON')
    .action(rulesActiveCommand(false));
  draftOptions(
    rules
      .command('test')
      .description(
        "dry-run a draft rule (or a change to --rule-id, or its --delete) against recent events, with the alerter's own matching; nothing is written",
      ),
    false,
  )
    .option('--rule-id <id>', 'the existing rule the draft changes')
    .option('--delete', 'test the rule set without --rule-id')
    .option('--alone', 'the draft rule by itself instead of within the current rule set')
    .option('--events <n>', 'how many recent events (default 500)')
    .option('--json', 'print JSON')
    .action(rulesTestCommand);
  formatOptions(rules.command('export').description('write every rule as YAML or JSON, for git')).action(
    rulesExportCommand,
  );
  importOptions(
    rules
      .command('import')
      .description(
        'make the rules match a file: add new rules, update changed ones (matched by id, else by match), and with --prune disable the others; one bad entry and nothing is written',
      ),
  ).action(rulesImportCommand);
}

function addHostCommands(program: Command): void {
  const hosts = program
    .command('hosts')
    .description("development hosts: their events take a rule's dev_handling instead of prod_handling");
  hosts
    .command('list')
    .description('list the development hosts')
    .option('--json', 'print JSON')
    .action(hostsListCommand);
  reasonOption(hosts.command('add').description('add a development host').argument('<hostname>'))
    .option('--json', 'print JSON')
    .action(hostsAddCommand);
  reasonOption(hosts.command('rm').description('remove a development host').argument('<hostname>'))
    .option('--json', 'print JSON')
    .action(hostsRemoveCommand);
  formatOptions(hosts.command('export').description('write the development hosts as YAML or JSON')).action(
    hostsExportCommand,
  );
  importOptions(
    hosts
      .command('import')
      .description('make the development hosts match a file; one bad entry and nothing is written'),
  ).action(hostsImportCommand);

  const teams = program
    .command('teams')
    .description("device teams: the team (Moogsoft class) of a host's unhandled meta-alerts");
  teams
    .command('list')
    .description('list the host → team mappings')
    .option('--json', 'print JSON')
    .action(teamsListCommand);
  reasonOption(
    teams.command('add').description('map a host to a team').argument('<hostname>').argument('<team>'),
  )
    .option('--json', 'print JSON')
    .action(teamsAddCommand);
  reasonOption(teams.command('rm').description("remove a host's team mapping").argument('<hostname>'))
    .option('--json', 'print JSON')
    .action(teamsRemoveCommand);
  formatOptions(teams.command('export').description('write the team mappings as YAML or JSON')).action(
    teamsExportCommand,
  );
  importOptions(
    teams
      .command('import')
      .description('make the team mappings match a file; one bad entry and nothing is written'),
  ).action(teamsImportCommand);
}

/** Runs the command line and maps errors to sysexits codes. */
export function runCli(program: Command, argv: readonly string[]): void {
  program.parseAsync(argv).catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // commander has printed the message (or the help/version that was asked for).
      process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE);
    }
    if (err instanceof CliError) {
      process.stderr.write(`mutt: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`mutt: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof MissingBinariesError ? EXIT.UNAVAILABLE : EXIT.SOFTWARE);
  });
}
