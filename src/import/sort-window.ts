// bpftrace hands over events per CPU buffer, so a capture is sorted by ts
// only roughly: an event printed on CPU 1 may come after later events of
// CPU 0, and a probe that prints on return (a truncate, with its entry
// time) comes after everything that happened meanwhile. A bounded window
// restores order: an event is released once the newest ts seen is more
// than `windowNs` past it, so memory holds only the window's events (a
// min-heap on (ts, arrival)). An event arriving older than one
// already released fell outside the window: the caller decides (error, or
// a counted drop under --lenient).

import { MinHeap } from '../model/min-heap.js';

export interface Timed {
  ts: number;
}

export interface SortWindowStats {
  /** Events that arrived after a later-stamped event and were placed before it. */
  moved: number;
  /** Events older than one already released (outside the window). */
  outside: number;
  /** Largest number of events held at once. */
  max_held: number;
  /** Largest lateness seen among events that arrived out of order, ns. */
  max_lateness_ns: number;
}

export class SortWindow<T extends Timed> {
  private readonly heap = new MinHeap<T>();
  private newest = -Infinity;
  private released = -Infinity;
  readonly stats: SortWindowStats = { moved: 0, outside: 0, max_held: 0, max_lateness_ns: 0 };

  constructor(readonly windowNs: number) {}

  /**
   * Adds an event; returns the events it releases, in order. Returns null
   * (and keeps nothing) if the event is older than one already released.
   */
  push(item: T): T[] | null {
    const ts = item.ts;
    if (ts < this.released) {
      this.stats.outside++;
      return null;
    }
    if (ts < this.newest) {
      this.stats.moved++;
      this.stats.max_lateness_ns = Math.max(this.stats.max_lateness_ns, this.newest - ts);
    } else {
      this.newest = ts;
    }
    this.heap.push(ts, item);
    if (this.heap.size > this.stats.max_held) this.stats.max_held = this.heap.size;
    const out: T[] = [];
    const horizon = this.newest - this.windowNs;
    while (this.heap.minKey < horizon) out.push(this.pop());
    return out;
  }

  /** How late (ns) an event is compared with the last one released; for messages. */
  lateness(ts: number): number {
    return this.released - ts;
  }

  /** Releases everything held, in order (end of input). */
  drain(): T[] {
    const out: T[] = [];
    while (this.heap.size > 0) out.push(this.pop());
    return out;
  }

  get held(): number {
    return this.heap.size;
  }

  private pop(): T {
    this.released = this.heap.minKey;
    return this.heap.pop()!;
  }
}
