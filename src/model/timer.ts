// Timers of one strategy's replay (lease-break deadlines, notified
// releases, odp waits for DMA in flight): a binary min-heap by time, ties
// broken by arming order so firing is deterministic.
export interface Timer<T> {
  t: number;
  seq: number;
  what: T;
}

export class TimerQueue<T> {
  private heap: Timer<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Time of the next timer, or +Infinity. */
  get next(): number {
    return this.heap.length ? this.heap[0]!.t : Infinity;
  }

  arm(t: number, what: T): void {
    const h = this.heap;
    h.push({ t, seq: this.seq++, what });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Drops timers that no longer matter; a sorted array is a valid heap. */
  compact(keep: (what: T) => boolean): void {
    this.heap = this.heap.filter((x) => keep(x.what)).sort((a, b) => a.t - b.t || a.seq - b.seq);
  }

  pop(): Timer<T> | undefined {
    const h = this.heap;
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
    return top;
  }
}

function less<T>(a: Timer<T>, b: Timer<T>): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
