// The dependency gauges against real servers: PostgreSQL answering or not, and the audit partitions of
// this month and the next present or missing (what the MUTTPostgresDown and MUTTAuditPartitionMissing
// alerts read).
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDependencyMetrics } from '../src/runtime/dependency-metrics.ts';
import { auditPartitionsPresent, ensurePartitions, partitionName } from '../src/runtime/migrate.ts';
import { pingPostgres } from '../src/runtime/postgres.ts';
import { freePort } from './harness/ports.ts';
import { type TestServices, useServices } from './harness/services.ts';

let svc: TestServices;
beforeAll(async () => {
  svc = await useServices();
});
afterAll(async () => svc.cleanup());

describe('partitionName', () => {
  it('names the UTC month and rolls over the year', () => {
    const dec = new Date('2026-12-31T23:59:59Z');
    expect(partitionName(dec)).toBe('event_audit_log_2026_12');
    expect(partitionName(dec, 1)).toBe('event_audit_log_2027_01');
  });
});

describe('dependency gauges', () => {
  it('report PostgreSQL up and both partitions present, then next month missing', async () => {
    const now = new Date();
    await ensurePartitions(svc.pool, now);
    const registry = new Registry();
    registerDependencyMetrics(registry, {
      redis: async () => ({ ok: (await svc.redis.ping()) === 'PONG' }),
      postgres: () => pingPostgres(svc.pool),
      auditPartitions: () => auditPartitionsPresent(svc.pool, now),
    });
    let text = await registry.metrics();
    expect(text).toMatch(/^mutt_redis_up 1$/m);
    expect(text).toMatch(/^mutt_postgres_up 1$/m);
    expect(text).toMatch(/^mutt_audit_partition_present\{month="current"\} 1$/m);
    expect(text).toMatch(/^mutt_audit_partition_present\{month="next"\} 1$/m);

    // A partition that exists as a table but is not attached does not count.
    const next = partitionName(now, 1);
    await svc.pool.query(`ALTER TABLE event_audit_log DETACH PARTITION ${next}`);
    text = await registry.metrics();
    expect(text).toMatch(/^mutt_audit_partition_present\{month="next"\} 0$/m);
    await svc.pool.query(`DROP TABLE ${next}`);
    text = await registry.metrics();
    expect(text).toMatch(/^mutt_audit_partition_present\{month="current"\} 1$/m);
    expect(text).toMatch(/^mutt_audit_partition_present\{month="next"\} 0$/m);
    await ensurePartitions(svc.pool, now);
    expect(await auditPartitionsPresent(svc.pool, now)).toEqual({ current: true, next: true });
  });

  it('report PostgreSQL down and no partition sample while it does not answer', async () => {
    const dead = new pg.Pool({
      host: '127.0.0.1',
      port: await freePort(),
      user: 'x',
      connectionTimeoutMillis: 500,
    });
    const registry = new Registry();
    registerDependencyMetrics(registry, {
      redis: async () => ({ ok: false }),
      postgres: () => pingPostgres(dead),
      auditPartitions: () => auditPartitionsPresent(dead),
    });
    const text = await registry.metrics();
    expect(text).toMatch(/^mutt_redis_up 0$/m);
    expect(text).toMatch(/^mutt_postgres_up 0$/m);
    expect(text).not.toMatch(/^mutt_audit_partition_present\{/m);
    await dead.end();
  });
});
