// `mutt validate`: checks the configuration without starting anything (systemd ExecStartPre).
import { describeCompat, staticCompatStatus } from '../../core/config/compat.ts';
import { loadUsers } from '../../listeners/snmp/config.ts';
import { tlsEnabled, tlsOptions } from '../../listeners/syslog/config.ts';
import { EXIT_CONFIG, hasRole, loadConfig, needsPostgres } from '../../runtime/config/load.ts';
import { StartupError } from '../../runtime/listen.ts';
import { MissingBinariesError, requireBinaries } from '../../runtime/services/binaries.ts';

export function validateCommand(opts: { quiet?: boolean }): void {
  const r = loadConfig();
  const problems = [...r.problems];
  if (r.config) {
    try {
      requireBinaries({
        redis: r.config.embeddedRedis,
        postgres: r.config.embeddedPostgres && needsPostgres(r.config),
      });
    } catch (err) {
      if (err instanceof MissingBinariesError) problems.push(err.message);
      else throw err;
    }
  }
  let snmpUsers: number | undefined;
  if (r.config && hasRole(r.config, 'listeners') && r.config.SNMP_TRAP_PORT !== 0) {
    try {
      snmpUsers = loadUsers(r.config).users.length;
    } catch (err) {
      if (err instanceof StartupError) problems.push(...err.message.split('\n'));
      else throw err;
    }
  }
  let syslogTls = false;
  if (r.config && hasRole(r.config, 'listeners')) {
    try {
      syslogTls = tlsOptions(r.config) !== undefined;
    } catch (err) {
      if (err instanceof StartupError) problems.push(err.message);
      else throw err;
    }
  }
  for (const w of r.warnings) process.stderr.write(`mutt: warning: ${w}\n`);
  if (problems.length > 0 || !r.config) {
    for (const p of problems) process.stderr.write(`mutt: configuration error: ${p}\n`);
    process.stderr.write(`mutt: ${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
    process.exit(EXIT_CONFIG);
  }
  if (opts.quiet) return;
  const c = r.config;
  const lines = [
    'configuration OK',
    `  env file:    ${c.envFile ?? '(none)'}`,
    `  roles:       ${c.roles.join(', ')}`,
    `  data dir:    ${c.dataDir}`,
    `  redis:       ${c.embeddedRedis ? 'embedded (private redis-server under the data dir)' : c.REDIS_URL ? 'REDIS_URL' : c.REDIS_SENTINELS.length > 0 ? `sentinel ${c.REDIS_SENTINEL_MASTER}` : `${c.REDIS_HOST}:${c.REDIS_PORT}`}`,
    `  postgresql:  ${!needsPostgres(c) ? 'not used by these roles' : c.embeddedPostgres ? 'embedded (private postgres under the data dir)' : `${c.DB_HOST}:${c.DB_PORT}/${c.DB_NAME}`}`,
    `  http ingest: ${c.SERVER_PORT_INGESTOR === 0 ? 'disabled' : `port ${c.SERVER_PORT_INGESTOR}`}`,
    `  syslog:      ${
      [
        c.SYSLOG_UDP_PORT !== 0 ? `${c.SYSLOG_UDP_PORT}/udp` : '',
        c.SYSLOG_TCP_PORT !== 0 ? `${c.SYSLOG_TCP_PORT}/tcp` : '',
        syslogTls
          ? `${c.SYSLOG_TLS_PORT}/tcp (TLS${c.SYSLOG_TLS_CA ? ', client certificates required' : ''})`
          : '',
      ]
        .filter(Boolean)
        .join(', ') || 'disabled'
    }${tlsEnabled(c) || c.SYSLOG_TLS_PORT === 0 ? '' : ' (TLS off: no SYSLOG_TLS_CERT)'}`,
    `  snmp traps:  ${snmpUsers === undefined ? 'disabled' : `port ${c.SNMP_TRAP_PORT}/udp, ${snmpUsers} SNMPv3 user${snmpUsers === 1 ? '' : 's'}`}`,
    `  compat mode: ${describeCompat(staticCompatStatus(c))}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
