// SNMP trap benchmark: SNMPv2c traps with 4 variable bindings (IF-MIB linkDown: ifIndex,
// ifAdminStatus, ifOperStatus, ifDescr) blasted over loopback at rising fixed rates, into
//
//   MUTT        `mutt serve` (listeners role), MIB translation on, events into its embedded Redis
//               (Unix socket, AOF everysec — the product default); counted with LLEN
//   snmptrapd   Debian's Net-SNMP trap daemon with the same MIBs, logging each trap as one line to a
//               file; counted in the file
//
// in the same run, one after the other on the same machine. Each step sends at a fixed rate for the
// run length and then waits for the receiver to settle; a step passes only when every trap sent is
// counted (0 loss). The figure is the highest rate that passed. The generator pre-encodes the trap
// once and only rewrites the request-id, so it costs a few percent of a core.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { int, octets, oid, TAG, v2Message, varbind } from '../src/listeners/snmp/ber.ts';
import { abortableSleep } from '../src/runtime/sleep.ts';
import { ensureTool, fmt, machine, median, scratchDir } from './lib/env.ts';
import { startMutt } from './lib/mutt.ts';
import { best, ladder, type Step, settle } from './lib/ladder.ts';
import { writeSection } from './lib/report.ts';
import { applyUdpSysctl, openLoopUdp, queueConsumer } from './lib/udp.ts';

const RATES = [5_000, 10_000, 12_500, 15_000, 17_500, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000, 80_000];

/** The trap, with a 4-octet request-id at a known offset so each copy gets its own. */
function template(): { buf: Buffer; idAt: number } {
  const buf = v2Message({
    community: 'public',
    requestId: 0x7fffffff,
    varbinds: [
      varbind('1.3.6.1.2.1.1.3.0', int(123456, TAG.TimeTicks)),
      varbind('1.3.6.1.6.3.1.1.4.1.0', oid('1.3.6.1.6.3.1.1.5.3')),
      varbind('1.3.6.1.2.1.2.2.1.1.17', int(17)),
      varbind('1.3.6.1.2.1.2.2.1.7.17', int(1)),
      varbind('1.3.6.1.2.1.2.2.1.8.17', int(2)),
      varbind('1.3.6.1.2.1.2.2.1.2.17', octets('GigabitEthernet1/0/17')),
    ],
  });
  const idAt = buf.indexOf(Buffer.from([0x02, 0x04, 0x7f, 0xff, 0xff, 0xff])) + 2;
  return { buf, idAt };
}

/** Sends `rate` traps per second for `seconds`, open loop, each with its own request-id. */
function blast(port: number, rate: number, seconds: number, firstId: number) {
  const { buf, idAt } = template();
  return openLoopUdp(port, rate, seconds, (n) => {
    const copy = Buffer.from(buf);
    copy.writeUInt32BE((firstId + n) & 0x7fffffff, idAt);
    return copy;
  });
}

/** The rate ladder (bench/lib/ladder.ts) with this file's generator and rates. */
const udpLadder = (
  name: string,
  port: number,
  count: () => Promise<number>,
  pids: () => number[],
  seconds: number,
) => ladder({ name, rates: RATES, blast: (rate, s, id) => blast(port, rate, s, id), count, pids, seconds });

