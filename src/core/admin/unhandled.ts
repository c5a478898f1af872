// The noisiest messages no rule handles, for the dashboard's "make a rule from this": the unhandled
// counters (`mutt:unhandled:<hostname>:<sig>` and their `:triggered` markers, MUTT's and Python's
// alike) grouped by signature, joined with a sample message from the alerter's recent-events list
// (the counters hold only a hash), and a suggested rule that matches that kind of message.
//
// The SCAN is bounded (maxKeys): on a Redis with more counters than that, the answer says it saw
// only part of them (`complete: false`) instead of walking the whole keyspace for one page view.
import { parseEvent } from '../alerter/event.ts';
import { messageTemplate, unhandledSignature } from '../alerter/template.ts';
import type { AdminContext } from './context.ts';
import { redisCall } from './context.ts';

export interface UnhandledSignature {
  signature: string;
  /** Unhandled events counted in the current window, over every host (a triggered one counts its threshold). */
  count: number;
  hosts: { hostname: string; count: number; triggered: boolean }[];
  /** A meta-alert was raised for at least one host (the counter reached the threshold). */
  triggered: boolean;
  /** A recent message with this signature (null when none is in the recent-events sample). */
  sample: { hostname: string; message: string; correlation_id: string } | null;
  /** The message's template (what varies masked), when a sample is known. */
  template: string | null;
  /** A rule that matches this kind of message, for the rule form. */
  suggestion: { match_type: 'contains' | 'regex'; match_string: string } | null;
}

export interface UnhandledReport {
  signatures: UnhandledSignature[];
  /** Counter keys read. */
  keys: number;
  /** False when the scan stopped at maxKeys. */
  complete: boolean;
}

const SIG = /^[0-9a-f]{16}$/;
const MASK = /<(?:uuid|mac|ip|hex|n)>/g;
const MASK_PATTERN: Record<string, string> = {
  '<n>': '[0-9]+',
  '<ip>': '[0-9A-Fa-f:./]+',
  '<mac>': '[0-9A-Fa-f:.-]+',
  '<hex>': '[0-9A-Fa-fx]+',
  '<uuid>': '[0-9A-Fa-f-]+',
};
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A rule matching messages of this template: `contains` the message when nothing in it varies,
 * else a regex of the template with each masked part as a character class (at most 255 characters,
 * cut at a part boundary: the alerter's regexes search, so a prefix still matches).
 */
export function suggestRule(
  message: string,
  template: string,
): { match_type: 'contains' | 'regex'; match_string: string } {
  if (!/<(?:uuid|mac|ip|hex|n)>/.test(template))
    return { match_type: 'contains', match_string: message.trim().slice(0, 255) };
  const parts: string[] = [];
  let last = 0;
  for (const m of template.matchAll(MASK)) {
    parts.push(reEscape(template.slice(last, m.index)), MASK_PATTERN[m[0]]!);
    last = m.index + m[0].length;
  }
  parts.push(reEscape(template.slice(last)));
  let out = '';
  for (const p of parts) {
    if (out.length + p.length > 255) break;
    out += p;
  }
  return { match_type: 'regex', match_string: out.trim() };
}

export async function topUnhandled(
  ctx: AdminContext,
  o: { limit?: number; maxKeys?: number } = {},
): Promise<UnhandledReport> {
  const limit = o.limit ?? 10;
  const maxKeys = o.maxKeys ?? 20_000;
  const prefix = ctx.keys.unhandled('', '').slice(0, -2); // `<prefix>:` + `` + `:` + `` → `<prefix>`
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
  const { keys, complete } = await redisCall(async () => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await ctx.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0' && found.length < maxKeys);
    return { keys: found.slice(0, maxKeys), complete: cursor === '0' && found.length <= maxKeys };
  });
  const parsed: { key: string; hostname: string; sig: string; triggered: boolean }[] = [];
  for (const key of keys) {
    let rest = key.slice(prefix.length + 1);
    const triggered = rest.endsWith(':triggered');
    if (triggered) rest = rest.slice(0, -':triggered'.length);
    const i = rest.lastIndexOf(':');
    const sig = rest.slice(i + 1);
    if (i < 0 || !SIG.test(sig)) continue;
    parsed.push({ key, hostname: rest.slice(0, i), sig, triggered });
  }
  const values: (string | null)[] = [];
  for (let i = 0; i < parsed.length; i += 1000) {
    const chunk = parsed.slice(i, i + 1000).map((p) => p.key);
    values.push(...(await redisCall(() => ctx.redis.mget(...chunk))));
  }
  const bySig = new Map<string, UnhandledSignature>();
  parsed.forEach((p, i) => {
    const n = Number(values[i] ?? 0);
    const count = Number.isFinite(n) ? n : 0;
    let s = bySig.get(p.sig);
    if (!s) {
      s = {
        signature: p.sig,
        count: 0,
        hosts: [],
        triggered: false,
        sample: null,
        template: null,
        suggestion: null,
      };
      bySig.set(p.sig, s);
    }
    s.count += count;
    s.triggered ||= p.triggered;
    const h = s.hosts.find((x) => x.hostname === p.hostname);
    if (h) {
      h.count += count;
      h.triggered ||= p.triggered;
    } else s.hosts.push({ hostname: p.hostname, count, triggered: p.triggered });
  });
  const top = [...bySig.values()].sort((a, b) => b.count - a.count).slice(0, limit);
  for (const s of top) s.hosts.sort((a, b) => b.count - a.count);

  // Sample messages: the recent events whose signature is one of the top ones.
  const wanted = new Set(top.map((s) => s.signature));
  if (wanted.size > 0) {
    const recent = await redisCall(() => ctx.redis.lrange(ctx.keys.recentEvents, 0, -1));
    const mode = ctx.config.UNHANDLED_SIGNATURE;
    for (const raw of recent) {
      const p = parseEvent(raw, []);
      if (!p.ok) continue;
      const sig = unhandledSignature(p.event.message, mode);
      if (!wanted.has(sig)) continue;
      wanted.delete(sig);
      const s = bySig.get(sig)!;
      const template = mode === 'exact' ? p.event.message : messageTemplate(p.event.message);
      s.sample = {
        hostname: p.event.hostname,
        message: p.event.message.slice(0, 2000),
        correlation_id: p.event.correlationId,
      };
      s.template = template.slice(0, 2000);
      s.suggestion = suggestRule(p.event.message, template);
      if (wanted.size === 0) break;
    }
  }
  return { signatures: top, keys: parsed.length, complete };
}
