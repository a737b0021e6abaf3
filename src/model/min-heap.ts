// A binary min-heap ordered by (key, arrival): equal keys leave in the
// order they came, so whatever leaves it (timers firing, events the
// importer releases) is deterministic.
interface Slot<T> {
  key: number;
  seq: number;
  item: T;
}

export class MinHeap<T> {
  // Never reassigned: V8 treats it as a constant field, and code optimized
  // on that (every timer check) would be thrown away the first time it changed.
  private readonly h: Slot<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.h.length;
  }

  /** Key of the smallest item, or +Infinity when empty. */
  get minKey(): number {
    return this.h.length > 0 ? this.h[0]!.key : Infinity;
  }

  /** The smallest item (undefined when empty). */
  peek(): T | undefined {
    return this.h[0]?.item;
  }

  push(key: number, item: T): void {
    const h = this.h;
    h.push({ key, seq: this.seq++, item });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Keeps only the items `keep` accepts; their order is unchanged (a sorted array is a valid heap). */
  retain(keep: (item: T) => boolean): void {
    const h = this.h;
    let n = 0;
    for (let i = 0; i < h.length; i++) if (keep(h[i]!.item)) h[n++] = h[i]!;
    h.length = n;
    h.sort((a, b) => a.key - b.key || a.seq - b.seq);
  }

  pop(): T | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.item;
  }
}

function less<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.key < b.key || (a.key === b.key && a.seq < b.seq);
}