export async function snmpBench(o: { seconds: number; runs: number }): Promise<void> {
  // Other workloads on the machine starve both receivers alike; the report says how busy it was.
  const loadBefore = loadavg()[0]!;
  ensureTool('snmptrapd', 'snmptrapd');
  const sysctl = applyUdpSysctl();
  const dir = scratchDir('snmp');
  const mibs = resolve('etc/mibs');
  const muttPort = 19_000 + Math.floor(Math.random() * 500);
  const trapdPort = muttPort + 1;

  const mutt = await startMutt({
    MUTT_ROLES: 'listeners',
    MUTT_DATA_DIR: join(dir, 'data'),
    INGEST_API_KEY: 'bench-key',
    SERVER_PORT_INGESTOR: '0',
    SNMP_TRAP_PORT: String(muttPort),
    SNMP_COMMUNITIES: 'public',
    MAX_INGEST_QUEUE_SIZE: '50000000',
    SYSLOG_UDP_PORT: '0',
    SYSLOG_TCP_PORT: '0',
    SYSLOG_TLS_PORT: '0',
    SERVER_PORT_WEBUI: '0',
  });
  const redis = new Redis({ path: join(dir, 'data', 'redis', 'redis.sock') });
  const redisPid = Number(readFileSync(join(dir, 'data', 'redis', 'redis.pid'), 'utf8').trim());

  const trapdLog = join(dir, 'snmptrapd.log');
  const conf = join(dir, 'snmptrapd.conf');
  // The same kernel receive buffer as MUTT's default SNMP_RECV_BUFFER_BYTES.
  writeFileSync(
    conf,
    [
      '[snmp] serverRecvBuf 8388608',
      'authCommunity log public',
      'format2 TRAP %B %V| %v\\n',
      'format1 TRAP %B %V| %v\\n',
      'doNotRetainNotificationLogs yes',
      '',
    ].join('\n'),
  );
  const trapd = spawn(
    'snmptrapd',
    [
      '-f',
      '-n',
      '-C',
      '-c',
      conf,
      '-Lf',
      trapdLog,
      '-M',
      `/usr/share/snmp/mibs:${mibs}`,
      '-m',
      'ALL',
      `udp:127.0.0.1:${trapdPort}`,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SNMP_PERSISTENT_DIR: join(dir, 'snmptrapd-state') },
    },
  );
  const trapdLines = async () => {
    try {
      const text = readFileSync(trapdLog, 'latin1');
      let n = 0;
      for (let i = text.indexOf('TRAP '); i >= 0; i = text.indexOf('\nTRAP ', i + 1)) n++;
      return n;
    } catch {
      return 0;
    }
  };

  const runs: { mutt: Step[]; trapd: Step[] }[] = [];
  const samples = { mutt: '', trapd: '' };
  try {
    await abortableSleep(1000);
    // Warm-up (JIT, MIB caches), not measured.
    await blast(muttPort, 5000, 2, 0);
    await settle(() => redis.llen('mutt:ingest_queue'), 10_000);
    samples.mutt = (await redis.lindex('mutt:ingest_queue', 0)) ?? '';
    await redis.unlink('mutt:ingest_queue');
    await blast(trapdPort, 5000, 1, 0);
    await settle(trapdLines, 5000);
    samples.trapd =
      readFileSync(trapdLog, 'latin1')
        .split('\n')
        .find((l) => l.startsWith('TRAP ')) ?? '';
    for (let run = 1; run <= o.runs; run++) {
      const consumer = queueConsumer(redis, 'mutt:ingest_queue');
      const m = await udpLadder(
        'mutt',
        muttPort,
        consumer.count,
        () => [mutt.child.pid!, redisPid],
        o.seconds,
      );
      consumer.stop();
      await redis.unlink('mutt:ingest_queue');
      const t = await udpLadder('snmptrapd', trapdPort, trapdLines, () => [trapd.pid!], o.seconds);
      runs.push({ mutt: m, trapd: t });
    }
  } finally {
    redis.disconnect();
    trapd.kill();
    await mutt.stop();
    sysctl.restore();
  }

  const figure = (steps: Step[]) => best(steps)?.rate ?? 0;
  const cpuAt = (steps: Step[]) => best(steps)?.cpu ?? Number.NaN;
  const m = median(runs.map((r) => figure(r.mutt)));
  const t = median(runs.map((r) => figure(r.trapd)));
  const firstLoss = (steps: Step[]) => {
    const s = steps.find((x) => x.counted < x.sent);
    return s
      ? `${fmt(s.rate)}/s (${fmt(s.sent - s.counted)} of ${fmt(s.sent)} lost)`
      : `none up to ${fmt(steps.at(-1)!.rate)}/s`;
  };
  const md = `## SNMP traps

Command: \`npm run bench -- snmp --runs ${o.runs} --seconds ${o.seconds}\` (${o.runs} run${o.runs === 1 ? '' : 's'}; each step sends for ${o.seconds} s; medians). Measured ${new Date().toISOString().slice(0, 10)} on: ${machine()}; 1-minute load average ${fmt(loadBefore, 1)} before and ${fmt(loadavg()[0]!, 1)} after the run (on 2 cores, anything above about 1 is other work competing with the receivers).
Load: SNMPv2c linkDown traps with 4 variable bindings (ifIndex, ifAdminStatus, ifOperStatus, ifDescr), pre-encoded once and sent over loopback from Node.js (one socket, bursts of about 1 ms of traps with a sleep between them, so that the sender does not take a core from the receiver) at fixed rates (${RATES.map((r) => fmt(r / 1000, r % 1000 === 0 ? 0 : 1)).join(', ')} thousand/s) until a step loses a trap. A step passes only when every trap sent is counted.
MUTT: \`mutt serve\` with \`MUTT_ROLES=listeners\`, MIB translation on (\`/usr/share/snmp/mibs\` and \`etc/mibs\`), embedded Redis (Unix socket, AOF \`everysec\`); counted in the ingest queue, which a stand-in for the alerter empties once a second (count and \`UNLINK\` in one Lua call) so that Redis holds what it would hold in service. snmptrapd: Debian's Net-SNMP ${'snmptrapd'} with the same MIBs and the same 8 MiB receive buffer, one log line per trap to a file; counted in the file. Both measured in the same run, one after the other; ${sysctl.note}.

| receiver | highest rate with 0 loss | target | CPU at that rate | first step with loss |
|---|---|---|---|---|
| MUTT → Redis | **${fmt(m)} traps/s** | ≥ 10,000 traps/s: ${m >= 10_000 ? 'met' : '**not met**'} | ${fmt(median(runs.map((r) => cpuAt(r.mutt))) * 100)} % of a core (MUTT + Redis) | ${firstLoss(runs.at(-1)!.mutt)} |
| snmptrapd → file | **${fmt(t)} traps/s** | — | ${fmt(median(runs.map((r) => cpuAt(r.trapd))) * 100)} % of a core | ${firstLoss(runs.at(-1)!.trapd)} |

Per run (MUTT · snmptrapd, traps/s with 0 loss): ${runs.map((r) => `${fmt(figure(r.mutt))} · ${fmt(figure(r.trapd))}`).join('; ')}. The generator reached ${fmt(median(runs.flatMap((r) => r.mutt.map((s) => s.achieved / s.rate))) * 100)} % of each offered rate.

What each produced for one trap — MUTT (the queued event, abridged): \`${JSON.stringify(JSON.parse(samples.mutt || '{}').message ?? '')}\`; snmptrapd: \`${samples.trapd.slice(0, 220)}\`.
`;
  writeSection('snmp', md);
  process.stdout.write(`${md}\n`);
}
