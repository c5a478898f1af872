// The whole pipeline, started the way the README says: `mutt serve` with no Redis or PostgreSQL
// configured (MUTT starts its private servers under MUTT_DATA_DIR) and MOOG_WEBHOOK_URL pointing at
// the mock Moogsoft. Rules are written with SQL as an operator writes them; then real clients send:
//
//   util-linux logger ──syslog UDP/TCP──┐
//   Net-SNMP snmptrap ──SNMPv2c trap────┼─► listeners ─► ingest queue ─► alerter ─► audit row (PostgreSQL)
//   fetch ──────────────HTTP POST───────┘                                       └─► alert queue ─► forwarder ─► mock Moogsoft
//
// and each event must end as an audit row and, when its handling forwards, as one Moogsoft event with
// the expected fields; an `Ignore` rule is audited and not forwarded, and an unmatched event is
// neither.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockMoogsoft } from './harness/mock-moogsoft.ts';
import { type MuttProcess, startMutt } from './harness/mutt-process.ts';
import { freePort, freeUdpPort } from './harness/ports.ts';
import { baseEnv, type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
let mutt: MuttProcess;
let db: pg.Pool;
const ports = { ingest: 0, udp: 0, tcp: 0, snmp: 0 };
const API_KEY = 'pipeline-ingest-key';
const MOOG_KEY = 'pipeline-moog-key';
const COMMUNITY = 'pipeline-community';

beforeAll(async () => {
  svc = await useServices({ database: false });
  mock = await MockMoogsoft.start({ auth: { bearer: MOOG_KEY } });
  ports.ingest = await freePort();
  ports.tcp = await freePort();
  ports.udp = await freeUdpPort();
  ports.snmp = await freeUdpPort();
  const dataDir = join(svc.tmp, 'appliance');
  mutt = startMutt({
    ...baseEnv(),
    MUTT_DATA_DIR: dataDir,
    INGEST_API_KEY: API_KEY,
    SERVER_PORT_INGESTOR: String(ports.ingest),
    SYSLOG_UDP_PORT: String(ports.udp),
    SYSLOG_TCP_PORT: String(ports.tcp),
    SNMP_TRAP_PORT: String(ports.snmp),
    SNMP_COMMUNITIES: COMMUNITY,
    MOOG_WEBHOOK_URL: mock.url,
    MOOG_AUTH_MODE: 'bearer',
    MOOG_API_KEY: MOOG_KEY,
    MOOG_BATCH_LINGER_MS: '20',
    LOG_LEVEL: 'INFO',
  });
  await mutt.running(180_000);
  await mutt.waitForMessage('alerter started', 120_000);
  // The embedded PostgreSQL: Unix socket under the data directory, MUTT's default user and database.
  db = new pg.Pool({
    host: join(dataDir, 'postgres', 'run'),
    port: 5432,
    user: 'mutt_user',
    database: 'mutt_db',
  });
  db.on('error', () => {}); // an idle client whose server stops at the end of the file
}, 300_000);

afterAll(async () => {
  await db?.end();
  await mutt?.stop();
  await mock?.close();
  await svc?.cleanup();
});

const RULES = `
  INSERT INTO development_hosts (hostname) VALUES ('lab-router');
  INSERT INTO device_teams (hostname, team_assignment) VALUES ('core-sw1', 'DATACENTER');
  INSERT INTO alert_rules (match_string, match_type, priority, prod_handling, dev_handling, team_assignment)
    VALUES ('LINK-3-UPDOWN', 'contains', 10, 'Page_and_ticket', 'Ignore', 'NETO');
  INSERT INTO alert_rules (trap_oid, match_type, priority, prod_handling, dev_handling, team_assignment)
    VALUES ('.1.3.6.1.6.3.1.1.5.3', 'oid_prefix', 20, 'Ticket_only', 'Ignore', 'NETO-SNMP');
  INSERT INTO alert_rules (match_string, match_type, priority, prod_handling, dev_handling, team_assignment)
    VALUES ('power supply \\d+ (failed|removed)', 'regex', 30, 'Page_only', 'Ignore', 'FACILITIES');
`;

async function auditRows(): Promise<
  {
    hostname: string;
    matched_rule_id: number;
    handling_decision: string;
    forwarded_to_moog: boolean;
    raw: Record<string, unknown>;
  }[]
> {
  const r = await db.query(
    'SELECT hostname, matched_rule_id, handling_decision, forwarded_to_moog, raw_message FROM event_audit_log ORDER BY id',
  );
  return r.rows.map((row: Record<string, unknown>) => ({
    hostname: row.hostname as string,
    matched_rule_id: row.matched_rule_id as number,
    handling_decision: row.handling_decision as string,
    forwarded_to_moog: row.forwarded_to_moog as boolean,
    raw: JSON.parse(row.raw_message as string) as Record<string, unknown>,
  }));
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, `${cmd} ${args.join(' ')}: ${r.stderr}`).toBe(0);
}

const eventsOf = () => mock.acceptedEvents();
const byDescription = (s: string) => eventsOf().find((e) => String(e.description).includes(s));

