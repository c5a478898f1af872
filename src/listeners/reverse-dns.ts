// Reverse DNS for events whose sender names no host (SYSLOG_REVERSE_DNS, SNMP_REVERSE_DNS): the system
// resolver (getnameinfo: /etc/hosts, then DNS, as operators expect from their NOC's hosts files),
// cached five minutes per address in a bounded LRU, one second at most per lookup and 16 lookups at
// once (the rest use the address), so a flood from new addresses can neither stall a listener nor
// exhaust libuv's thread pool. Shared by the syslog and SNMP listeners.
import { lookupService } from 'node:dns/promises';
import { LruMap } from './snmp/lru.ts';

const TTL_MS = 300_000;

export class HostNames {
  readonly enabled: boolean;
  private readonly cache: LruMap<string, { name: string; at: number }>;
  private inFlight = 0;

  constructor(enabled: boolean, max = 10_000) {
    this.enabled = enabled;
    this.cache = new LruMap(max);
  }

  get size(): number {
    return this.cache.size;
  }

  /** The cached name of `ip`, or undefined when it must be looked up. */
  cached(ip: string): string | undefined {
    if (!this.enabled) return ip;
    const hit = this.cache.get(ip);
    return hit && Date.now() - hit.at < TTL_MS ? hit.name : undefined;
  }

  async resolve(ip: string): Promise<string> {
    const hit = this.cached(ip);
    if (hit !== undefined) return hit;
    if (this.inFlight >= 16) return ip;
    this.inFlight++;
    let name = ip;
    try {
      const r = await Promise.race([
        lookupService(ip, 0),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000).unref()),
      ]);
      if (r?.hostname) name = r.hostname;
    } catch {
      // no name for this address: the address is the name
    } finally {
      this.inFlight--;
    }
    this.cache.set(ip, { name, at: Date.now() });
    return name;
  }
}
