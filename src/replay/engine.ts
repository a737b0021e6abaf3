// The replay: one pass over the trace; each event is fed, in trace order,
// to every selected strategy's own copy of the machine. Timers of a
// strategy fire before the first event whose ts is past them.
import type { IndexedEvent } from '../trace/events.js';
import { HandleTable } from '../trace/handle-table.js';
import type { StrategyCollector } from '../analysis/collector.js';
import { policyFor } from '../strategies/index.js';
import { FAST_DROP, FAST_READ, FAST_WRITE, type FastDmaFlags } from '../model/pin.js';
import { dma } from './dma.js';
import { pin, unpin } from './pins.js';
import { LinkCache, StrategyReplay } from './state.js';
import type { FindingSink, StrategyId } from './types.js';

/** The pin handle of a pin, dma or unpin event. */
type Handle = { pin: number };

export interface ReplayOptions {
  pageSize: number;
  leaseBreakNs: number;
}

export class Replay {
  readonly states: StrategyReplay[];
  private readonly observers: (StrategyCollector[] | null)[];
  private readonly observed: boolean;
  lastTs: number | null = null;
  /** Live pin handle -> (pid, slot): the trace's own pins, as the validator sees them. */
  private readonly slots = new HandleTable();
  /** Slots handed out so far; a pin takes a freed one first. */
  private slotCount = 0;
  private readonly freeSlots: number[] = [];
  /** Per slot, a byte per strategy: a DMA there does nothing (FastDmaFlags); used when no collector observes events. */
  private readonly fast: FastDmaFlags = { bytes: new Uint8Array(64) };
  /** The earliest timer of any strategy: a DMA before it need not ask each strategy. */
  private minDue = Infinity;

  /** `sinks[i]` receive strategy i's findings; collectors with observe() also see every event. */
  constructor(
    readonly strategies: StrategyId[],
    opts: ReplayOptions,
    sinks: FindingSink[][],
  ) {
    const links = new LinkCache();
    this.states = strategies.map((s, i) => new StrategyReplay(policyFor(s), opts, sinks[i] ?? [], links));
    this.observers = (sinks.length ? sinks : strategies.map(() => [])).map((list) => {
      const obs = (list as Partial<StrategyCollector>[]).filter((c) => typeof c.observe === 'function') as StrategyCollector[];
      return obs.length ? obs : null;
    });
    this.observed = this.observers.some((o) => o !== null);
    if (!this.observed) {
      this.states.forEach((st, i) => {
        st.fastDma = this.fast;
        st.fastIndex = i;
        st.fastStride = this.states.length;
      });
    }
  }

  /**
   * The slot of the pin an event names: every strategy keeps its pins in
   * an array by slot, so the handle is hashed once per event, not once per
   * strategy. A pin takes a free slot; unpin and exit give them back.
   */
  private slotOf(type: IndexedEvent['type'], ev: IndexedEvent): number {
    // `type` is ev.type, loaded once by the caller: a load that sees every
    // event shape is megamorphic; these per-case loads see one type's shapes.
    // Slots are small integers, read back from a Float64Array: `| 0` keeps
    // them Smis, where unoptimized code would box each one, and the first box
    // stored in Pin.slot made that field a double, boxed in every Pin.
    switch (type) {
      case 'dma':
        return this.slotOfLive((ev as Handle).pin);
      case 'pin': {
        const { pin, pid } = ev as Handle & { pid: number };
        const slot = this.freeSlots.pop() ?? this.slotCount++;
        this.slots.add(pin, pid, slot);
        const n = this.states.length;
        if ((slot + 1) * n > this.fast.bytes.length) {
          const bigger = new Uint8Array(Math.max(2 * this.fast.bytes.length, (slot + 1) * n));
          bigger.set(this.fast.bytes);
          this.fast.bytes = bigger;
        }
        this.fast.bytes.fill(0, slot * n, (slot + 1) * n);
        return slot;
      }
      case 'unpin': {
        const { pin } = ev as Handle;
        const at = this.slots.find(pin);
        const slot = this.slots.second(at) | 0;
        this.slots.removeAt(at);
        this.freeSlots.push(slot);
        return slot;
      }
      case 'exit': {
        const { pid } = ev as { pid: number };
        const freed: number[] = [];
        for (const h of this.slots.handlesWithFirst(pid)) {
          const at = this.slots.find(h);
          freed.push(this.slots.second(at) | 0);
          this.slots.removeAt(at);
        }
        // Freed lowest first, as they always were: later pins take the same slots.
        for (const slot of freed.sort((a, b) => a - b)) this.freeSlots.push(slot);
        return -1;
      }
      default:
        return -1;
    }
  }

