import { freePort } from '../../../../test/harness/ports.ts';
import { MockMoogsoft } from '../../../../test/harness/mock-moogsoft.ts';
import { sinkConformance } from '../conformance.ts';
import { MoogsoftSink } from './index.ts';
import type { MoogsoftOptions } from './config.ts';

const TOKEN = 'conformance-token-9f8e7d';

const options = (url: string, over: Partial<MoogsoftOptions> = {}): MoogsoftOptions => ({
  url,
  payload: 'batch',
  batchSize: 100,
  timeoutMs: 2000,
  auth: { mode: 'bearer', token: TOKEN },
  tlsVerify: true,
  maxSockets: 4,
  agentLocation: 'test-node',
  defaultTeam: 'NETO',
  maxResponseBytes: 64 * 1024,
  ...over,
});

sinkConformance('moogsoft', async () => {
  const mock = await MockMoogsoft.start({ auth: { bearer: TOKEN } });
  const nowhere = `http://127.0.0.1:${await freePort()}/events`;
  const events = () => mock.acceptedEvents();
  return {
    working: async () => new MoogsoftSink(options(mock.url)),
    broken: async () => new MoogsoftSink(options(nowhere)),
    deliveredIds: async () => mock.acceptedIds(),
    storedDescriptions: async () => new Map(events().map((e) => [String(e.external_id), e.description])),
    storedText: async () =>
      events()
        .map((e) => JSON.stringify(e))
        .join('\n'),
    secrets: [TOKEN],
    cleanup: () => mock.close(),
  };
});
