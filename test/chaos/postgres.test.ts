// Chaos: PostgreSQL stopped for 60 s (CI: 15 s) under HTTP load at 300 events/s, default settings.
// The alerter holds its batch and events wait in the ingest queue (clients are never turned away:
// the queue is far from MAX_INGEST_QUEUE_SIZE); once PostgreSQL is back every event is audited once
// and delivered, none dead-lettered, and delivery resumes within seconds.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServerHandle, startPostgres } from '../../src/runtime/services/postgres-server.ts';
import { ChaosRun, criteria, type Fault, phase } from '../harness/chaos.ts';
import { MockMoogsoft } from '../harness/mock-moogsoft.ts';
import { freePort } from '../harness/ports.ts';
import { quietLog, type TestServices, useServices } from '../harness/services.ts';

let svc: TestServices;
let mock: MockMoogsoft;
let server: PostgresServerHandle | undefined;
let port: number;
const startPg = async () => {
  server = await startPostgres({
    binDir: svc.services.postgres.binDir,
    dir: join(svc.tmp, 'chaos-pg'),
    superuser: svc.services.postgres.user,
    database: 'mutt_db',
    listen: '127.0.0.1',
    port,
    fastInit: true,
    settings: { fsync: 'off' },
    log: quietLog(),
  });
};
beforeAll(async () => {
  svc = await useServices({ database: false });
  mock = await MockMoogsoft.start();
  port = await freePort();
  await startPg();
});
afterAll(async () => {
  await server?.stop();
  await mock.close();
  await svc.cleanup();
});

describe('PostgreSQL outage', () => {
  it(
    `stopped for ${phase(15, 60) / 1000} s under HTTP load (300 events/s): every event audited once and delivered, none dead-lettered`,
    { timeout: phase(240, 600) },
    async () => {
      const run = await ChaosRun.start({
        name: 'postgres-stop',
        svc,
        mock,
        http: 300,
        postgres: { host: '127.0.0.1', port, user: svc.services.postgres.user, database: 'mutt_db' },
      });
      try {
        await new Promise((r) => setTimeout(r, 5000));
        const fault: Fault = {
          what: `PostgreSQL stopped for ${phase(15, 60) / 1000} s`,
          start: Date.now(),
          end: 0,
        };
        await server!.stop();
        await new Promise((r) => setTimeout(r, phase(15, 60)));
        // The fault ends when PostgreSQL is started again (its start-up counts against MUTT).
        fault.end = Date.now();
        await startPg();
        await new Promise((r) => setTimeout(r, phase(5, 10)));
        await run.stopLoad();
        await run.settle();
        const t = await run.tally({ load: 'HTTP 300 events/s', fault });
        expect(criteria(t, { transient: true })).toEqual([]);
        expect(t.http503).toBe(0);
      } finally {
        await run.close();
      }
    },
  );
});
