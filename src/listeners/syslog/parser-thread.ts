// The syslog parser thread (bundled as dist/syslog-parser.js): turns batches of frames into event
// JSON, in the order received, for the listeners on the main thread (encoder.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { encodeFrame } from './intake.ts';
import type { ParseReply, ParseRequest } from './encoder.ts';

const port = parentPort;
if (!port) throw new Error('the syslog parser runs only in a worker thread');
const { tz } = workerData as { tz: string };

port.on('message', (r: ParseRequest) => {
  const data = Buffer.from(r.data);
  const counts = { parseErrors: 0 };
  const events: string[] = new Array<string>(r.ends.length);
  let start = 0;
  for (let i = 0; i < r.ends.length; i++) {
    const end = r.ends[i]!;
    events[i] = encodeFrame(
      {
        buf: data.subarray(start, end),
        truncated: r.truncated[i] === 1,
        sourceIp: r.sourceIps[i]!,
        fallbackHost: r.hosts[i]!,
        now: r.now[i]!,
      },
      tz,
      counts,
    );
    start = end;
  }
  const reply: ParseReply = { id: r.id, events, parseErrors: counts.parseErrors };
  port.postMessage(reply);
});
