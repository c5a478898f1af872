import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sinkConformance } from '../conformance.ts';
import { FileSink } from './index.ts';

sinkConformance('file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mutt-file-sink-'));
  const path = join(dir, 'out', 'alerts.jsonl');
  const lines = () => {
    try {
      return readFileSync(path, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  const events = () => lines().map((l) => JSON.parse(l) as Record<string, unknown>);
  const opts = { batchSize: 100, agentLocation: 'test', defaultTeam: 'NETO' };
  return {
    working: async () => new FileSink({ path, ...opts }),
    broken: async () => {
      // A directory where the file should be: every write fails, as on a full or read-only disk
      // (permissions would not do: the tests may run as root).
      const blocked = join(dir, 'blocked', 'alerts.jsonl');
      mkdirSync(blocked, { recursive: true });
      return new FileSink({ path: blocked, ...opts });
    },
    deliveredIds: async () => events().map((e) => String(e.external_id)),
    storedDescriptions: async () => new Map(events().map((e) => [String(e.external_id), e.description])),
    storedText: async () => lines().join('\n'),
    secrets: ['file-sink-has-no-credential-0xdeadbeef'],
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
