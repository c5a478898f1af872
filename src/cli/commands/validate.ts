// `mutt validate`: checks the configuration without starting anything (systemd ExecStartPre).
import { describeCompat, staticCompatStatus } from '../../core/config/compat.ts';
import { loadUsers } from '../../listeners/snmp/config.ts';
import { syslogTlsFiles, tlsEnabled } from '../../listeners/syslog/config.ts';
import { EXIT_CONFIG, hasRole, loadConfig, needsPostgres } from '../../runtime/config/load.ts';
import { StartupError } from '../../runtime/listen.ts';
import { credentialPath } from '../../runtime/secrets/local.ts';
import { MissingBinariesError, requireBinaries } from '../../runtime/services/binaries.ts';
import { checkServerTlsFiles, SERVER_TLS_VARS, type ServerTlsFiles } from '../../runtime/tls.ts';

export function validateCommand(opts: { quiet?: boolean; json?: boolean }): void {
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
  // Certificates of the TLS listeners, checked as start-up would; their expiry is shown.
  const expiry: Partial<Record<'syslog' | 'ingest' | 'webui', string>> = {};
  const check = (files: ServerTlsFiles | undefined) => {
    if (!files) return;
    try {
      const r = checkServerTlsFiles(files);
      const days = Math.floor((r.expiresAt.getTime() - Date.now()) / 86_400_000);
      expiry[files.listener] = `certificate expires ${r.expiresAt.toISOString().slice(0, 10)}`;
      if (days < 0)
        problems.push(
          `${files.certVar}="${files.cert}": the certificate expired on ${r.expiresAt.toISOString()}`,
        );
      else if (days < 14)
        process.stderr.write(`mutt: warning: ${files.certVar}: the certificate expires in ${days} days\n`);
    } catch (err) {
      if (err instanceof StartupError) problems.push(err.message);
      else throw err;
    }
  };
  if (r.config && hasRole(r.config, 'listeners')) check(syslogTlsFiles(r.config));
  for (const listener of ['ingest', 'webui'] as const) {
    const c = r.config;
    if (!c) break;
    const vars = SERVER_TLS_VARS[listener];
    const cert = c[vars.cert];
    const key = c[vars.key];
    if (cert !== undefined && key !== undefined)
      check({ listener, cert, key, certVar: vars.cert, keyVar: vars.key });
  }
  const syslogTls = expiry.syslog !== undefined;
  if (opts.json) {
    const c = r.config;
    const ok = problems.length === 0 && c !== undefined;
    process.stdout.write(
      `${JSON.stringify({
        ok,
        problems,
        warnings: r.warnings,
        ...(ok
          ? {
              env_file: c.envFile ?? null,
              roles: c.roles,
              data_dir: c.dataDir,
              redis: c.embeddedRedis ? 'embedded' : 'external',
              postgres: !needsPostgres(c) ? 'not used' : c.embeddedPostgres ? 'embedded' : 'external',
              compat: staticCompatStatus(c),
              ports: {
                http_ingest: c.SERVER_PORT_INGESTOR,
                admin_ui: c.SERVER_PORT_WEBUI,
                syslog_udp: c.SYSLOG_UDP_PORT,
                syslog_tcp: c.SYSLOG_TCP_PORT,
                syslog_tls: syslogTls ? c.SYSLOG_TLS_PORT : 0,
                snmp_traps: snmpUsers === undefined ? 0 : c.SNMP_TRAP_PORT,
              },
              tls_certificates: expiry,
              secrets: c.VAULT_ADDR ? 'vault' : 'credentials, files and variables',
            }
          : {}),
      })}\n`,
    );
    if (!ok) process.exit(EXIT_CONFIG);
    return;
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
    `  secrets:     ${
      c.VAULT_ADDR
        ? `Vault ${new URL(c.VAULT_ADDR).origin}, KV v2 ${c.VAULT_SECRETS_PATH}, AppRole secret ID from ${credentialPath(c.credentialsDir, 'VAULT_SECRET_ID') ? 'the systemd credential VAULT_SECRET_ID' : c.VAULT_SECRET_ID_FILE} (read at start-up)`
        : 'systemd credentials, <NAME>_FILE files and variables (no Vault)'
    }`,
    `  http ingest: ${c.SERVER_PORT_INGESTOR === 0 ? 'disabled' : `port ${c.SERVER_PORT_INGESTOR}${expiry.ingest ? ` (HTTPS, ${expiry.ingest})` : ' (HTTP)'}`}`,
    ...(hasRole(c, 'webui') && c.SERVER_PORT_WEBUI !== 0
      ? [
          `  admin:       port ${c.SERVER_PORT_WEBUI}${expiry.webui ? ` (HTTPS, ${expiry.webui})` : ' (HTTP)'}`,
        ]
      : []),
    `  syslog:      ${
      [
        c.SYSLOG_UDP_PORT !== 0 ? `${c.SYSLOG_UDP_PORT}/udp` : '',
        c.SYSLOG_TCP_PORT !== 0 ? `${c.SYSLOG_TCP_PORT}/tcp` : '',
        syslogTls
          ? `${c.SYSLOG_TLS_PORT}/tcp (TLS${c.SYSLOG_TLS_CA ? ', client certificates required' : ''}, ${expiry.syslog})`
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
