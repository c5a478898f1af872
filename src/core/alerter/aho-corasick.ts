// Aho–Corasick over UTF-16 code units: every pattern occurring in a text in one pass, so a thousand
// `contains` rules cost one scan of the message rather than a thousand substring searches.
export class AhoCorasick {
  /** goto[state] : char code → next state. */
  private readonly next: Map<number, number>[] = [new Map<number, number>()];
  private readonly fail: number[] = [0];
  /** Pattern ids ending at a state, including those reached by failure links. */
  private readonly out: number[][] = [[]];

  constructor(patterns: readonly string[]) {
    patterns.forEach((p, id) => {
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let t = this.next[s]!.get(c);
        if (t === undefined) {
          t = this.next.length;
          this.next.push(new Map<number, number>());
          this.fail.push(0);
          this.out.push([]);
          this.next[s]!.set(c, t);
        }
        s = t;
      }
      this.out[s]!.push(id);
    });
    // Breadth-first: failure links of a state are final before its children are linked.
    const queue: number[] = [];
    for (const t of this.next[0]!.values()) queue.push(t);
    for (let h = 0; h < queue.length; h++) {
      const s = queue[h]!;
      for (const [c, t] of this.next[s]!) {
        let f = this.fail[s]!;
        while (f !== 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const g = this.next[f]!.get(c);
        this.fail[t] = g !== undefined && g !== t ? g : 0;
        const inherited = this.out[this.fail[t]]!;
        if (inherited.length > 0) this.out[t] = [...this.out[t]!, ...inherited];
        queue.push(t);
      }
    }
  }

  /** Calls `found(id)` for each occurrence of each pattern (an id may repeat). */
  scan(text: string, found: (id: number) => void): void {
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let t = this.next[s]!.get(c);
      while (t === undefined && s !== 0) {
        s = this.fail[s]!;
        t = this.next[s]!.get(c);
      }
      s = t ?? 0;
      const o = this.out[s]!;
      for (let k = 0; k < o.length; k++) found(o[k]!);
    }
  }
}
