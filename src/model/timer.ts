// Timers of one strategy's replay (lease-break deadlines, notified
// releases, odp waits for DMA in flight): a min-heap by time, ties broken
// by arming order so firing is deterministic.
import { MinHeap } from './min-heap.js';

export interface Timer<T> {
  t: number;
  what: T;
}

export class TimerQueue<T> {
  private readonly heap = new MinHeap<Timer<T>>();

  get size(): number {
    return this.heap.size;
  }

  /** Time of the next timer, or +Infinity. */
  get next(): number {
    return this.heap.minKey;
  }

  arm(t: number, what: T): void {
    this.heap.push(t, { t, what });
  }

  /** Drops timers that no longer matter. */
  compact(keep: (what: T) => boolean): void {
    this.heap.retain((x) => keep(x.what));
  }

  pop(): Timer<T> | undefined {
    return this.heap.pop();
  }
}
