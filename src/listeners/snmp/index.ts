// The SNMP trap listener (SNMP_TRAP_PORT): SNMPv1/v2c traps, v2c informs, v3 traps and informs
// with USM users from SNMP_USERS_FILE, MIB translation from SNMP_MIB_DIRS, events into the shared
// enqueuer. See docs/SNMP.md for the event format, the guarantees and the metrics.
import type { ListenerFactory } from '../types.ts';
import { communities, defaultSeverity, loadUsers, mibDirs } from './config.ts';
import { startEngine } from './engine.ts';
import { SnmpTelemetry } from './metrics.ts';
import { MibStore } from './mib/store.ts';
import { TrapReceiver } from './receiver.ts';

export { MibStore } from './mib/store.ts';
export { TrapReceiver } from './receiver.ts';

export const snmpListener: ListenerFactory = async (ctx) => {
  const c = ctx.config;
  if (c.SNMP_TRAP_PORT === 0) return undefined;
  const log = ctx.log.child({ listener: 'snmp' });

  const comm = communities(c);
  if (comm.isDefault)
    log.warn(
      'SNMP_COMMUNITIES is not set: SNMPv1/v2c traps with the community "public" are accepted; set your own communities',
    );
  const users = loadUsers(c);
  for (const w of users.warnings) log.warn(w);
  const identity = startEngine(c.dataDir, c.SNMP_ENGINE_ID);

  const dirs = mibDirs(c);
  const mib = MibStore.load(dirs);
  const rep = mib.report;
  if (rep.problems.length > 0 || rep.warnings.length > 0)
    log.warn(
      { problems: rep.problems, incomplete: rep.warnings },
      `${rep.problems.length} MIB file(s) skipped, ${rep.warnings.length} module(s) incomplete`,
    );
  log.info(
    {
      dirs,
      missing_dirs: rep.missingDirs,
      files: rep.files,
      modules: rep.modules,
      nodes: rep.nodes,
      ms: rep.ms,
    },
    'MIBs loaded',
  );

  const telemetry = new SnmpTelemetry(ctx.registry, log);
  telemetry.mib.set({ what: 'modules' }, rep.modules);
  telemetry.mib.set({ what: 'nodes' }, rep.nodes);
  telemetry.mib.set({ what: 'problems' }, rep.problems.length);
  const receiver = new TrapReceiver({
    port: c.SNMP_TRAP_PORT,
    address: c.SNMP_LISTEN_ADDRESS,
    communities: comm.list,
    users: users.users,
    identity,
    severity: defaultSeverity(c),
    mib,
    enqueuer: ctx.enqueuer,
    telemetry,
    log,
    reverseDns: c.SNMP_REVERSE_DNS,
    recvBufferBytes: c.SNMP_RECV_BUFFER_BYTES,
    pendingMax: c.SNMP_PENDING_MAX_EVENTS,
  });
  telemetry.sizes = () => receiver.cacheSizes();
  await receiver.start();
  // Linux reports twice the size it granted (its bookkeeping overhead); caps it at net.core.rmem_max.
  const granted = process.platform === 'linux' ? receiver.recvBufferSize() / 2 : receiver.recvBufferSize();
  log.info(
    {
      port: receiver.boundPort,
      addresses: receiver.boundAddresses,
      communities: comm.list.length,
      v3_users: users.users.length,
      engine_id: identity.engineId.toString('hex'),
      engine_boots: identity.boots,
      recv_buffer_bytes: granted,
    },
    'SNMP trap listener ready',
  );
  if (granted > 0 && granted < c.SNMP_RECV_BUFFER_BYTES)
    log.warn(
      { requested: c.SNMP_RECV_BUFFER_BYTES, granted },
      'the kernel granted a smaller SNMP receive buffer than SNMP_RECV_BUFFER_BYTES: raise net.core.rmem_max (the package installs /usr/lib/sysctl.d/60-mutt-udp.conf; from a checkout, etc/sysctl.d/60-mutt-udp.conf) to absorb larger bursts',
    );
  return { name: 'snmp', info: { snmpTrapPort: receiver.boundPort }, stop: () => receiver.stop() };
};