describe('syslog, SNMP and HTTP events through rules to Moogsoft', () => {
  it('loads rules written with SQL without a restart', async () => {
    const loaded = mutt.waitFor((l) => l.msg === 'rules loaded' && l.rules === 3, 30_000);
    await db.query(RULES);
    const l = await loaded;
    expect(l).toMatchObject({ rules: 3, rejected: 0, dev_hosts: 1, teams: 1 });
  });

  it('a syslog message from logger (UDP) matches a contains rule and reaches Moogsoft', async () => {
    const text = '%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down';
    run('logger', [
      '--server',
      '127.0.0.1',
      '--port',
      String(ports.udp),
      '--udp',
      '--rfc3164',
      '-p',
      'local7.err',
      '-t',
      'ios',
      text,
    ]);
    await mock.until(() => byDescription('GigabitEthernet0/1') !== undefined, 30_000, 'the syslog alert');
    const e = byDescription('GigabitEthernet0/1')!;
    expect(e).toMatchObject({
      source: hostname(),
      class: 'NETO',
      manager: 'MUTT',
      severity: expect.any(Number),
    });
    expect(e.severity).toBeGreaterThanOrEqual(3); // err (3) is at least Minor in Moogsoft's scale
    const info = e.custom_info as Record<string, unknown>;
    expect(info).toMatchObject({ handling: 'Page_and_ticket', environment: 'prod' });
    const ev = info.event as Record<string, unknown>;
    expect(ev).toMatchObject({ source: 'syslog', syslog_severity: 3, facility: 23, app_name: 'ios' });
    const rows = (await auditRows()).filter((r) => String(r.raw.message).includes('GigabitEthernet0/1'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      hostname: hostname(),
      handling_decision: 'Page_and_ticket',
      forwarded_to_moog: true,
    });
    expect(rows[0]!.matched_rule_id).toBe(info.rule_id);
  });

  it('a syslog message over TCP with octet counting matches a regex rule', async () => {
    run('logger', [
      '--server',
      '127.0.0.1',
      '--port',
      String(ports.tcp),
      '--tcp',
      '--octet-count',
      '--rfc5424',
      '-t',
      'pdu',
      'Power Supply 2 FAILED on chassis 1',
    ]);
    await mock.until(() => byDescription('Power Supply 2') !== undefined, 30_000, 'the TCP syslog alert');
    const e = byDescription('Power Supply 2')!;
    expect(e).toMatchObject({ source: hostname(), class: 'FACILITIES' });
    expect((e.custom_info as Record<string, unknown>).handling).toBe('Page_only');
  });

  it('an SNMPv2c linkDown trap from snmptrap matches the OID-prefix rule, named by IF-MIB', async () => {
    run('snmptrap', [
      '-v',
      '2c',
      '-c',
      COMMUNITY,
      `127.0.0.1:${ports.snmp}`,
      '',
      '1.3.6.1.6.3.1.1.5.3',
      '1.3.6.1.2.1.2.2.1.1.7',
      'i',
      '7',
      '1.3.6.1.2.1.2.2.1.8.7',
      'i',
      '2',
      '1.3.6.1.2.1.1.5.0',
      's',
      'core-sw1',
    ]);
    await mock.until(() => byDescription('IF-MIB::linkDown') !== undefined, 30_000, 'the trap alert');
    const e = byDescription('IF-MIB::linkDown')!;
    // The sysName varbind names the host, and device_teams overrides nothing for a matched rule.
    expect(e).toMatchObject({ source: 'core-sw1', class: 'NETO-SNMP', type: '1.3.6.1.6.3.1.1.5.3' });
    expect(String(e.description)).toContain('ifOperStatus.7=down(2)');
    const ev = (e.custom_info as Record<string, unknown>).event as Record<string, unknown>;
    expect(ev).toMatchObject({ source: 'snmp', trap_oid: '1.3.6.1.6.3.1.1.5.3', snmp_version: 'v2c' });
    const rows = (await auditRows()).filter((r) => r.hostname === 'core-sw1');
    expect(rows).toMatchObject([{ handling_decision: 'Ticket_only', forwarded_to_moog: true }]);
  });

  it('HTTP events: a prod host is forwarded, a dev host is audited as Ignore only, an unmatched one neither', async () => {
    const post = (body: unknown) =>
      fetch(`http://127.0.0.1:${ports.ingest}/ingest`, {
        method: 'POST',
        headers: {
          'X-API-KEY': API_KEY,
          'Content-Type': 'application/json',
          'X-Correlation-ID': 'pipeline-http-1',
        },
        body: JSON.stringify(body),
      });
    const ts = new Date().toISOString();
    const r = await post([
      {
        hostname: 'edge-fw1',
        message: '%LINK-3-UPDOWN: Interface Te1/1, changed state to down',
        timestamp: ts,
        syslog_severity: 'err',
      },
      {
        hostname: 'lab-router',
        message: '%LINK-3-UPDOWN: Interface Gi9/9, changed state to down',
        timestamp: ts,
      },
      { hostname: 'edge-fw1', message: 'nothing any rule knows about', timestamp: ts },
    ]);
    expect(r.status).toBe(200);
    await mock.until(() => byDescription('Te1/1') !== undefined, 30_000, 'the HTTP alert');
    expect(byDescription('Te1/1')).toMatchObject({ source: 'edge-fw1', class: 'NETO' });
    let rows = await auditRows();
    for (let i = 0; i < 100 && !rows.some((x) => x.hostname === 'lab-router'); i++) {
      await new Promise((res) => setTimeout(res, 100));
      rows = await auditRows();
    }
    expect(rows.filter((x) => x.hostname === 'lab-router')).toMatchObject([
      { handling_decision: 'Ignore', forwarded_to_moog: false },
    ]);
    // Give the forwarder time to (wrongly) send the dev event or the unmatched one, then check it did not.
    await new Promise((res) => setTimeout(res, 1000));
    expect(byDescription('Gi9/9')).toBeUndefined();
    expect(byDescription('nothing any rule knows about')).toBeUndefined();
    expect(rows.some((x) => x.raw.message === 'nothing any rule knows about')).toBe(false);
  });

  it('sent each alert exactly once, with valid payloads and the configured credentials', () => {
    expect(mock.invalid()).toEqual([]);
    expect(mock.duplicates()).toBe(0);
    expect(mock.uniqueAcceptedIds().size).toBe(4);
  });
});
