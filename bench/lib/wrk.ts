// wrk (Debian package): closed-loop HTTP load from a C process, so the generator costs little CPU.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  non2xx: number;
  errors: number;
  p50ms: number;
  p99ms: number;
}

const toMs = (v: string, unit: string) => Number(v) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);

export function parseWrk(out: string): WrkResult {
  const m = /(\d+) requests in ([\d.]+)(m?s)/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const lat = (p: string) => {
    const x = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    return x ? toMs(x[1]!, x[2]!) : Number.NaN;
  };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (!m || !rps) throw new Error(`cannot parse wrk output:\n${out}`);
  return {
    requests: Number(m[1]),
    seconds: Number(m[2]) * (m[3] === 'ms' ? 0.001 : 1),
    rps: Number(rps[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    p50ms: lat('50'),
    p99ms: lat('99'),
  };
}

/** Writes a wrk Lua script that POSTs `body` with `headers`. */
export function postScript(dir: string, name: string, body: string, headers: Record<string, string>): string {
  const file = join(dir, `${name}.lua`);
  const lines = ['wrk.method = "POST"', `wrk.body = ${luaString(body)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${luaString(k)}] = ${luaString(v)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function runWrk(o: {
  url: string;
  script: string;
  threads: number;
  connections: number;
  seconds: number;
}): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const args = [
      '-t',
      String(o.threads),
      '-c',
      String(o.connections),
      '-d',
      `${o.seconds}s`,
      '--latency',
      '-s',
      o.script,
      o.url,
    ];
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) reject(new Error(`wrk exited ${code}:\n${out}`));
      else {
        try {
          resolve(parseWrk(out));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
    });
  });
}
