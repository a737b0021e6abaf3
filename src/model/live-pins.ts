// The pins a strategy's machine knows, in the order they were taken
// (exit, kill and the end of the trace walk them in that order, and the
// findings' order follows). An intrusive list: taking and releasing a pin
// allocates nothing, where a Map keyed by handle churned its table.
import type { Pin } from './pin.js';

export class LivePins {
  private head: Pin | null = null;
  private tail: Pin | null = null;
  size = 0;

  add(p: Pin): void {
    p.livePrev = this.tail;
    p.liveNext = null;
    if (this.tail) this.tail.liveNext = p;
    else this.head = p;
    this.tail = p;
    p.live = true;
    this.size++;
  }

  remove(p: Pin): void {
    if (!p.live) return;
    if (p.livePrev) p.livePrev.liveNext = p.liveNext;
    else this.head = p.liveNext;
    if (p.liveNext) p.liveNext.livePrev = p.livePrev;
    else this.tail = p.livePrev;
    p.livePrev = p.liveNext = null;
    p.live = false;
    this.size--;
  }

  /** A snapshot, oldest first (callers may release pins while walking it). */
  values(): Pin[] {
    const out: Pin[] = [];
    for (let p = this.head; p !== null; p = p.liveNext) out.push(p);
    return out;
  }
}
