// A Map bounded by entry count that evicts the least recently used entry. Every per-peer cache of
// the SNMP listener (localized USM keys, engine times, reverse DNS, inform duplicates) is one, so no
// sender can make MUTT's memory grow by inventing engine IDs or addresses.
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  max: number;
  /** Entries evicted to stay within `max`. */
  evictions = 0;

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  /** Reads without refreshing the entry's recency. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
      this.evictions++;
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
