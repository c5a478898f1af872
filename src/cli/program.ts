// The `mutt` command line: every verb but `serve`, whose action the composition root passes in
// (src/app/main.ts), so the CLI stays a thin layer over core and runtime.
import { Command, Option } from 'commander';
import { configReference, envExample } from '../runtime/config/reference.ts';
import { VERSION } from '../runtime/version.ts';
import { MissingBinariesError } from '../runtime/services/binaries.ts';
import { configGetCommand, configListCommand, configSetCommand } from './commands/config.ts';
import { dlqListCommand, dlqPurgeCommand, dlqReplayCommand, dlqShowCommand } from './commands/dlq.ts';
import { mibTranslateCommand } from './commands/mib.ts';
import { migrateCommand } from './commands/migrate.ts';
import { statusCommand } from './commands/status.ts';
import { validateCommand } from './commands/validate.ts';
import { CliError } from './context.ts';

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
    .showHelpAfterError();

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
    .action(validateCommand);

  program
    .command('migrate')
    .description(
      'create or upgrade the PostgreSQL schema and audit-log partitions (idempotent, safe on a Python MUTT 2.x database)',
    )
    .option('-v, --verbose', 'log each step')
    .action(migrateCommand);

  program
    .command('status')
    .description('show the depth of the ingest and alert queues and the dead-letter queues')
    .option('-p, --peek <n>', 'also print the newest <n> events of the ingest queue')
    .option('--json', 'print JSON')
    .action(statusCommand);

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
      .option('-y, --yes', 'do not ask for confirmation'),
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
    .action(configSetCommand);

  program
    .command('config-reference')
    .description('print the configuration reference (Markdown) generated from the configuration schema')
    .option('--env', 'print an example env file instead, every variable commented out with its default')
    .action((opts: { env?: boolean }) => {
      process.stdout.write(opts.env ? envExample() : `${configReference()}\n`);
    });

  return program;
}

/** Runs the command line and maps errors to sysexits codes. */
export function runCli(program: Command, argv: readonly string[]): void {
  program.parseAsync(argv).catch((err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`mutt: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`mutt: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof MissingBinariesError ? 69 : 70);
  });
}
