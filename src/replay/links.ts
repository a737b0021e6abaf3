// Causal links: the (index, type, ts, file, pid) of an event that a
// finding's chain names. One per event, shared by every strategy.
import type { IndexedEvent } from '../trace/events.js';
import { PinRequest } from '../model/pin.js';
import type { CauseLink } from './types.js';

/** The link of the event numbered `index`, of `type`, at `ts`, before any file or pid. */
export function eventLink(index: number, type: IndexedEvent['type'], ts: number): CauseLink {
  return { index, type, ts };
}

export function linkOf(ev: IndexedEvent): CauseLink {
  const l = eventLink(ev.index, ev.type, ev.ts);
  // dma, unpin and device name no file or process: a `file` or `pid` on
  // one is an unknown field, ignored (the wire to a worker drops it too).
  if (ev.type === 'dma' || ev.type === 'unpin' || ev.type === 'device') return l;
  // Plain loads, not `in`: a keyed has-check on events of a dozen shapes is V8's slowest path.
  const { file, pid } = ev as { file?: unknown; pid?: unknown };
  if (typeof file === 'string') l.file = file;
  if (typeof pid === 'number') l.pid = pid;
  return l;
}

/**
 * The causal link of the event being replayed, built once and shared by
 * every strategy (links are never mutated).
 */
export class LinkCache {
  // Keyed by the event's index, not the object: the wire refills one object per event type.
  private index = -1;
  private l: CauseLink | null = null;
  private reqIndex = -1;
  private req: PinRequest | null = null;
  get(ev: IndexedEvent): CauseLink {
    if (this.index !== ev.index) {
      this.index = ev.index;
      this.l = linkOf(ev);
    }
    return this.l!;
  }

  pinRequest(ev: Extract<IndexedEvent, { type: 'pin' }>, pageSize: number): PinRequest {
    if (this.reqIndex !== ev.index) {
      const v0 = Math.floor(ev.addr / pageSize);
      const n = Math.floor((ev.addr + ev.len - 1) / pageSize) - v0 + 1;
      this.reqIndex = ev.index;
      this.req = new PinRequest(ev.pin, ev.pid, ev.longterm ?? false, ev.write ?? false, ev.addr, ev.len, v0, n, this.get(ev),
        ev.addr - v0 * pageSize);
    }
    return this.req!;
  }
}
