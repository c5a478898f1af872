import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRedisServer, MissingBinariesError, requireBinaries } from './binaries.ts';

const NOWHERE = {
  redisDirs: [],
  pgVersionRoots: ['/nonexistent'],
  pgVersionPrefixRoot: '/nonexistent',
  pgDirs: [],
};

describe('requireBinaries', () => {
  it('names the Debian and RHEL packages in one message when both are missing', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => requireBinaries({ redis: true, postgres: true }, NOWHERE)).toThrow(MissingBinariesError);
      try {
        requireBinaries({ redis: true, postgres: true }, NOWHERE);
      } catch (err) {
        expect((err as Error).message).toBe(
          'MUTT runs a private redis-server (or valkey-server) and PostgreSQL (postgres, initdb) when no external server is configured, but cannot find it. ' +
            'Install it with "apt-get install redis-server postgresql" (Debian/Ubuntu) or "dnf install redis postgresql-server" (RHEL/Fedora; valkey instead of redis on RHEL 10), ' +
            'or point MUTT at existing servers with REDIS_HOST / DB_HOST.',
        );
        expect((err as MissingBinariesError).missing).toEqual(['redis', 'postgres']);
      }
      try {
        requireBinaries({ redis: false, postgres: true }, NOWHERE);
      } catch (err) {
        expect((err as Error).message).toContain('"apt-get install postgresql"');
        expect((err as Error).message).toContain('"dnf install postgresql-server"');
      }
    } finally {
      process.env.PATH = path;
    }
  });

  it("takes Valkey's valkey-server when there is no redis-server", () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutt-bin-'));
    writeFileSync(join(dir, 'valkey-server'), '#!/bin/sh\n');
    chmodSync(join(dir, 'valkey-server'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(findRedisServer({ ...NOWHERE, redisDirs: [dir] })).toBe(join(dir, 'valkey-server'));
    } finally {
      process.env.PATH = path;
    }
  });

  it('asks for nothing when external servers are configured', () => {
    expect(requireBinaries({ redis: false, postgres: false }, NOWHERE)).toEqual({
      redisServer: undefined,
      pgBinDir: undefined,
    });
  });

  it('finds the installed servers', () => {
    const found = requireBinaries({ redis: true, postgres: true });
    expect(found.redisServer).toMatch(/redis-server$/);
    expect(found.pgBinDir).toBeDefined();
  });
});
