// Open-loop HTTP/1.1 load at a fixed rate over keep-alive connections. Latency is measured from the
// moment each request was *due*, not when it was sent, so a stalled server shows up in the
// percentiles (no coordinated omission). Requests are pre-encoded bytes written to raw sockets and
// responses are parsed minimally, so the generator itself adds little jitter or garbage.
import { connect, type Socket } from 'node:net';

export interface OpenLoopResult {
  due: number;
  ok: number;
  failed: number;
  latenciesMs: Float64Array;
}

interface Conn {
  sock: Socket;
  busy: boolean;
  index: number;
  buf: string;
}

export async function openLoop(o: {
  host: string;
  port: number;
  path: string;
  body: string;
  headers: Record<string, string>;
  rate: number;
  seconds: number;
  connections: number;
}): Promise<OpenLoopResult> {
  const head = [
    `POST ${o.path} HTTP/1.1`,
    `Host: ${o.host}:${o.port}`,
    `Content-Length: ${Buffer.byteLength(o.body)}`,
  ];
  for (const [k, v] of Object.entries(o.headers)) head.push(`${k}: ${v}`);
  const wire = Buffer.from(`${head.join('\r\n')}\r\n\r\n${o.body}`);
  const total = Math.round(o.rate * o.seconds);
  const interval = 1000 / o.rate;
  const latencies = new Float64Array(total);
  const waiting = new Int32Array(total);
  let waitHead = 0;
  let waitTail = 0;
  let ok = 0;
  let failed = 0;
  let done = 0;
  let next = 0;
  let start = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const complete = (c: Conn, status: number) => {
    latencies[c.index] = performance.now() - (start + c.index * interval);
    if (status === 200) ok++;
    else failed++;
    c.busy = false;
    if (++done === total) finish();
    else dispatch();
  };

  const conns: Conn[] = await Promise.all(
    Array.from(
      { length: o.connections },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const sock = connect(o.port, o.host);
          sock.setNoDelay(true);
          const c: Conn = { sock, busy: false, index: -1, buf: '' };
          sock.setEncoding('latin1');
          sock.on('data', (d: string) => {
            c.buf += d;
            // One response at a time per connection: status line, headers, Content-Length body.
            const end = c.buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const m = /content-length:\s*(\d+)/i.exec(c.buf.slice(0, end));
            if (!m)
              throw new Error('the server answered without Content-Length; the generator cannot frame it');
            const len = Number(m[1]);
            if (c.buf.length < end + 4 + len) return;
            const status = Number(c.buf.slice(9, 12));
            c.buf = c.buf.slice(end + 4 + len);
            complete(c, status);
          });
          sock.once('connect', () => resolve(c));
          sock.once('error', reject);
        }),
    ),
  );

  function dispatch(): void {
    for (const c of conns) {
      if (waitHead === waitTail) return;
      if (c.busy) continue;
      c.busy = true;
      c.index = waiting[waitHead++]!;
      c.sock.write(wire);
    }
  }

  start = performance.now();
  const tick = () => {
    const now = performance.now();
    while (next < total && start + next * interval <= now) waiting[waitTail++] = next++;
    dispatch();
    if (next < total) setTimeout(tick, 1);
  };
  tick();
  await finished;
  for (const c of conns) c.sock.destroy();
  return { due: total, ok, failed, latenciesMs: latencies.sort() };
}