  /** The slot of a live pin handle. */
  private slotOfLive(handle: number): number {
    return this.slots.second(this.slots.find(handle)) | 0;
  }

  /** Replays one event. The event is the replay's only during the call (the wire refills one object per type): state keeps links and requests built from it, never the event. */
  feed(ev: IndexedEvent): void {
    const ts = ev.ts;
    const type = ev.type;
    const states = this.states;
    const n = states.length;
    const slot = this.slotOf(type, ev);
    if (this.observed) {
      for (let i = 0; i < n; i++) {
        const st = states[i]!;
        if (st.timers.next < ts) st.fireBefore(ts);
        st.apply(ev, slot);
        const obs = this.observers[i];
        if (obs) {
          const g = st.gauges();
          for (const o of obs) o.observe!(ev, g);
        }
      }
      this.lastTs = ts;
      return;
    }
    // Strategies are independent: each one's timers fire before it sees
    // the event, and the event's type is looked at once, not per strategy.
    const due = this.minDue < ts;
    if (due) {
      for (let i = 0; i < n; i++) {
        const st = states[i]!;
        if (st.timers.next < ts) st.fireBefore(ts);
      }
    }
    switch (type) {
      case 'dma': {
        // Most DMA goes through settled pins and does nothing: one byte per strategy says so.
        const write = ev.dir === 'write';
        const need = write ? FAST_WRITE : FAST_READ;
        const bytes = this.fast.bytes;
        const row = slot * n;
        for (let i = 0; i < n; i++) {
          const b = bytes[row + i]!;
          if ((b & need) !== 0) continue;
          if (b === FAST_DROP) states[i]!.dropped++;
          else dma(states[i]!, ev, slot, write);
        }
        // A DMA arms no timer: the earliest stays unless some fired.
        if (due) this.refreshDue();
        this.lastTs = ts;
        return;
      }
      case 'pin':
        for (let i = 0; i < n; i++) pin(states[i]!, ev, slot);
        break;
      case 'unpin':
        for (let i = 0; i < n; i++) unpin(states[i]!, slot, ts);
        break;
      default:
        for (let i = 0; i < n; i++) states[i]!.apply(ev, slot);
    }
    this.refreshDue();
    this.lastTs = ts;
  }

  /**
   * A dma event off the wire, before it is decoded: true when every
   * strategy would skip it or only count it dropped (no timer due; in each,
   * a settled pin or one whose DMA is dropped), so it need not be built
   * (WireDecoder). Otherwise feed() takes it.
   */
  skipDma(ts: number, pin: number, write: boolean): boolean {
    if (this.observed || this.minDue < ts) return false;
    const n = this.states.length;
    const row = this.slotOfLive(pin) * n;
    const need = write ? FAST_WRITE : FAST_READ;
    const bytes = this.fast.bytes;
    for (let i = 0; i < n; i++) {
      const b = bytes[row + i]!;
      if ((b & need) === 0 && b !== FAST_DROP) return false;
    }
    for (let i = 0; i < n; i++) if (bytes[row + i] === FAST_DROP) this.states[i]!.dropped++;
    this.lastTs = ts;
    return true;
  }

  private refreshDue(): void {
    let min = Infinity;
    for (const st of this.states) {
      const t = st.timers.next;
      if (t < min) min = t;
    }
    this.minDue = min;
  }

  feedBatch(batch: IndexedEvent[]): void {
    for (let i = 0; i < batch.length; i++) this.feed(batch[i]!);
  }

  /** Fires the remaining timers and reports what is still pending; `lastTs` defaults to the last event fed. */
  finish(lastTs: number | null = this.lastTs): void {
    for (const st of this.states) st.finish(lastTs);
  }

  /** Every strategy's model invariants (for tests). */
  checkInvariants(): void {
    for (const st of this.states) st.checkInvariants();
  }
}
